using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// LOCK-prefixed read-modify-write on host memory: guest threads run in parallel on host
/// threads, so a locked guest update is a compare-and-swap loop on the host address.
/// </summary>
internal static unsafe class Atomic
{
    /// <summary>Atomically applies an ALU operation to memory; the flags are those of the winning attempt.</summary>
    public static void Update<A, W>(CpuState c, ulong address, ulong src)
        where A : struct, IAluOp
        where W : IWidth
    {
        var p = c.TranslateWrite(address, (uint)(W.Bits / 8));
        if (p == 0)
        {
            // Split across pages: no host atomic exists; x86 makes it a bus lock, we make it plain.
            W.Store(c, address, A.Exec<W>(c, W.Load(c, address), src));
            return;
        }

        // ADC and SBB read CF: every attempt must start from the flags the instruction saw.
        var (flagOp, res, dst, srcFlag) = (c.FlagOp, c.FlagRes, c.FlagDst, c.FlagSrc);
        while (true)
        {
            var old = Load<W>(p);
            var r = A.Exec<W>(c, old, src);
            if (CompareExchange<W>(p, r, old))
            {
                return;
            }

            (c.FlagOp, c.FlagRes, c.FlagDst, c.FlagSrc) = (flagOp, res, dst, srcFlag);
        }
    }

    /// <summary>
    /// Atomically replaces memory with <c>M.Apply(old, arg)</c> and returns the old value,
    /// from which the caller derives the flags (INC, NEG, BTS, ... under LOCK).
    /// </summary>
    public static ulong Modify<M, W>(CpuState c, ulong address, ulong arg)
        where M : struct, IModifyOp
        where W : IWidth
    {
        var p = c.TranslateWrite(address, (uint)(W.Bits / 8));
        if (p == 0)
        {
            // Split across pages: no host atomic exists; as in Update, a plain read-modify-write.
            var v = W.Load(c, address);
            W.Store(c, address, M.Apply<W>(v, arg));
            return v;
        }

        while (true)
        {
            var old = Load<W>(p);
            if (CompareExchange<W>(p, M.Apply<W>(old, arg), old))
            {
                return old;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Load<W>(nint p)
        where W : IWidth => W.Bits switch
        {
            8 => Volatile.Read(ref *(byte*)p),
            16 => Volatile.Read(ref *(ushort*)p),
            32 => Volatile.Read(ref *(uint*)p),
            _ => Volatile.Read(ref *(ulong*)p),
        };

    /// <summary>Stores <paramref name="value"/> if memory still holds <paramref name="expected"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool CompareExchange<W>(nint p, ulong value, ulong expected)
        where W : IWidth => W.Bits switch
        {
            8 => Interlocked.CompareExchange(ref *(byte*)p, (byte)value, (byte)expected) == (byte)expected,
            16 => Interlocked.CompareExchange(ref *(ushort*)p, (ushort)value, (ushort)expected) == (ushort)expected,
            32 => Interlocked.CompareExchange(ref *(uint*)p, (uint)value, (uint)expected) == (uint)expected,
            _ => Interlocked.CompareExchange(ref *(ulong*)p, value, expected) == expected,
        };

    /// <summary>Atomically swaps in <paramref name="value"/> and returns the old contents.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Exchange<W>(nint p, ulong value)
        where W : IWidth => W.Bits switch
        {
            8 => Interlocked.Exchange(ref *(byte*)p, (byte)value),
            16 => Interlocked.Exchange(ref *(ushort*)p, (ushort)value),
            32 => Interlocked.Exchange(ref *(uint*)p, (uint)value),
            _ => Interlocked.Exchange(ref *(ulong*)p, value),
        };
}

/// <summary>A pure function from a memory operand's old value to its new one, for <see cref="Atomic.Modify{M, W}"/>.</summary>
internal interface IModifyOp
{
    static abstract ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth;
}

/// <summary>Compare-and-swap helpers that report the old value (CMPXCHG, CMPXCHG8B/16B).</summary>
internal static unsafe class AtomicCas
{
    private const int StripeCount = 64;
    private static readonly Lock[] Stripes = CreateStripes();

    /// <summary>Stores <paramref name="value"/> if memory holds <paramref name="expected"/>; returns what memory held.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong CompareExchange<W>(nint p, ulong value, ulong expected)
        where W : IWidth => W.Bits switch
        {
            8 => Interlocked.CompareExchange(ref *(byte*)p, (byte)value, (byte)expected),
            16 => Interlocked.CompareExchange(ref *(ushort*)p, (ushort)value, (ushort)expected),
            32 => Interlocked.CompareExchange(ref *(uint*)p, (uint)value, (uint)expected),
            _ => Interlocked.CompareExchange(ref *(ulong*)p, value, expected),
        };

    /// <summary>
    /// A 16-byte compare-and-swap on a 16-byte aligned host address; returns the old contents.
    /// </summary>
    /// <remarks>
    /// .NET has no 128-bit interlocked operation and we generate no native code, so this is
    /// a read-compare-write under a lock striped by host address. It is atomic with respect to
    /// other CMPXCHG16B on the same location (the stripe is chosen by the host address, so
    /// aliases and shared mappings agree) and the 16 bytes are moved with single aligned
    /// 16-byte loads and stores, which AVX-era hosts perform atomically, so plain 16-byte
    /// readers never see a torn value. It is NOT atomic against an 8-byte LOCK operation or a
    /// plain store to one half that races with it: such a write can be lost. Lock-free code
    /// that mixes 16-byte CAS with 8-byte atomics on the same words is rare.
    /// </remarks>
    public static UInt128 CompareExchange128(nint p, UInt128 value, UInt128 expected)
    {
        lock (Stripes[(int)((ulong)p >> 4) & (StripeCount - 1)])
        {
            var old = System.Runtime.Intrinsics.Vector128.LoadAligned((ulong*)p).AsUInt128();
            if (old == expected)
            {
                System.Runtime.Intrinsics.Vector128.StoreAligned(value.AsVector128(), (ulong*)p);
            }

            return old;
        }
    }

    private static Lock[] CreateStripes()
    {
        var stripes = new Lock[StripeCount];
        for (var i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new Lock();
        }

        return stripes;
    }

    private static UInt128 AsUInt128(this System.Runtime.Intrinsics.Vector128<ulong> v) =>
        new(System.Runtime.Intrinsics.Vector128.GetElement(v, 1), System.Runtime.Intrinsics.Vector128.GetElement(v, 0));

    private static System.Runtime.Intrinsics.Vector128<ulong> AsVector128(this UInt128 v) =>
        System.Runtime.Intrinsics.Vector128.Create((ulong)v, (ulong)(v >> 64));
}
