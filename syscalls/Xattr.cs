using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>
/// The extended-attribute calls (xattr(7)). None of our filesystems stores extended
/// attributes yet, so after the usual checks (the file exists, the fd is open, the name is
/// readable and at most 255 bytes) every call answers EOPNOTSUPP, as Linux does for a
/// filesystem without xattr support — which programs such as ls -l take in their stride.
/// </summary>
internal static unsafe class Xattr
{
    private const int NameMax = 255;
    private const int AtFdCwd = -100;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Getxattr, &ByPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Lgetxattr, &ByLinkPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Fgetxattr, &ByFd, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Setxattr, &ByPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Lsetxattr, &ByLinkPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Fsetxattr, &ByFd, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Removexattr, &ByPath, Arg.Str, Arg.Str);
        t.Add(Nr.Lremovexattr, &ByLinkPath, Arg.Str, Arg.Str);
        t.Add(Nr.Fremovexattr, &ByFd, Arg.Fd, Arg.Str);
        t.Add(Nr.Listxattr, &ListByPath, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Llistxattr, &ListByLinkPath, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Flistxattr, &ListByFd, Arg.Fd, Arg.Ptr, Arg.Int);
    }

    private static long ByPath(Task t, in SyscallArgs a) => OnPath(t, a.A0, follow: true) is var e && e != 0 ? e : Named(t, a.A1);

    private static long ByLinkPath(Task t, in SyscallArgs a) => OnPath(t, a.A0, follow: false) is var e && e != 0 ? e : Named(t, a.A1);

    private static long ByFd(Task t, in SyscallArgs a) => t.Group.Fds.Get((int)a.A0) is null ? Errors.EBADF : Named(t, a.A1);

    private static long ListByPath(Task t, in SyscallArgs a) => OnPath(t, a.A0, follow: true) is var e && e != 0 ? e : Unsupported;

    private static long ListByLinkPath(Task t, in SyscallArgs a) => OnPath(t, a.A0, follow: false) is var e && e != 0 ? e : Unsupported;

    private static long ListByFd(Task t, in SyscallArgs a) => t.Group.Fds.Get((int)a.A0) is null ? Errors.EBADF : Unsupported;

    private static readonly long Unsupported = Errors.Fail(Errno.EOPNOTSUPP);

    /// <summary>The path must name an existing file (ENOENT, ENOTDIR, EFAULT... as stat would say).</summary>
    private static long OnPath(Task t, ulong pathAddress, bool follow)
    {
        var e = FileOpen.ReadAndResolve(t, AtFdCwd, pathAddress, out var resolved);
        if (e == Errno.None)
        {
            e = t.Kernel.Vfs.Stat(t, resolved, follow, out _);
        }

        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    /// <summary>The attribute name must be readable and short enough (ERANGE), then the filesystem says no.</summary>
    private static long Named(Task t, ulong nameAddress)
    {
        var name = t.ReadString(nameAddress, NameMax + 1);
        if (name is null)
        {
            return t.ReadString(nameAddress, 64 * 1024) is null ? Errors.EFAULT : Errors.ERANGE;
        }

        return name.Length == 0 ? Errors.ERANGE : Unsupported;
    }
}
