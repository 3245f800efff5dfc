using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>epoll_create(2), epoll_create1(2), epoll_ctl(2), epoll_wait(2), epoll_pwait(2), epoll_pwait2(2): see epoll(7).</summary>
internal static unsafe class Epoll
{
    private const int CtlAdd = 1, CtlDel = 2, CtlMod = 3;

    /// <summary>sizeof(struct epoll_event): packed on x86-64, a u32 of events then the u64 of data.</summary>
    private const int EventSize = 12;

    /// <summary>EP_MAX_EVENTS: as many events as fit in INT_MAX bytes.</summary>
    private const int MaxEvents = int.MaxValue / EventSize;

    /// <summary>EPOLLEXCLUSIVE_OK_BITS: what EPOLLEXCLUSIVE may come with.</summary>
    private const uint ExclusiveOkBits = PollEvents.In | PollEvents.Out | PollEvents.Err | PollEvents.Hup |
        EpollEvents.WakeUp | EpollEvents.EdgeTriggered | EpollEvents.Exclusive;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.EpollCreate, &EpollCreate, Arg.Int);
        t.Add(Nr.EpollCreate1, &EpollCreate1, Arg.Hex);
        t.Add(Nr.EpollCtl, &EpollCtl, Arg.Fd, Arg.Int, Arg.Fd, Arg.Ptr);
        t.Add(Nr.EpollWait, &EpollWait, Arg.Fd, Arg.Ptr, Arg.Int, Arg.Int);
        t.Add(Nr.EpollPwait, &EpollPwait, Arg.Fd, Arg.Ptr, Arg.Int, Arg.Int, Arg.Ptr, Arg.Int);
        t.Add(Nr.EpollPwait2, &EpollPwait2, Arg.Fd, Arg.Ptr, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Int);
    }

    /// <summary>epoll_create(2): the size is only a hint since Linux 2.6.8, but must be positive.</summary>
    private static long EpollCreate(Task t, in SyscallArgs a) => (int)a.A0 <= 0 ? Errors.EINVAL : Create(t, 0);

    /// <summary>epoll_create1(2): EPOLL_CLOEXEC (O_CLOEXEC) is the only flag.</summary>
    private static long EpollCreate1(Task t, in SyscallArgs a) =>
        ((int)a.A0 & ~OpenFlags.CloseOnExec) != 0 ? Errors.EINVAL : Create(t, (int)a.A0);

    private static long Create(Task t, int flags) => t.Group.Fds.Add(new EventPoll(), (flags & OpenFlags.CloseOnExec) != 0);

    /// <summary>
    /// epoll_ctl(2), checked in do_epoll_ctl()'s order: the event (EFAULT), both fds (EBADF, O_PATH too), a
    /// target without poll (EPERM: regular files, directories, /dev/null and the like), an epfd that is no epoll instance
    /// or is the target itself (EINVAL), EPOLLEXCLUSIVE misuse (EINVAL), then the operation.
    /// EPOLLERR and EPOLLHUP are always watched; EPOLLWAKEUP is dropped, as for a caller
    /// without CAP_BLOCK_SUSPEND.
    /// </summary>
    private static long EpollCtl(Task t, in SyscallArgs a)
    {
        var op = (int)a.A1;
        var fd = (int)a.A2;
        uint events = 0;
        ulong data = 0;
        if (op != CtlDel)
        {
            Span<byte> b = stackalloc byte[EventSize];
            if (!t.CopyIn(a.A3, b))
            {
                return Errors.EFAULT;
            }

            events = BinaryPrimitives.ReadUInt32LittleEndian(b) & ~EpollEvents.WakeUp;
            data = BinaryPrimitives.ReadUInt64LittleEndian(b[4..]);
        }

        // fdget() does not see O_PATH descriptions.
        var file = t.Group.Fds.Get((int)a.A0);
        var target = t.Group.Fds.Get(fd);
        if (file is null || target is null || (target.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        if (!EventPoll.CanPoll(target))
        {
            return Errors.Fail(Errno.EPERM);
        }

        if (file == target || file is not EventPoll ep)
        {
            return Errors.EINVAL;
        }

        if (op != CtlDel && (events & EpollEvents.Exclusive) != 0 &&
            (op == CtlMod || target is EventPoll || (events & ~ExclusiveOkBits) != 0))
        {
            return Errors.EINVAL;
        }

        events |= PollEvents.Err | PollEvents.Hup;
        var e = op switch
        {
            CtlAdd => ep.Add(target, fd, events, data),
            CtlMod => ep.Modify(target, fd, events, data),
            CtlDel => ep.Delete(target, fd),
            _ => Errno.EINVAL,
        };
        return Errors.Fail(e);
    }

    private static long EpollWait(Task t, in SyscallArgs a) => Wait(t, a, TimeoutOf((int)a.A3));

    /// <summary>epoll_pwait(2): epoll_wait with the signal mask swapped for the wait, as ppoll(2) does.</summary>
    private static long EpollPwait(Task t, in SyscallArgs a)
    {
        var masked = Poll.ApplyTemporaryMask(t, a.A4, a.A5);
        return masked != 0 ? masked : Wait(t, a, TimeoutOf((int)a.A3));
    }

    /// <summary>epoll_pwait2(2): the timeout is a timespec (NULL: forever; an invalid one EINVAL).</summary>
    private static long EpollPwait2(Task t, in SyscallArgs a)
    {
        if (!Poll.ReadTimespec(t, a.A3, out var deadline, out var immediate))
        {
            return Errors.EFAULT;
        }

        if (deadline is null)
        {
            return Errors.EINVAL;
        }

        var masked = Poll.ApplyTemporaryMask(t, a.A4, a.A5);
        return masked != 0 ? masked : Wait(t, a, (deadline.Value, immediate));
    }

    /// <summary>epoll_wait's milliseconds: negative waits forever, 0 returns at once.</summary>
    private static (Deadline Deadline, bool Immediate) TimeoutOf(int ms) =>
        (ms < 0 ? Deadline.Never : Deadline.After(TimeSpan.FromMilliseconds(ms)), ms == 0);

    /// <summary>
    /// do_epoll_wait() and ep_poll(): ready events are returned first, then a passed timeout
    /// returns 0, and a signal fails the wait with EINTR, which is never restarted (signal(7)).
    /// </summary>
    private static long Wait(Task t, in SyscallArgs a, (Deadline Deadline, bool Immediate) timeout)
    {
        var max = (int)a.A2;
        if (max <= 0 || max > MaxEvents)
        {
            return Errors.EINVAL;
        }

        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        if (file is not EventPoll ep)
        {
            return Errors.EINVAL;
        }

        var address = a.A1;
        bool Deliver(List<(uint Events, ulong Data)> ready)
        {
            var b = new byte[ready.Count * EventSize];
            for (var i = 0; i < ready.Count; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i * EventSize), ready[i].Events);
                BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan((i * EventSize) + 4), ready[i].Data);
            }

            return t.CopyOut(address, b);
        }

        int Scan() => ep.SendEvents(max, Deliver);
        if (timeout.Immediate)
        {
            return Scan();
        }

        using var waiter = new PollWaiter();
        waiter.Watch(ep);
        var result = waiter.Wait(t, Scan, timeout.Deadline);
        return result == -(long)Errno.ERESTARTSYS ? Errors.Fail(Errno.EINTR) : result;
    }
}
