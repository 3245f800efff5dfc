namespace UserModeOS.Kernel;

/// <summary>
/// A set of pending signals with their siginfo: standard signals (1-31) are pending at most
/// once, real-time signals (32-64) queue every instance in order (signal(7)).
/// </summary>
public sealed class PendingSignals
{
    private readonly List<SigInfo> _queue = new();
    private ulong _mask;

    /// <summary>Bit (n-1) is set while signal n is pending.</summary>
    public ulong Mask => Volatile.Read(ref _mask);

    public static ulong Bit(int signo) => 1UL << (signo - 1);

    /// <summary>Queues a signal; a standard signal already pending is not queued twice.</summary>
    public void Add(SigInfo info)
    {
        lock (_queue)
        {
            if (info.Signo < 32 && (_mask & Bit(info.Signo)) != 0)
            {
                return;
            }

            _queue.Add(info);
            Volatile.Write(ref _mask, _mask | Bit(info.Signo));
        }
    }

    /// <summary>Removes and returns the lowest-numbered pending signal not in <paramref name="blocked"/>.</summary>
    public SigInfo? Take(ulong blocked)
    {
        lock (_queue)
        {
            var ready = _mask & ~blocked;
            if (ready == 0)
            {
                return null;
            }

            var signo = System.Numerics.BitOperations.TrailingZeroCount(ready) + 1;
            var index = _queue.FindIndex(s => s.Signo == signo);
            var info = _queue[index];
            _queue.RemoveAt(index);
            if (!_queue.Exists(s => s.Signo == signo))
            {
                Volatile.Write(ref _mask, _mask & ~Bit(signo));
            }

            return info;
        }
    }

    /// <summary>Drops every pending instance of a signal (it became ignored, or SIGCONT/SIGSTOP cancel each other).</summary>
    public void Discard(int signo)
    {
        lock (_queue)
        {
            _queue.RemoveAll(s => s.Signo == signo);
            Volatile.Write(ref _mask, _mask & ~Bit(signo));
        }
    }
}
