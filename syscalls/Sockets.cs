using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>
/// The socket calls that ask about an fd. No socket can exist yet (socket(2) itself is
/// not offered), so every open fd is "not a socket" — which is what programs such as bash
/// probe for on their stdin.
/// </summary>
internal static unsafe class Sockets
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Getpeername, &NotASocket, Arg.Fd, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getsockname, &NotASocket, Arg.Fd, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getsockopt, &NotASocket, Arg.Fd, Arg.Int, Arg.Int, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Setsockopt, &NotASocket, Arg.Fd, Arg.Int, Arg.Int, Arg.Ptr, Arg.Int);
        t.Add(Nr.Shutdown, &NotASocket, Arg.Fd, Arg.Int);
    }

    private static long NotASocket(Task t, in SyscallArgs a) =>
        t.Group.Fds.Get((int)a.A0) is null ? Errors.EBADF : Errors.Fail(Errno.ENOTSOCK);
}
