using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>
/// Sockets are not offered yet: socket(2) and socketpair(2) answer EAFNOSUPPORT ("the
/// implementation does not support the address family") for every family, so programs
/// that merely probe (ls and sqlite3 looking for nscd) carry on as they would without it.
/// With no socket in existence, every open fd is "not a socket" for the calls that ask.
/// </summary>
internal static unsafe class Sockets
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Socket, &NoFamily, Arg.Int, Arg.Hex, Arg.Int);
        t.Add(Nr.Socketpair, &NoFamily, Arg.Int, Arg.Hex, Arg.Int, Arg.Ptr);
        t.Add(Nr.Getpeername, &NotASocket, Arg.Fd, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getsockname, &NotASocket, Arg.Fd, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getsockopt, &NotASocket, Arg.Fd, Arg.Int, Arg.Int, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Setsockopt, &NotASocket, Arg.Fd, Arg.Int, Arg.Int, Arg.Ptr, Arg.Int);
        t.Add(Nr.Shutdown, &NotASocket, Arg.Fd, Arg.Int);
    }

    private static long NoFamily(Task t, in SyscallArgs a) => Errors.Fail(Errno.EAFNOSUPPORT);

    private static long NotASocket(Task t, in SyscallArgs a) =>
        t.Group.Fds.Get((int)a.A0) is null ? Errors.EBADF : Errors.Fail(Errno.ENOTSOCK);
}
