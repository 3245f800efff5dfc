namespace UserModeOS.Kernel;

/// <summary>ITIMER_REAL (setitimer(2), alarm(2)): SIGALRM to the process when it expires, then every interval.</summary>
public sealed class RealTimer
{
    private readonly ThreadGroup _group;
    private readonly Lock _lock = new();
    private Timer? _timer;
    private DateTime _due;
    private TimeSpan _interval;

    internal RealTimer(ThreadGroup group)
    {
        _group = group;
    }

    /// <summary>The time left until expiry (zero when disarmed) and the reload interval.</summary>
    public (TimeSpan Remaining, TimeSpan Interval) Get()
    {
        lock (_lock)
        {
            if (_timer is null)
            {
                return (TimeSpan.Zero, TimeSpan.Zero);
            }

            var left = _due - DateTime.UtcNow;

            // A timer that is due but has not fired yet still reports a tiny remainder, as Linux does.
            return (left > TimeSpan.Zero ? left : TimeSpan.FromTicks(10), _interval);
        }
    }

    /// <summary>Arms (a zero <paramref name="value"/> disarms) and returns the previous setting.</summary>
    public (TimeSpan Remaining, TimeSpan Interval) Set(TimeSpan value, TimeSpan interval)
    {
        lock (_lock)
        {
            var old = Get();
            _timer?.Dispose();
            _timer = null;
            if (value > TimeSpan.Zero)
            {
                _due = DateTime.UtcNow + value;
                _interval = interval;
                _timer = new Timer(_ => Fire(), null, value, interval > TimeSpan.Zero ? interval : Timeout.InfiniteTimeSpan);
            }

            return old;
        }
    }

    public void Cancel() => Set(TimeSpan.Zero, TimeSpan.Zero);

    private void Fire()
    {
        lock (_lock)
        {
            if (_interval > TimeSpan.Zero)
            {
                _due = DateTime.UtcNow + _interval;
            }
            else
            {
                _timer?.Dispose();
                _timer = null;
            }
        }

        _group.Kernel.SendSignal(_group, new SigInfo { Signo = Signals.SIGALRM, Code = SigInfo.SiKernel, Layout = SigInfoLayout.Timer });
    }
}
