using System.Buffers.Binary;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>
/// The signal syscalls: dispositions and masks (rt_sigaction, rt_sigprocmask), sending
/// (kill, tkill, tgkill, rt_sigqueueinfo), waiting (rt_sigsuspend, pause, rt_sigtimedwait,
/// rt_sigpending), sigaltstack and rt_sigreturn.
/// </summary>
internal static unsafe class SignalCalls
{
    private const int SigBlock = 0, SigUnblock = 1, SigSetMask = 2;
    private const ulong SigSetSize = 8;
    private const ulong Unblockable = Signals.Unblockable;
    private const int MinSigStackSize = 2048;
    private const uint SsAutoDisarm = 1u << 31;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.RtSigaction, &RtSigaction, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Int);
        t.Add(Nr.RtSigprocmask, &RtSigprocmask, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Int);
        t.Add(Nr.RtSigreturn, &RtSigreturn);
        t.Add(Nr.Sigaltstack, &Sigaltstack, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Kill, &Kill, Arg.Int, Arg.Int);
        t.Add(Nr.Tkill, &Tkill, Arg.Int, Arg.Int);
        t.Add(Nr.Tgkill, &Tgkill, Arg.Int, Arg.Int, Arg.Int);
        t.Add(Nr.RtSigqueueinfo, &RtSigqueueinfo, Arg.Int, Arg.Int, Arg.Ptr);
        t.Add(Nr.RtTgsigqueueinfo, &RtTgsigqueueinfo, Arg.Int, Arg.Int, Arg.Int, Arg.Ptr);
        t.Add(Nr.RtSigpending, &RtSigpending, Arg.Ptr, Arg.Int);
        t.Add(Nr.RtSigsuspend, &RtSigsuspend, Arg.Ptr, Arg.Int);
        t.Add(Nr.Pause, &Pause);
        t.Add(Nr.RtSigtimedwait, &RtSigtimedwait, Arg.Ptr, Arg.Ptr, Arg.Ptr, Arg.Int);
    }

    private static long RtSigaction(Task t, in SyscallArgs a)
    {
        var sig = (int)a.A0;
        if (a.A3 != SigSetSize || sig < 1 || sig > Signals.Max)
        {
            return Errors.EINVAL;
        }

        if (a.A1 != 0 && (sig == Signals.SIGKILL || sig == Signals.SIGSTOP))
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[32];
        SigAction? wanted = null;
        if (a.A1 != 0)
        {
            if (!t.CopyIn(a.A1, b))
            {
                return Errors.EFAULT;
            }

            wanted = new SigAction(
                BinaryPrimitives.ReadUInt64LittleEndian(b),
                BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(b[24..]) & ~Unblockable);
        }

        var actions = t.Group.Handlers;
        if (a.A2 != 0)
        {
            var old = actions[sig];
            BinaryPrimitives.WriteUInt64LittleEndian(b, old.Handler);
            BinaryPrimitives.WriteUInt64LittleEndian(b[8..], old.Flags);
            BinaryPrimitives.WriteUInt64LittleEndian(b[16..], old.Restorer);
            BinaryPrimitives.WriteUInt64LittleEndian(b[24..], old.Mask);
            if (!t.CopyOut(a.A2, b))
            {
                return Errors.EFAULT;
            }
        }

        if (wanted is { } set)
        {
            actions[sig] = set;

            // Setting a signal to be ignored discards it if pending (sigaction(2), POSIX).
            if (set.Handler == SigAction.Ignore || (set.Handler == SigAction.Default &&
                sig is Signals.SIGCHLD or Signals.SIGURG or Signals.SIGWINCH))
            {
                t.Group.SharedPending.Discard(sig);
                foreach (var thread in t.Group.Tasks())
                {
                    thread.Pending.Discard(sig);
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// rt_sigprocmask(2) in Linux's order: the new set is read and <c>how</c> checked (EINVAL)
    /// and applied before the old set is written, so a bad <c>how</c> leaves oldset untouched.
    /// Without a new set <c>how</c> is not looked at.
    /// </summary>
    private static long RtSigprocmask(Task t, in SyscallArgs a)
    {
        if (a.A3 != SigSetSize)
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[8];
        var old = t.SignalMask;
        if (a.A1 != 0)
        {
            if (!t.CopyIn(a.A1, b))
            {
                return Errors.EFAULT;
            }

            var s = BinaryPrimitives.ReadUInt64LittleEndian(b) & ~Unblockable;
            switch ((int)a.A0)
            {
                case SigBlock:
                    t.SignalMask = old | s;
                    break;
                case SigUnblock:
                    t.SignalMask = old & ~s;
                    break;
                case SigSetMask:
                    t.SignalMask = s;
                    break;
                default:
                    return Errors.EINVAL;
            }
        }

        if (a.A2 != 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, old);
            if (!t.CopyOut(a.A2, b))
            {
                return Errors.EFAULT;
            }
        }

        return 0;
    }

    private static long RtSigreturn(Task t, in SyscallArgs a) => t.SigReturn();

    private static long Sigaltstack(Task t, in SyscallArgs a)
    {
        Span<byte> b = stackalloc byte[24];
        var onStack = t.IsOnAltStack(t.Cpu[UserModeOS.Cpu.Reg.Rsp]);
        (ulong Base, int Flags, ulong Size)? wanted = null;
        if (a.A0 != 0)
        {
            if (!t.CopyIn(a.A0, b))
            {
                return Errors.EFAULT;
            }

            var flags = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]) & ~SsAutoDisarm;
            var size = BinaryPrimitives.ReadUInt64LittleEndian(b[16..]);
            if (onStack)
            {
                return Errors.Fail(Errno.EPERM);
            }

            if (flags != 0 && flags != Task.SsDisable)
            {
                return Errors.EINVAL;
            }

            if (flags == 0 && size < MinSigStackSize)
            {
                return Errors.ENOMEM;
            }

            wanted = (BinaryPrimitives.ReadUInt64LittleEndian(b), (int)flags, size);
        }

        if (a.A1 != 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, t.AltStackBase);
            BinaryPrimitives.WriteInt32LittleEndian(b[8..], t.AltStackDisabled ? Task.SsDisable : onStack ? Task.SsOnStack : 0);
            BinaryPrimitives.WriteInt32LittleEndian(b[12..], 0);
            BinaryPrimitives.WriteUInt64LittleEndian(b[16..], t.AltStackSize);
            if (!t.CopyOut(a.A1, b))
            {
                return Errors.EFAULT;
            }
        }

        if (wanted is { } w)
        {
            t.AltStackDisabled = w.Flags == Task.SsDisable;
            t.AltStackBase = t.AltStackDisabled ? 0 : w.Base;
            t.AltStackSize = t.AltStackDisabled ? 0 : w.Size;
        }

        return 0;
    }

    private static bool ValidSignal(int sig) => sig >= 0 && sig <= Signals.Max;

    /// <summary>kill(2): a pid, the caller's process group (0), every process but init and us (-1), or a group (-pgid).</summary>
    private static long Kill(Task t, in SyscallArgs a)
    {
        var pid = (int)a.A0;
        var sig = (int)a.A1;
        if (!ValidSignal(sig))
        {
            return Errors.EINVAL;
        }

        SigInfo Info() => SigInfo.FromUser(sig, SigInfo.SiUser, t.Group.Pid, t.Cred.Uid);
        if (pid > 0)
        {
            var target = t.Kernel.FindProcess(pid);
            if (target is null || target.State == ProcessState.Reaped)
            {
                return Errors.Fail(Errno.ESRCH);
            }

            if (!MaySignal(t, target, sig))
            {
                return Errors.Fail(Errno.EPERM);
            }

            t.Kernel.SendSignal(target, Info());
            return 0;
        }

        // A group or everyone: success when any was signalled, else EPERM when some were not allowed.
        var pgid = pid == 0 ? t.Group.ProcessGroup : -pid;
        var sent = 0;
        var denied = 0;
        foreach (var p in t.Kernel.Processes())
        {
            var chosen = pid == -1 ? p.Pid != 1 && p != t.Group : p.ProcessGroup == pgid;
            if (!chosen || p.State == ProcessState.Reaped)
            {
                continue;
            }

            if (!MaySignal(t, p, sig))
            {
                denied++;
                continue;
            }

            t.Kernel.SendSignal(p, Info());
            sent++;
        }

        return sent > 0 ? 0 : Errors.Fail(denied > 0 ? Errno.EPERM : Errno.ESRCH);
    }

    /// <summary>
    /// kill(2), "Permissions": a process may signal its own threads and root (CAP_KILL) anyone; others need their real or
    /// effective uid to be the target's real or saved uid, except that SIGCONT reaches any
    /// process of the same session.
    /// </summary>
    private static bool MaySignal(Task t, ThreadGroup target, int sig)
    {
        var me = t.Cred;
        var them = target.Cred;
        return target == t.Group || me.IsPrivileged || me.Uid == them.Uid || me.Uid == them.Suid || me.Euid == them.Uid || me.Euid == them.Suid ||
            sig == Signals.SIGCONT && target.Session == t.Group.Session;
    }

    private static long Tkill(Task t, in SyscallArgs a) => SignalThread(t, AnyGroup, (int)a.A0, (int)a.A1, null);

    private static long Tgkill(Task t, in SyscallArgs a) =>
        (int)a.A0 <= 0 ? Errors.EINVAL : SignalThread(t, (int)a.A0, (int)a.A1, (int)a.A2, null);

    private const int AnyGroup = 0;

    /// <summary>Signals thread <paramref name="tid"/>, which must belong to <paramref name="tgid"/> unless that is <see cref="AnyGroup"/>.</summary>
    private static long SignalThread(Task t, int tgid, int tid, int sig, SigInfo? info)
    {
        if (!ValidSignal(sig) || tid <= 0)
        {
            return Errors.EINVAL;
        }

        var target = t.Kernel.FindTask(tid);
        if (target is null || (tgid > 0 && target.Group.Pid != tgid))
        {
            return Errors.Fail(Errno.ESRCH);
        }

        if (!MaySignal(t, target.Group, sig))
        {
            return Errors.Fail(Errno.EPERM);
        }

        if (sig != 0)
        {
            t.Kernel.SendSignal(target, info ?? SigInfo.FromUser(sig, SigInfo.SiTkill, t.Group.Pid, t.Cred.Uid));
        }

        return 0;
    }

    /// <summary>
    /// The caller's own siginfo for rt_sigqueueinfo: only negative si_code values (user
    /// codes) may be forged, unless the target is the caller itself (rt_sigqueueinfo(2)).
    /// </summary>
    private static SigInfo? QueuedInfo(Task t, int sig, ulong address, bool self, out long error)
    {
        var raw = new byte[SigInfo.Size];
        if (!t.CopyIn(address, raw))
        {
            error = Errors.EFAULT;
            return null;
        }

        var code = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(8));
        if ((code >= 0 || code == SigInfo.SiTkill) && !self)
        {
            error = Errors.Fail(Errno.EPERM);
            return null;
        }

        error = 0;
        return new SigInfo { Signo = sig, Code = code, Raw = raw };
    }

    private static long RtSigqueueinfo(Task t, in SyscallArgs a)
    {
        var sig = (int)a.A1;
        if (!ValidSignal(sig))
        {
            return Errors.EINVAL;
        }

        var target = t.Kernel.FindProcess((int)a.A0);
        if (target is null)
        {
            return Errors.Fail(Errno.ESRCH);
        }

        if (!MaySignal(t, target, sig))
        {
            return Errors.Fail(Errno.EPERM);
        }

        var info = QueuedInfo(t, sig, a.A2, target == t.Group, out var error);
        if (info is null)
        {
            return error;
        }

        if (sig != 0)
        {
            t.Kernel.SendSignal(target, info);
        }

        return 0;
    }

    private static long RtTgsigqueueinfo(Task t, in SyscallArgs a)
    {
        var sig = (int)a.A2;
        if (!ValidSignal(sig))
        {
            return Errors.EINVAL;
        }

        var target = t.Kernel.FindTask((int)a.A1);
        if (target is null || target.Group.Pid != (int)a.A0)
        {
            return Errors.Fail(Errno.ESRCH);
        }

        var info = QueuedInfo(t, sig, a.A3, target.Group == t.Group, out var error);
        return info is null ? error : SignalThread(t, (int)a.A0, (int)a.A1, sig, info);
    }

    private static long RtSigpending(Task t, in SyscallArgs a)
    {
        if (a.A1 > SigSetSize)
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, (t.Pending.Mask | t.Group.SharedPending.Mask) & t.SignalMask);
        return t.CopyOut(a.A0, b[..(int)a.A1]) ? 0 : Errors.EFAULT;
    }

    /// <summary>rt_sigsuspend(2): waits with a temporary mask; the handler runs with the old mask restored after it.</summary>
    private static long RtSigsuspend(Task t, in SyscallArgs a)
    {
        if (a.A1 != SigSetSize)
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[8];
        if (!t.CopyIn(a.A0, b))
        {
            return Errors.EFAULT;
        }

        t.SavedSignalMask ??= t.SignalMask;
        t.SignalMask = BinaryPrimitives.ReadUInt64LittleEndian(b) & ~Unblockable;
        new UserModeOS.Kernel.Sched.WaitQueue().Wait(t, static () => false);
        return Errors.Fail(Errno.ERESTARTNOHAND);
    }

    private static long Pause(Task t, in SyscallArgs a)
    {
        new UserModeOS.Kernel.Sched.WaitQueue().Wait(t, static () => false);
        return Errors.Fail(Errno.ERESTARTNOHAND);
    }

    /// <summary>rt_sigtimedwait(2): takes a pending signal of the set without running its handler.</summary>
    private static long RtSigtimedwait(Task t, in SyscallArgs a)
    {
        if (a.A3 != SigSetSize)
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[16];
        if (!t.CopyIn(a.A0, b[..8]))
        {
            return Errors.EFAULT;
        }

        var set = BinaryPrimitives.ReadUInt64LittleEndian(b) & ~Unblockable;
        var deadline = UserModeOS.Kernel.Sched.Deadline.Never;
        if (a.A2 != 0)
        {
            var e = Time.ReadTimespec(t, a.A2, out var seconds, out var nanos);
            if (e != Errno.None)
            {
                return Errors.Fail(e);
            }

            deadline = UserModeOS.Kernel.Sched.Deadline.After(TimeSpan.FromTicks((seconds * 10_000_000) + (nanos / 100)));
        }

        SigInfo? taken = null;
        var r = new UserModeOS.Kernel.Sched.WaitQueue().Wait(t, () =>
        {
            taken = t.Pending.Take(~set) ?? t.Group.SharedPending.Take(~set);
            return taken is not null;
        }, deadline);
        if (taken is null)
        {
            return r == -(int)Errno.ETIMEDOUT ? Errors.Fail(Errno.EAGAIN) : Errors.Fail(Errno.EINTR);
        }

        if (a.A1 != 0)
        {
            var info = new byte[SigInfo.Size];
            taken.Write(info);
            if (!t.CopyOut(a.A1, info))
            {
                return Errors.EFAULT;
            }
        }

        return taken.Signo;
    }
}
