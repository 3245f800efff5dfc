using UserModeOS.Kernel;
using UserModeOS.Kernel.Ipc;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>eventfd(2), eventfd2(2).</summary>
internal static unsafe class EventFdCalls
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Eventfd, &Eventfd, Arg.Int);
        t.Add(Nr.Eventfd2, &Eventfd2, Arg.Int, Arg.Hex);
    }

    private static long Eventfd(Task t, in SyscallArgs a) => Create(t, (uint)a.A0, 0);

    private static long Eventfd2(Task t, in SyscallArgs a) => Create(t, (uint)a.A0, (int)a.A1);

    /// <summary>A new counter starting at <paramref name="initial"/>; flags other than EFD_SEMAPHORE, EFD_NONBLOCK and EFD_CLOEXEC are EINVAL.</summary>
    private static long Create(Task t, uint initial, int flags)
    {
        if ((flags & ~(EventFd.Semaphore | OpenFlags.NonBlock | OpenFlags.CloseOnExec)) != 0)
        {
            return Errors.EINVAL;
        }

        return t.Group.Fds.Add(new EventFd(initial, flags), (flags & OpenFlags.CloseOnExec) != 0);
    }
}
