namespace UserModeOS.Kernel;

// Sending signals (kill(2), tgkill(2), the kernel's own) and job control.
public sealed partial class Kernel
{
    /// <summary>True when the signal would be dropped on arrival: ignored, or ignored by default.</summary>
    private static bool IsIgnored(ThreadGroup group, int sig)
    {
        var handler = group.Handlers[sig].Handler;
        return handler == SigAction.Ignore ||
            (handler == SigAction.Default && sig is Signals.SIGCHLD or Signals.SIGURG or Signals.SIGWINCH or Signals.SIGCONT);
    }

    /// <summary>Sends a signal to a process: any of its threads that does not block it takes it.</summary>
    public void SendSignal(ThreadGroup group, SigInfo info)
    {
        if (!PrepareSignal(group, info.Signo))
        {
            return;
        }

        group.SharedPending.Add(info);
        var bit = PendingSignals.Bit(info.Signo);
        foreach (var t in group.Tasks())
        {
            if ((t.SignalMask & bit) == 0)
            {
                t.Interrupt();
                return;
            }
        }
    }

    /// <summary>kill_pgrp(): sends a signal the kernel raises (a terminal's) to every process of a process group.</summary>
    public void SignalProcessGroup(int pgrp, int signal)
    {
        foreach (var p in Processes())
        {
            if (p.ProcessGroup == pgrp)
            {
                SendSignal(p, SigInfo.FromKernel(signal));
            }
        }
    }

    /// <summary>Sends a signal to one thread (tgkill, tkill).</summary>
    public void SendSignal(Task task, SigInfo info)
    {
        if (!PrepareSignal(task.Group, info.Signo))
        {
            return;
        }

        task.Pending.Add(info);
        if ((task.SignalMask & PendingSignals.Bit(info.Signo)) == 0)
        {
            task.Interrupt();
        }
    }

    /// <summary>What happens at send time: SIGKILL kills, SIGCONT continues, ignored signals vanish. False when nothing is queued.</summary>
    private bool PrepareSignal(ThreadGroup group, int sig)
    {
        if (sig == 0 || group.IsExiting || group.State is ProcessState.Zombie or ProcessState.Reaped)
        {
            return false;
        }

        switch (sig)
        {
            case Signals.SIGKILL:
                group.Exit(ThreadGroup.KilledStatus(Signals.SIGKILL));
                return false;
            case Signals.SIGCONT:
                ContinueProcess(group);
                break;
            case Signals.SIGSTOP or Signals.SIGTSTP or Signals.SIGTTIN or Signals.SIGTTOU:
                group.SharedPending.Discard(Signals.SIGCONT);
                break;
        }

        // A blocked ignored signal still stays pending on Linux; one that is not blocked is dropped.
        if (IsIgnored(group, sig))
        {
            var bit = PendingSignals.Bit(sig);
            if (group.Tasks().TrueForAll(t => (t.SignalMask & bit) == 0))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Stops a process (SIGSTOP and friends) and tells its parent.</summary>
    internal void StopProcess(ThreadGroup group, int sig)
    {
        lock (_table)
        {
            if (group.State != ProcessState.Running || group.IsExiting)
            {
                return;
            }

            group.State = ProcessState.Stopped;
            group.UnreportedStopStatus = ThreadGroup.StoppedStatus(sig);
        }

        foreach (var t in group.Tasks())
        {
            t.Interrupt();
        }

        NotifyParent(group, SigInfo.CldStopped, sig, isStopOrContinue: true);
    }

    private void ContinueProcess(ThreadGroup group)
    {
        foreach (var stop in new[] { Signals.SIGSTOP, Signals.SIGTSTP, Signals.SIGTTIN, Signals.SIGTTOU })
        {
            group.SharedPending.Discard(stop);
        }

        lock (_table)
        {
            if (group.State != ProcessState.Stopped)
            {
                return;
            }

            group.State = ProcessState.Running;
            group.UnreportedStopStatus = ThreadGroup.ContinuedStatus;
        }

        group.StopEvents.WakeAll();
        NotifyParent(group, SigInfo.CldContinued, Signals.SIGCONT, isStopOrContinue: true);
    }

    /// <summary>SIGCHLD (or the clone exit signal) to the parent, and a wake-up for its wait(2).</summary>
    private void NotifyParent(ThreadGroup child, int code, int status, bool isStopOrContinue)
    {
        var parent = child.Parent;
        if (parent is null)
        {
            return;
        }

        var sig = isStopOrContinue ? Signals.SIGCHLD : child.ExitSignal;
        var noStop = (parent.Handlers[Signals.SIGCHLD].Flags & SignalHandlers.SaNoCldStop) != 0;
        if (sig != 0 && !(isStopOrContinue && noStop))
        {
            SendSignal(parent, new SigInfo
            {
                Signo = sig,
                Code = code,
                Layout = SigInfoLayout.Child,
                Pid = child.Pid,
                Uid = child.Cred.Uid,
                Status = status,
            });
        }

        parent.ChildEvents.WakeAll();
    }
}
