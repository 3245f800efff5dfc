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

        while (true)
        {
            var old = Load<W>(p);
            var r = A.Exec<W>(c, old, src);
            if (CompareExchange<W>(p, r, old))
            {
                return;
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
