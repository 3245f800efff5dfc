using System.Runtime.CompilerServices;
using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu;

/// <summary>One direct-mapped TLB entry: a guest page base and the host page it maps to.</summary>
public struct TlbEntry
{
    public ulong Tag;
    public nint Host;
}

[InlineArray(TlbSize)]
public struct Tlb
{
    public const int TlbSize = 256;
    private TlbEntry _entry0;
}

/// <summary>Raised by the slow memory path; caught by <see cref="CpuState.Run"/> only.</summary>
internal sealed class GuestFaultException : Exception
{
}

// Guest memory access for the executor. The fast path is a TLB hit on an access that does
// not cross a page: one compare and one host load or store. Everything else is the slow path.
public sealed unsafe partial class CpuState
{
    private const ulong InvalidTag = 1;

    private Tlb _readTlb;
    private Tlb _writeTlb;
    private int _tlbGeneration = -1;
    private readonly GuestFaultException _fault = new();

    /// <summary>The faulting guest address after <see cref="ExitReason.PageFault"/>.</summary>
    public ulong FaultAddress { get; internal set; }

    /// <summary>The access that faulted.</summary>
    public AccessKind FaultAccess { get; internal set; }

    /// <summary>True when the page was present but the access was not permitted (SEGV_ACCERR).</summary>
    public bool FaultOnPresentPage { get; internal set; }

