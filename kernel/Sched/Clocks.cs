using System.Diagnostics;

namespace UserModeOS.Kernel.Sched;

/// <summary>The kernel's clocks, in nanoseconds, as clock_gettime(2) reports them.</summary>
public static class Clocks
{
    private const long NanosPerSecond = 1_000_000_000;

    /// <summary>CLOCK_REALTIME: nanoseconds since the Unix epoch.</summary>
    public static long RealtimeNanos() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>CLOCK_MONOTONIC: the host's monotonic clock (Stopwatch is CLOCK_MONOTONIC on Linux).</summary>
    public static long MonotonicNanos()
    {
        var ticks = Stopwatch.GetTimestamp();
        return Stopwatch.Frequency == NanosPerSecond ? ticks : (long)((Int128)ticks * NanosPerSecond / Stopwatch.Frequency);
    }

    /// <summary>A deadline for an absolute time on CLOCK_REALTIME or CLOCK_MONOTONIC.</summary>
    public static Deadline DeadlineAt(long absoluteNanos, bool realtime)
    {
        var now = realtime ? RealtimeNanos() : MonotonicNanos();
        return Deadline.After(TimeSpan.FromTicks(Math.Max(0, absoluteNanos - now) / 100));
    }
}
