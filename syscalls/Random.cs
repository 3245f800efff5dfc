using System.Security.Cryptography;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>getrandom(2), from the host's cryptographic generator (always initialised, so it never blocks).</summary>
internal static unsafe class Random
{
    private const int GrndNonblock = 1, GrndRandom = 2, GrndInsecure = 4;

    /// <summary>
    /// The most one call returns: MAX_RW_COUNT (INT_MAX rounded down to a page), as Linux 6.x
    /// (before 5.18 it was 32 MiB - 1, the figure getrandom(2) still quotes).
    /// </summary>
    private const long MaxPerCall = 0x7FFFF000;

    private const int ChunkSize = 4096;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Getrandom, &Getrandom, Arg.Ptr, Arg.Int, Arg.Hex);
    }

    private static long Getrandom(Task t, in SyscallArgs a)
    {
        var flags = (uint)a.A2;
        if ((flags & ~(uint)(GrndNonblock | GrndRandom | GrndInsecure)) != 0 ||
            (flags & (GrndRandom | GrndInsecure)) == (GrndRandom | GrndInsecure))
        {
            return Errors.EINVAL;
        }

        var count = (long)Math.Min(a.A1, (ulong)MaxPerCall);
        Span<byte> chunk = stackalloc byte[ChunkSize];
        long done = 0;
        while (done < count)
        {
            var n = (int)Math.Min(ChunkSize, count - done);
            RandomNumberGenerator.Fill(chunk[..n]);
            if (!t.CopyOut(a.A0 + (ulong)done, chunk[..n]))
            {
                return done > 0 ? done : Errors.EFAULT;
            }

            done += n;
        }

        return done;
    }
}
