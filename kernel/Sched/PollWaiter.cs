using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Sched;

/// <summary>
/// Waiting for any of several files to become ready (poll, select, epoll): subscribes to
/// each file's <see cref="OpenFile.PollQueue"/> and counts wake-ups, so readiness is always
/// re-checked outside every lock. Files without a queue are re-checked every few milliseconds.
/// </summary>
public sealed class PollWaiter : IDisposable
{
    private static readonly TimeSpan RecheckInterval = TimeSpan.FromMilliseconds(10);

    private readonly WaitQueue _queue = new();
    private readonly List<WaitQueue> _subscribed = new();
    private readonly List<OpenFile> _watched = new();
    private readonly Action _notify;
    private int _version;

    public PollWaiter()
    {
        _notify = () =>
        {
            Interlocked.Increment(ref _version);
            _queue.WakeAll();
        };
    }

    /// <summary>Watches a file; call before the first readiness check.</summary>
    public void Watch(OpenFile file)
    {
        if (file.PollQueue is { } q && !_subscribed.Contains(q))
        {
            q.Subscribe(_notify);
            _subscribed.Add(q);
        }

        _watched.Add(file);
    }

    /// <summary>
    /// Repeats <paramref name="scan"/> (which returns the number of ready files, or a negated
    /// errno that ends the wait) until it finds some, a signal arrives (-ERESTARTSYS) or the
    /// deadline passes (0).
    /// </summary>
    public long Wait(Task task, Func<int> scan, Deadline deadline)
    {
        while (true)
        {
            var version = Volatile.Read(ref _version);
            var ready = scan();
            if (ready != 0)
            {
                return ready;
            }

            // Asked on every round: an epoll instance may come to watch such a file meanwhile.
            var slice = _watched.Exists(f => f.NeedsPollRecheck) ? Earlier(deadline, Deadline.After(RecheckInterval)) : deadline;
            var r = _queue.Wait(task, () => Volatile.Read(ref _version) != version, slice);
            if (r == -(int)Errno.ERESTARTSYS)
            {
                return r;
            }

            if (r == -(int)Errno.ETIMEDOUT && deadline.RemainingMilliseconds() == 0)
            {
                return scan();
            }
        }
    }

    private static Deadline Earlier(Deadline a, Deadline b) =>
        a.IsNever || b.RemainingMilliseconds() < a.RemainingMilliseconds() ? b : a;

    public void Dispose()
    {
        foreach (var q in _subscribed)
        {
            q.Unsubscribe(_notify);
        }
    }
}
