using System.Buffers.Binary;
using System.Diagnostics;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Sched;

namespace UserModeOS.Syscalls;

/// <summary>
/// Clocks and sleeping: clock_gettime(2), clock_getres(2), gettimeofday(2), time(2),
/// nanosleep(2), clock_nanosleep(2), times(2).
/// </summary>
/// <remarks>
/// CLOCK_REALTIME is the host's wall clock (100 ns resolution, from DateTime). The
/// monotonic clocks are the host's CLOCK_MONOTONIC through Stopwatch, so MONOTONIC_RAW
/// and BOOTTIME (which on the host also counts suspend) are approximations of it, and
/// CLOCK_TAI equals REALTIME as on a host whose TAI offset was never set. CPU-time clocks
/// are the time tasks spent running guest code (<see cref="Task.CpuTime"/>): a thread's own,
/// or the sum over the process's live threads (threads that already exited no longer count).
/// </remarks>
internal static unsafe class Time
{
    private const int ClockRealtime = 0, ClockMonotonic = 1, ClockProcessCputime = 2, ClockThreadCputime = 3;
    private const int ClockMonotonicRaw = 4, ClockRealtimeCoarse = 5, ClockMonotonicCoarse = 6, ClockBoottime = 7;
    private const int ClockTai = 11;
    private const int TimerAbstime = 1;
    private const int CpuClockPerThread = 4, CpuClockTypeMask = 3, CpuClockTypeInvalid = 3;

    private const long NanosPerSecond = 1_000_000_000;

    /// <summary>The coarse clocks tick with the scheduler: 4 ms at the usual HZ=250.</summary>
    private const long CoarseResolutionNanos = 4_000_000;

