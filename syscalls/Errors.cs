using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>The one place errnos become syscall results.</summary>
internal static class Errors
{
    /// <summary>The syscall return value for an errno: its negation.</summary>
    public static long Fail(Errno e) => -(long)e;

    public static readonly long EFAULT = Fail(Errno.EFAULT);
    public static readonly long EBADF = Fail(Errno.EBADF);
    public static readonly long EINVAL = Fail(Errno.EINVAL);
    public static readonly long ENOSYS = Fail(Errno.ENOSYS);
    public static readonly long ENOMEM = Fail(Errno.ENOMEM);
    public static readonly long ENOENT = Fail(Errno.ENOENT);
    public static readonly long ERANGE = Fail(Errno.ERANGE);
}
