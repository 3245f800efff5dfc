using System.Diagnostics;

namespace UserModeOS.Kernel.Sched;

/// <summary>
/// The one way a task blocks (Linux's wait_queue_head): wait until a condition holds, a
/// signal arrives or a deadline passes. Whoever changes the condition calls <see cref="WakeAll"/>.
/// </summary>
public sealed class WaitQueue
{
    private readonly object _lock = new();
    private readonly List<Action> _subscribers = new();

    /// <summary>Everything a waiter's condition reads must change under this lock, or be followed by <see cref="WakeAll"/>.</summary>
    public object SyncRoot => _lock;

    /// <summary>
    /// Blocks <paramref name="task"/> until <paramref name="condition"/> is true (0), a signal
    /// is deliverable (-ERESTARTSYS, which the syscall layer turns into EINTR or a restart),
    /// or <paramref name="deadline"/> passes (-ETIMEDOUT). The condition is evaluated under
    /// the queue's lock. A null task waits uninterruptibly (kernel-internal waits).
    /// </summary>
    public int Wait(Task? task, Func<bool> condition, Deadline deadline = default)
    {
        lock (_lock)
        {
            if (task is not null)
            {
                task.BlockedOn = this;
            }

            try
            {
                while (true)
                {
                    if (condition())
                    {
                        return 0;
                    }

                    if (task is not null && task.HasPendingInterruption)
                    {
                        return -(int)Errno.ERESTARTSYS;
                    }

                    var ms = deadline.RemainingMilliseconds();
                    if (ms == 0)
                    {
                        return -(int)Errno.ETIMEDOUT;
                    }

                    task?.BlockBegin();
                    Monitor.Wait(_lock, ms);
                    task?.BlockEnd();
                }
            }
            finally
            {
                if (task is not null)
                {
                    task.BlockedOn = null;
                }
            }
        }
    }

    /// <summary>Wakes every waiter so it re-checks its condition, then tells the subscribers.</summary>
    public void WakeAll()
    {
        Action[]? subscribers = null;
        lock (_lock)
        {
            Monitor.PulseAll(_lock);
            if (_subscribers.Count > 0)
            {
                subscribers = _subscribers.ToArray();
            }
        }

        if (subscribers is not null)
        {
            foreach (var notify in subscribers)
            {
                notify();
            }
        }
    }

    /// <summary>
    /// Calls <paramref name="notify"/> after every wake-up (how poll waits on many files).
    /// It may run with the waker's locks held, so it must take no lock a waiter could hold
    /// while taking those.
    /// </summary>
    public void Subscribe(Action notify)
    {
        lock (_lock)
        {
            _subscribers.Add(notify);
        }
    }

    public void Unsubscribe(Action notify)
    {
        lock (_lock)
        {
            _subscribers.Remove(notify);
        }
    }
}

/// <summary>A point in monotonic time to stop waiting at; the default waits forever.</summary>
public readonly struct Deadline
{
    private readonly long _ticks;

    private Deadline(long ticks)
    {
        _ticks = ticks;
    }

    public static Deadline Never => default;

    public bool IsNever => _ticks == 0;

    /// <summary>A deadline <paramref name="timeout"/> from now (zero or negative: already passed).</summary>
    public static Deadline After(TimeSpan timeout) =>
        new(Stopwatch.GetTimestamp() + Math.Max(1, (long)(Math.Max(0, timeout.TotalSeconds) * Stopwatch.Frequency)));

    /// <summary>Time left (zero when passed; <see cref="TimeSpan.MaxValue"/> for never).</summary>
    public TimeSpan Remaining() =>
        _ticks == 0 ? TimeSpan.MaxValue : Stopwatch.GetElapsedTime(Math.Min(_ticks, Stopwatch.GetTimestamp()), _ticks);

    /// <summary>Milliseconds left for Monitor.Wait: -1 for never, 0 when passed.</summary>
    public int RemainingMilliseconds()
    {
        if (_ticks == 0)
        {
            return Timeout.Infinite;
        }

        var left = _ticks - Stopwatch.GetTimestamp();
        if (left <= 0)
        {
            return 0;
        }

        return (int)Math.Clamp((left * 1000 / Stopwatch.Frequency) + 1, 1, int.MaxValue);
    }
}
