namespace UserModeOS.Kernel;

/// <summary>What wait4/waitid found: the child, its wait status and the siginfo code (CLD_*).</summary>
public readonly record struct WaitResult(int Pid, int Status, int Code, int Uid, TimeSpan CpuTime);

// Process death (zombies, orphans, SIGCHLD) and wait(2).
public sealed partial class Kernel
{
    public const int WNoHang = 1, WUntraced = 2, WExited = 4, WContinued = 8, WNoWait = 0x01000000;
    public const int WNoThread = 0x20000000, WAll = 0x40000000, WClone = unchecked((int)0x80000000);
    public const int PAll = 0, PPid = 1, PPgid = 2;

    /// <summary>The last task of a process is gone: it becomes a zombie for its parent to collect.</summary>
    internal void ProcessExited(ThreadGroup group)
    {
        var status = group.ExitStatus;
        List<ThreadGroup> orphans;
        bool autoReap;
        lock (_table)
        {
            var init = Init;
            orphans = group.Children();
            foreach (var child in orphans)
            {
                group.RemoveChild(child);
                if (init is not null && init != group && !init.IsExiting)
                {
                    child.Parent = init;
                    init.AddChild(child);
                }
                else
                {
                    child.Parent = null;
                }
            }

            var parent = group.Parent;
            var handlers = parent?.Handlers[Signals.SIGCHLD];

            // A parent that ignores SIGCHLD or set SA_NOCLDWAIT never sees zombies (wait(2), NOTES).
            autoReap = parent is null || parent.IsExiting ||
                (group.ExitSignal == Signals.SIGCHLD && handlers is { } h &&
                 (h.Handler == SigAction.Ignore || (h.Flags & SignalHandlers.SaNoCldWait) != 0));
            group.State = ProcessState.Zombie;
            if (autoReap)
            {
                group.State = ProcessState.Reaped;
                parent?.RemoveChild(group);
                _processes.Remove(group.Pid);
                _tasks.Remove(group.Pid);
            }
        }

        if (group == Init)
        {
            // The init of a PID namespace takes everyone with it.
            foreach (var p in Processes())
            {
                p.Exit(ThreadGroup.KilledStatus(Signals.SIGKILL));
            }
        }
        else
        {
            foreach (var orphan in orphans)
            {
                if (orphan.Parent is null && orphan.State == ProcessState.Zombie)
                {
                    Reap(orphan);
                }

                // PR_SET_PDEATHSIG: the child asked to hear of its parent's death.
                foreach (var t in orphan.Tasks())
                {
                    if (t.ParentDeathSignal != 0)
                    {
                        SendSignal(t, SigInfo.FromUser(t.ParentDeathSignal, SigInfo.SiUser, group.Pid));
                    }
                }
            }
        }

        if (Init is { } initGroup && orphans.Exists(o => o.State == ProcessState.Zombie))
        {
            initGroup.ChildEvents.WakeAll();
        }

        var code = (status & 0x7F) == 0 ? SigInfo.CldExited : (status & 0x80) != 0 ? SigInfo.CldDumped : SigInfo.CldKilled;
        var value = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : status & 0x7F;
        NotifyParent(group, code, value, isStopOrContinue: false);
    }

    private void Reap(ThreadGroup child)
    {
        lock (_table)
        {
            child.State = ProcessState.Reaped;
            child.Parent?.RemoveChild(child);
            _processes.Remove(child.Pid);
            _tasks.Remove(child.Pid);
        }
    }

    /// <summary>
    /// wait4/waitid: waits for a child matching (<paramref name="idType"/>, <paramref name="id"/>)
    /// to change state. Returns the result, null with WNOHANG and nothing to report, or a
    /// negated errno (ECHILD, ERESTARTSYS).
    /// </summary>
    public long Wait(Task task, int idType, int id, int options, out WaitResult result)
    {
        var group = task.Group;
        WaitResult found = default;
        var hasReport = false;
        var r = group.ChildEvents.Wait(task, () =>
        {
            var matching = 0;
            foreach (var child in group.Children())
            {
                if (!Matches(child, idType, id, options))
                {
                    continue;
                }

                matching++;
                if (TryCollect(child, options, out found))
                {
                    hasReport = true;
                    return true;
                }
            }

            // Nothing to wait for, or nothing now and WNOHANG: stop waiting either way.
            return matching == 0 || (options & WNoHang) != 0;
        });

        result = found;
        if (r != 0)
        {
            return r;
        }

        if (hasReport)
        {
            return found.Pid;
        }

        return (options & WNoHang) != 0 && group.Children().Exists(c => Matches(c, idType, id, options))
            ? 0
            : -(long)Errno.ECHILD;
    }

    private static bool Matches(ThreadGroup child, int idType, int id, int options)
    {
        var idMatches = idType switch
        {
            PPid => child.Pid == id,
            PPgid => child.ProcessGroup == id,
            _ => true,
        };

        // Without __WALL, a "clone" child (exit signal other than SIGCHLD) needs __WCLONE, and the others need its absence.
        var cloneChild = child.ExitSignal != Signals.SIGCHLD;
        return idMatches && ((options & WAll) != 0 || cloneChild == ((options & WClone) != 0));
    }

    private bool TryCollect(ThreadGroup child, int options, out WaitResult result)
    {
        lock (_table)
        {
            var keep = (options & WNoWait) != 0;
            if (child.State == ProcessState.Zombie && (options & WExited) != 0)
            {
                var status = child.ExitStatus;
                var code = (status & 0x7F) == 0 ? SigInfo.CldExited : (status & 0x80) != 0 ? SigInfo.CldDumped : SigInfo.CldKilled;
                result = new WaitResult(child.Pid, status, code, (int)child.Cred.Uid, child.ExitedTasksCpuTime + child.ReapedChildrenCpuTime);
                if (!keep)
                {
                    if (child.Parent is { } parent)
                    {
                        parent.ReapedChildrenCpuTime += result.CpuTime;
                    }

                    child.State = ProcessState.Reaped;
                    child.Parent?.RemoveChild(child);
                    _processes.Remove(child.Pid);
                    _tasks.Remove(child.Pid);
                }

                return true;
            }

            var unreported = child.UnreportedStopStatus;
            if (unreported != 0 && child.State == ProcessState.Stopped && (unreported & 0xFF) == 0x7F && (options & WUntraced) != 0)
            {
                result = new WaitResult(child.Pid, unreported, SigInfo.CldStopped, (int)child.Cred.Uid, TimeSpan.Zero);
                if (!keep)
                {
                    child.UnreportedStopStatus = 0;
                }

                return true;
            }

            if (unreported == ThreadGroup.ContinuedStatus && (options & WContinued) != 0)
            {
                result = new WaitResult(child.Pid, unreported, SigInfo.CldContinued, (int)child.Cred.Uid, TimeSpan.Zero);
                if (!keep)
                {
                    child.UnreportedStopStatus = 0;
                }

                return true;
            }

            result = default;
            return false;
        }
    }
}