    public void FlushTlb()
    {
        for (var i = 0; i < Tlb.TlbSize; i++)
        {
            _readTlb[i].Tag = InvalidTag;
            _writeTlb[i].Tag = InvalidTag;
        }

        _tlbGeneration = Memory.Generation;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private nint FastRead(ulong a, uint size)
    {
        ref var e = ref Unsafe.Add(ref Unsafe.As<Tlb, TlbEntry>(ref _readTlb), (int)(a >> 12) & (Tlb.TlbSize - 1));
        return e.Tag == (a & GuestMemory.PageMask) && (a & 0xFFF) <= 0x1000 - size ? e.Host + (nint)(a & 0xFFF) : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private nint FastWrite(ulong a, uint size)
    {
        ref var e = ref Unsafe.Add(ref Unsafe.As<Tlb, TlbEntry>(ref _writeTlb), (int)(a >> 12) & (Tlb.TlbSize - 1));
        return e.Tag == (a & GuestMemory.PageMask) && (a & 0xFFF) <= 0x1000 - size ? e.Host + (nint)(a & 0xFFF) : 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Read8(ulong a)
    {
        var p = FastRead(a, 1);
        return p != 0 ? *(byte*)p : (byte)ReadSlow(a, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ushort Read16(ulong a)
    {
        var p = FastRead(a, 2);
        return p != 0 ? Unsafe.ReadUnaligned<ushort>((void*)p) : (ushort)ReadSlow(a, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Read32(ulong a)
    {
        var p = FastRead(a, 4);
        return p != 0 ? Unsafe.ReadUnaligned<uint>((void*)p) : (uint)ReadSlow(a, 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read64(ulong a)
    {
        var p = FastRead(a, 8);
        return p != 0 ? Unsafe.ReadUnaligned<ulong>((void*)p) : ReadSlow(a, 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public UInt128 Read128(ulong a)
    {
        var p = FastRead(a, 16);
        return p != 0 ? Unsafe.ReadUnaligned<UInt128>((void*)p) : new UInt128(ReadSlow(a + 8, 8), ReadSlow(a, 8));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write8(ulong a, byte v)
    {
        var p = FastWrite(a, 1);
        if (p != 0)
        {
            *(byte*)p = v;
        }
        else
        {
            WriteSlow(a, 1, v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write16(ulong a, ushort v)
    {
        var p = FastWrite(a, 2);
        if (p != 0)
        {
            Unsafe.WriteUnaligned((void*)p, v);
        }
        else
        {
            WriteSlow(a, 2, v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write32(ulong a, uint v)
    {
        var p = FastWrite(a, 4);
        if (p != 0)
        {
            Unsafe.WriteUnaligned((void*)p, v);
        }
        else
        {
            WriteSlow(a, 4, v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write64(ulong a, ulong v)
    {
        var p = FastWrite(a, 8);
        if (p != 0)
        {
            Unsafe.WriteUnaligned((void*)p, v);
        }
        else
        {
            WriteSlow(a, 8, v);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Write128(ulong a, UInt128 v)
    {
        var p = FastWrite(a, 16);
        if (p != 0)
        {
            Unsafe.WriteUnaligned((void*)p, v);
        }
        else
        {
            // Probe both halves first so a fault on the second leaves memory untouched.
            TranslateWrite(a);
            TranslateWrite(a + 15);
            WriteSlow(a, 8, (ulong)v);
            WriteSlow(a + 8, 8, (ulong)(v >> 64));
        }
    }

    /// <summary>
    /// The host address for a write of <paramref name="size"/> bytes that must be done in
    /// one host operation (LOCK-prefixed atomics). Faults like any write.
    /// </summary>
    public nint TranslateWrite(ulong a, uint size)
    {
        var p = FastWrite(a, size);
        if (p != 0)
        {
            return p;
        }

        if ((a & 0xFFF) > 0x1000 - size)
        {
            // A split atomic has no single host address; probe both pages so faults are
            // exact, then let the caller fall back to a plain read-modify-write.
            TranslateWrite(a);
            TranslateWrite(a + size - 1);
            return 0;
        }

        return TranslateWrite(a);
    }

    private nint TranslateRead(ulong a)
    {
        var host = Memory.Translate(a, AccessKind.Read);
        if (host == 0)
        {
            RaiseFault(a, AccessKind.Read);
        }

        ref var e = ref _readTlb[(int)(a >> 12) & (Tlb.TlbSize - 1)];
        e.Tag = a & GuestMemory.PageMask;
        e.Host = host - (nint)(a & 0xFFF);
        return host;
    }

    private nint TranslateWrite(ulong a)
    {
        var host = Memory.Translate(a, AccessKind.Write);
        if (host == 0)
        {
            RaiseFault(a, AccessKind.Write);
        }

        // A write may have just broken copy-on-write and moved the page: reads must follow it.
        var index = (int)(a >> 12) & (Tlb.TlbSize - 1);
        ref var r = ref _readTlb[index];
        r.Tag = a & GuestMemory.PageMask;
        r.Host = host - (nint)(a & 0xFFF);

        // Pages that still hold decoded code or are shared copy-on-write stay on the slow path.
        var pte = Memory.GetPte(a);
        if ((pte & (GuestMemory.PteCode | GuestMemory.PteCow)) == 0)
        {
            ref var e = ref _writeTlb[index];
            e.Tag = a & GuestMemory.PageMask;
            e.Host = host - (nint)(a & 0xFFF);
        }

        return host;
    }

    private void RaiseFault(ulong a, AccessKind access)
    {
        FaultAddress = a;
        FaultAccess = access;
        FaultOnPresentPage = Memory.IsMapped(a);
        throw _fault;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong ReadSlow(ulong a, uint size)
    {
        if ((a & 0xFFF) <= 0x1000 - size)
        {
            var p = TranslateRead(a);
            return size switch
            {
                1 => *(byte*)p,
                2 => Unsafe.ReadUnaligned<ushort>((void*)p),
                4 => Unsafe.ReadUnaligned<uint>((void*)p),
                _ => Unsafe.ReadUnaligned<ulong>((void*)p),
            };
        }

        ulong v = 0;
        for (var i = 0u; i < size; i++)
        {
            v |= (ulong)*(byte*)TranslateRead(a + i) << (int)(8 * i);
        }

        return v;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WriteSlow(ulong a, uint size, ulong v)
    {
        if ((a & 0xFFF) <= 0x1000 - size)
        {
            var p = TranslateWrite(a);
            switch (size)
            {
                case 1: *(byte*)p = (byte)v; break;
                case 2: Unsafe.WriteUnaligned((void*)p, (ushort)v); break;
                case 4: Unsafe.WriteUnaligned((void*)p, (uint)v); break;
                default: Unsafe.WriteUnaligned((void*)p, v); break;
            }

            return;
        }

        // Probe the last byte first so a fault on the second page leaves the first untouched.
        TranslateWrite(a + size - 1);
        for (var i = 0u; i < size; i++)
        {
            *(byte*)TranslateWrite(a + i) = (byte)(v >> (int)(8 * i));
        }
    }
}