    /// <summary>USER_HZ: the unit of times(2).</summary>
    private const long ClockTicksPerSecond = 100;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.ClockGettime, &ClockGettime, Arg.Int, Arg.Ptr);
        t.Add(Nr.ClockGetres, &ClockGetres, Arg.Int, Arg.Ptr);
        t.Add(Nr.Gettimeofday, &Gettimeofday, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Time, &TimeCall, Arg.Ptr);
        t.Add(Nr.Nanosleep, &Nanosleep, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.ClockNanosleep, &ClockNanosleep, Arg.Int, Arg.Hex, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Times, &Times, Arg.Ptr);
    }

    // ---------------------------------------------------------------- reading clocks

    private static long RealtimeNanos() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>The host's CLOCK_MONOTONIC (Stopwatch is it on Linux, with 1 ns ticks).</summary>
    private static long MonotonicNanos()
    {
        var ticks = Stopwatch.GetTimestamp();
        return Stopwatch.Frequency == NanosPerSecond
            ? ticks
            : (long)((Int128)ticks * NanosPerSecond / Stopwatch.Frequency);
    }

    private static long ThreadCpuNanos(Task t) => t.CpuTime.Ticks * 100;

    private static long ProcessCpuNanos(ThreadGroup group) => group.CpuTime.Ticks * 100;

    private enum ClockKind
    {
        Invalid,
        Realtime,
        Monotonic,
        Cpu,
    }

    /// <summary>What a clock id reads, whether it is a coarse one, and for a thread CPU clock the thread.</summary>
    private static ClockKind Classify(Task t, int clock, out bool coarse, out bool threadCpu, out Task? thread)
    {
        coarse = clock is ClockRealtimeCoarse or ClockMonotonicCoarse;
        threadCpu = clock == ClockThreadCputime;
        thread = threadCpu ? t : null;
        switch (clock)
        {
            case ClockRealtime or ClockRealtimeCoarse or ClockTai:
                return ClockKind.Realtime;
            case ClockMonotonic or ClockMonotonicRaw or ClockMonotonicCoarse or ClockBoottime:
                return ClockKind.Monotonic;
            case ClockProcessCputime or ClockThreadCputime:
                return ClockKind.Cpu;
        }

        if (clock >= 0)
        {
            return ClockKind.Invalid;
        }

        // A CPU clock of a given process or thread (clock_getcpuclockid, pthread_getcpuclockid):
        // ~pid << 3 | perthread << 2 | type, pid 0 meaning the caller.
        var id = ~(clock >> 3);
        if ((clock & CpuClockTypeMask) == CpuClockTypeInvalid)
        {
            return ClockKind.Invalid;
        }

        threadCpu = (clock & CpuClockPerThread) != 0;
        if (id == 0)
        {
            thread = threadCpu ? t : null;
            return ClockKind.Cpu;
        }

        if (threadCpu)
        {
            thread = t.Group.Tasks().Find(x => x.Tid == id);
            return thread is null ? ClockKind.Invalid : ClockKind.Cpu;
        }

        return id == t.Group.Pid ? ClockKind.Cpu : ClockKind.Invalid;
    }

    private static long Read(Task t, ClockKind kind, Task? thread) => kind switch
    {
        ClockKind.Realtime => RealtimeNanos(),
        ClockKind.Monotonic => MonotonicNanos(),
        _ => thread is not null ? ThreadCpuNanos(thread) : ProcessCpuNanos(t.Group),
    };

    private static bool WriteTimespec(Task t, ulong address, long nanos)
    {
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(b, Math.DivRem(nanos, NanosPerSecond, out var rem));
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], rem);
        return t.CopyOut(address, b);
    }

    /// <summary>Reads a timespec; EINVAL unless 0 &lt;= tv_nsec &lt; 1e9 and tv_sec &gt;= 0.</summary>
    internal static Errno ReadTimespec(Task t, ulong address, out long seconds, out long nanos)
    {
        Span<byte> b = stackalloc byte[16];
        seconds = nanos = 0;
        if (!t.CopyIn(address, b))
        {
            return Errno.EFAULT;
        }

        seconds = BinaryPrimitives.ReadInt64LittleEndian(b);
        nanos = BinaryPrimitives.ReadInt64LittleEndian(b[8..]);
        return seconds < 0 || nanos < 0 || nanos >= NanosPerSecond ? Errno.EINVAL : Errno.None;
    }

    private static long ClockGettime(Task t, in SyscallArgs a)
    {
        var kind = Classify(t, (int)a.A0, out _, out _, out var thread);
        if (kind == ClockKind.Invalid)
        {
            return Errors.EINVAL;
        }

        return WriteTimespec(t, a.A1, Read(t, kind, thread)) ? 0 : Errors.EFAULT;
    }

    /// <summary>clock_getres(2): 1 ns for the high-resolution clocks, a scheduler tick for the coarse ones; NULL res is fine.</summary>
    private static long ClockGetres(Task t, in SyscallArgs a)
    {
        var kind = Classify(t, (int)a.A0, out var coarse, out _, out _);
        if (kind == ClockKind.Invalid)
        {
            return Errors.EINVAL;
        }

        if (a.A1 == 0)
        {
            return 0;
        }

        return WriteTimespec(t, a.A1, coarse ? CoarseResolutionNanos : 1) ? 0 : Errors.EFAULT;
    }

    /// <summary>gettimeofday(2): either pointer may be NULL; the timezone is UTC with no DST, as the kernel's default.</summary>
    private static long Gettimeofday(Task t, in SyscallArgs a)
    {
        Span<byte> b = stackalloc byte[16];
        if (a.A0 != 0)
        {
            var micros = RealtimeNanos() / 1000;
            BinaryPrimitives.WriteInt64LittleEndian(b, Math.DivRem(micros, 1_000_000, out var rem));
            BinaryPrimitives.WriteInt64LittleEndian(b[8..], rem);
            if (!t.CopyOut(a.A0, b))
            {
                return Errors.EFAULT;
            }
        }

        if (a.A1 != 0)
        {
            b.Clear();
            if (!t.CopyOut(a.A1, b[..8]))
            {
                return Errors.EFAULT;
            }
        }

        return 0;
    }

    private static long TimeCall(Task t, in SyscallArgs a)
    {
        var seconds = RealtimeNanos() / NanosPerSecond;
        if (a.A0 != 0)
        {
            Span<byte> b = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(b, seconds);
            if (!t.CopyOut(a.A0, b))
            {
                return Errors.EFAULT;
            }
        }

        return seconds;
    }

    // ---------------------------------------------------------------- sleeping

    /// <summary>
    /// nanosleep(2). A signal ends the sleep early: the time left goes to <c>rem</c> (when
    /// given) and the call is EINTR if a handler runs, or restarted (for the whole span
    /// again, where Linux restarts with the rest) if none does.
    /// </summary>
    private static long Nanosleep(Task t, in SyscallArgs a)
    {
        var e = ReadTimespec(t, a.A0, out var seconds, out var nanos);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        var left = SleepFor(t, SaturatingNanos(seconds, nanos));
        return left == 0 ? 0 : Interrupted(t, a.A1, left);
    }

    /// <summary>
    /// clock_nanosleep(2): relative, or until the clock reads the given time with
    /// TIMER_ABSTIME (restarted as it was after a signal without a handler; no rem).
    /// Sleeping on the process CPU clock waits the same span of wall time.
    /// </summary>
    private static long ClockNanosleep(Task t, in SyscallArgs a)
    {
        var clock = (int)a.A0;
        var flags = (int)a.A1;
        var kind = Classify(t, clock, out var coarse, out var threadCpu, out _);
        if (kind == ClockKind.Invalid)
        {
            return Errors.EINVAL;
        }

        // Clocks without nsleep (raw, coarse, this thread's CPU clock) are EOPNOTSUPP; the
        // CPU clock of a thread named by id is EINVAL (posix_cpu_nsleep()).
        if (coarse || clock is ClockMonotonicRaw or ClockThreadCputime)
        {
            return Errors.Fail(Errno.EOPNOTSUPP);
        }

        if (threadCpu)
        {
            return Errors.EINVAL;
        }

        var e = ReadTimespec(t, a.A2, out var seconds, out var nanos);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        var span = SaturatingNanos(seconds, nanos);
        var absolute = (flags & TimerAbstime) != 0;
        if (absolute)
        {
            span -= Read(t, kind, null);
        }

        var left = SleepFor(t, span);
        if (left == 0)
        {
            return 0;
        }

        return absolute ? Errors.Fail(Errno.ERESTARTNOHAND) : Interrupted(t, a.A3, left);
    }

    /// <summary>An interrupted relative sleep: writes the time left to <paramref name="rem"/> (if not NULL).</summary>
    private static long Interrupted(Task t, ulong rem, long left)
    {
        if (rem != 0 && !WriteTimespec(t, rem, left))
        {
            return Errors.EFAULT;
        }

        return Errors.Fail(Errno.ERESTARTNOHAND);
    }

    private static long SaturatingNanos(long seconds, long nanos) =>
        seconds >= long.MaxValue / NanosPerSecond ? long.MaxValue : (seconds * NanosPerSecond) + nanos;

    /// <summary>
    /// Waits at least <paramref name="nanos"/> of monotonic time; returns 0, or the time
    /// left when a signal (or the process's end) interrupts. The wait queue's millisecond
    /// timer does the bulk and a yielding loop the last stretch, so short sleeps stay short.
    /// </summary>
    private static long SleepFor(Task t, long nanos)
    {
        if (nanos <= 0)
        {
            return 0;
        }

        var now = MonotonicNanos();
        var deadline = now > long.MaxValue - nanos ? long.MaxValue : now + nanos;
        var queue = new WaitQueue();
        while (true)
        {
            var left = deadline - MonotonicNanos();
            if (left <= 0)
            {
                return 0;
            }

            if (t.HasPendingInterruption)
            {
                return left;
            }

            if (left > 2_000_000)
            {
                var bulk = TimeSpan.FromTicks((left - 1_000_000) / 100);
                if (queue.Wait(t, static () => false, Deadline.After(bulk)) == -(int)Errno.ERESTARTSYS)
                {
                    return Math.Max(1, deadline - MonotonicNanos());
                }
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    /// <summary>times(2): CPU times in clock ticks (children's are not counted yet: 0) and ticks since an arbitrary point; NULL is fine.</summary>
    private static long Times(Task t, in SyscallArgs a)
    {
        if (a.A0 != 0)
        {
            // Guest code runs in user mode; the time spent in our kernel is not told apart.
            Span<byte> b = stackalloc byte[32];
            b.Clear();
            BinaryPrimitives.WriteInt64LittleEndian(b, ProcessCpuNanos(t.Group) / (NanosPerSecond / ClockTicksPerSecond));
            // tms_cutime: the CPU time of the children that have been waited for.
            BinaryPrimitives.WriteInt64LittleEndian(b[16..], t.Group.ReapedChildrenCpuTime.Ticks / (TimeSpan.TicksPerSecond / ClockTicksPerSecond));
            if (!t.CopyOut(a.A0, b))
            {
                return Errors.EFAULT;
            }
        }

        return MonotonicNanos() / (NanosPerSecond / ClockTicksPerSecond);
    }
}
