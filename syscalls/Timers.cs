using System.Buffers.Binary;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>alarm(2), setitimer(2), getitimer(2) on ITIMER_REAL.</summary>
internal static unsafe class Timers
{
    private const int ItimerReal = 0, ItimerVirtual = 1, ItimerProf = 2;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Alarm, &Alarm, Arg.Int);
        t.Add(Nr.Setitimer, &Setitimer, Arg.Int, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getitimer, &Getitimer, Arg.Int, Arg.Ptr);
    }

    private static long Alarm(Task t, in SyscallArgs a)
    {
        var (remaining, _) = t.Group.RealTimer.Set(TimeSpan.FromSeconds((uint)a.A0), TimeSpan.Zero);

        // alarm(2) returns whole seconds, rounding a partial second up.
        return (long)Math.Ceiling(remaining.TotalSeconds);
    }

    private static TimeSpan ReadTimeval(ReadOnlySpan<byte> b) =>
        TimeSpan.FromTicks((BinaryPrimitives.ReadInt64LittleEndian(b) * TimeSpan.TicksPerSecond) + (BinaryPrimitives.ReadInt64LittleEndian(b[8..]) * 10));

    private static void WriteTimeval(Span<byte> b, TimeSpan v)
    {
        var micros = v.Ticks / 10;
        BinaryPrimitives.WriteInt64LittleEndian(b, micros / 1_000_000);
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], micros % 1_000_000);
    }

    /// <summary>struct itimerval: it_interval then it_value.</summary>
    private static bool WriteItimerval(Task t, ulong address, (TimeSpan Remaining, TimeSpan Interval) value)
    {
        Span<byte> b = stackalloc byte[32];
        WriteTimeval(b, value.Interval);
        WriteTimeval(b[16..], value.Remaining);
        return t.CopyOut(address, b);
    }

    private static long Setitimer(Task t, in SyscallArgs a)
    {
        var which = (int)a.A0;
        if (which != ItimerReal)
        {
            // The CPU-time timers need per-thread CPU accounting we do not keep.
            return which is ItimerVirtual or ItimerProf ? Errors.ENOSYS : Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[32];
        if (a.A1 != 0 && !t.CopyIn(a.A1, b))
        {
            return Errors.EFAULT;
        }

        var interval = ReadTimeval(b);
        var value = ReadTimeval(b[16..]);
        var usec0 = BinaryPrimitives.ReadInt64LittleEndian(b[8..]);
        var usec1 = BinaryPrimitives.ReadInt64LittleEndian(b[24..]);
        if (usec0 is < 0 or >= 1_000_000 || usec1 is < 0 or >= 1_000_000 || interval < TimeSpan.Zero || value < TimeSpan.Zero)
        {
            return Errors.EINVAL;
        }

        var old = t.Group.RealTimer.Set(value, interval);
        return a.A2 != 0 && !WriteItimerval(t, a.A2, old) ? Errors.EFAULT : 0;
    }

    private static long Getitimer(Task t, in SyscallArgs a)
    {
        var which = (int)a.A0;
        if (which != ItimerReal)
        {
            return which is ItimerVirtual or ItimerProf ? Errors.ENOSYS : Errors.EINVAL;
        }

        return WriteItimerval(t, a.A1, t.Group.RealTimer.Get()) ? 0 : Errors.EFAULT;
    }
}
