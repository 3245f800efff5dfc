namespace UserModeOS.Kernel;

/// <summary>
/// A signal disposition table (Linux's sighand_struct): shared by the threads of a process
/// and, with CLONE_SIGHAND, by processes.
/// </summary>
public sealed class SignalHandlers
{
    public const ulong SaNoCldStop = 1, SaNoCldWait = 2, SaSigInfo = 4, SaOnStack = 0x08000000;
    public const ulong SaRestart = 0x10000000, SaNoDefer = 0x40000000, SaResetHand = 0x80000000, SaRestorer = 0x04000000;

    private readonly SigAction[] _actions = new SigAction[Signals.Max + 1];

    public SigAction this[int signo]
    {
        get
        {
            lock (_actions)
            {
                return _actions[signo];
            }
        }

        set
        {
            lock (_actions)
            {
                _actions[signo] = value;
            }
        }
    }

    /// <summary>A copy (fork without CLONE_SIGHAND).</summary>
    public SignalHandlers Clone()
    {
        var copy = new SignalHandlers();
        lock (_actions)
        {
            _actions.CopyTo(copy._actions, 0);
        }

        return copy;
    }

    /// <summary>execve(2): handled signals revert to their default; ignored ones stay ignored.</summary>
    public void ResetForExec()
    {
        lock (_actions)
        {
            for (var i = 1; i <= Signals.Max; i++)
            {
                if (_actions[i].Handler != SigAction.Ignore)
                {
                    _actions[i] = default;
                }
            }
        }
    }
}
