using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// The extended-attribute calls (xattr(7)), routed through the VFS to the filesystem: tmpfs
/// keeps user.*, trusted.* and security.* attributes; filesystems without support (hostfs,
/// procfs) answer EOPNOTSUPP, which programs such as ls -l take in their stride. The checks
/// Linux makes before asking the filesystem come first: the name (1..255 bytes, else ERANGE),
/// the flags (EINVAL) and the value size (at most 64 KiB, else E2BIG).
/// </summary>
internal static unsafe class Xattr
{
    private const int NameMax = 255;
    private const int SizeMax = 65536;
    private const int ListMax = 65536;
    private const int AtFdCwd = -100;
    private const int CreateOrReplace = 3;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Getxattr, &GetByPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Lgetxattr, &GetByLinkPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Fgetxattr, &GetByFd, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Setxattr, &SetByPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Lsetxattr, &SetByLinkPath, Arg.Str, Arg.Str, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Fsetxattr, &SetByFd, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Removexattr, &RemoveByPath, Arg.Str, Arg.Str);
        t.Add(Nr.Lremovexattr, &RemoveByLinkPath, Arg.Str, Arg.Str);
        t.Add(Nr.Fremovexattr, &RemoveByFd, Arg.Fd, Arg.Str);
        t.Add(Nr.Listxattr, &ListByPath, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Llistxattr, &ListByLinkPath, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Flistxattr, &ListByFd, Arg.Fd, Arg.Ptr, Arg.Int);
    }

    /// <summary>Where an attribute call acts: a path (followed or not) or an open file.</summary>
    private readonly struct Target(string? path, bool follow, OpenFile? file)
    {
        public Errno Get(Task t, string name, out byte[] value)
        {
            value = Array.Empty<byte>();
            return file is not null ? file.GetXattr(name, out value) : t.Kernel.Vfs.GetXattr(t, path!, follow, name, out value);
        }

        public Errno Set(Task t, string name, byte[] value, int flags) =>
            file is not null ? t.Kernel.Vfs.Fsnotify.Changed(file.SetXattr(name, value, flags), file, InotifyMask.Attrib) : t.Kernel.Vfs.SetXattr(t, path!, follow, name, value, flags);

        public Errno Remove(Task t, string name) =>
            file is not null ? t.Kernel.Vfs.Fsnotify.Changed(file.RemoveXattr(name), file, InotifyMask.Attrib) : t.Kernel.Vfs.RemoveXattr(t, path!, follow, name);

        public Errno List(Task t, out List<string> names)
        {
            names = new List<string>();
            return file is not null ? file.ListXattr(out names) : t.Kernel.Vfs.ListXattr(t, path!, follow, out names);
        }
    }

    private static long Resolve(Task t, ulong pathAddress, bool follow, out Target target)
    {
        target = default;
        var e = FileOpen.ReadAndResolve(t, AtFdCwd, pathAddress, out var resolved);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        target = new Target(resolved, follow, null);
        return 0;
    }

    private static long ByFd(Task t, ulong fd, out Target target)
    {
        target = default;
        var file = t.Group.Fds.Get((int)fd);
        if (file is null || (file.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        target = new Target(null, false, file);
        return 0;
    }

    /// <summary>The attribute name: readable (EFAULT) and 1..255 bytes (ERANGE).</summary>
    private static long ReadName(Task t, ulong address, out string name)
    {
        name = string.Empty;
        var s = t.ReadString(address, NameMax + 1);
        if (s is null)
        {
            return t.ReadString(address, 64 * 1024) is null ? Errors.EFAULT : Errors.ERANGE;
        }

        if (s.Length == 0)
        {
            return Errors.ERANGE;
        }

        name = s;
        return 0;
    }

    // ---------------------------------------------------------------- get

    private static long GetByPath(Task t, in SyscallArgs a) => Get(t, a, ReadName(t, a.A1, out var n), n, Resolve(t, a.A0, true, out var x), x);

    private static long GetByLinkPath(Task t, in SyscallArgs a) => Get(t, a, ReadName(t, a.A1, out var n), n, Resolve(t, a.A0, false, out var x), x);

    private static long GetByFd(Task t, in SyscallArgs a) => Get(t, a, ReadName(t, a.A1, out var n), n, ByFd(t, a.A0, out var x), x);

    private static long Get(Task t, in SyscallArgs a, long nameError, string name, long targetError, Target target)
    {
        if (targetError != 0)
        {
            return targetError;
        }

        if (nameError != 0)
        {
            return nameError;
        }

        var size = Math.Min((long)a.A3 & 0xFFFFFFFF, SizeMax);
        var e = target.Get(t, name, out var value);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        if (size == 0)
        {
            return value.Length;
        }

        if (value.Length > size)
        {
            return Errors.ERANGE;
        }

        return t.CopyOut(a.A2, value) ? value.Length : Errors.EFAULT;
    }

    // ---------------------------------------------------------------- set

    private static long SetByPath(Task t, in SyscallArgs a) => Set(t, a, ReadName(t, a.A1, out var n), n, Resolve(t, a.A0, true, out var x), x);

    private static long SetByLinkPath(Task t, in SyscallArgs a) => Set(t, a, ReadName(t, a.A1, out var n), n, Resolve(t, a.A0, false, out var x), x);

    private static long SetByFd(Task t, in SyscallArgs a) => Set(t, a, ReadName(t, a.A1, out var n), n, ByFd(t, a.A0, out var x), x);

    private static long Set(Task t, in SyscallArgs a, long nameError, string name, long targetError, Target target)
    {
        var flags = (int)a.A4;
        if ((flags & ~CreateOrReplace) != 0)
        {
            return Errors.EINVAL;
        }

        if (nameError != 0)
        {
            return nameError;
        }

        var size = (long)a.A3 & 0xFFFFFFFF;
        if (size > SizeMax)
        {
            return Errors.Fail(Errno.E2BIG);
        }

        var value = new byte[size];
        if (size > 0 && !t.CopyIn(a.A2, value))
        {
            return Errors.EFAULT;
        }

        if (targetError != 0)
        {
            return targetError;
        }

        var e = target.Set(t, name, value, flags);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    // ---------------------------------------------------------------- remove

    private static long RemoveByPath(Task t, in SyscallArgs a) => Remove(t, ReadName(t, a.A1, out var n), n, Resolve(t, a.A0, true, out var x), x);

    private static long RemoveByLinkPath(Task t, in SyscallArgs a) => Remove(t, ReadName(t, a.A1, out var n), n, Resolve(t, a.A0, false, out var x), x);

    private static long RemoveByFd(Task t, in SyscallArgs a) => Remove(t, ReadName(t, a.A1, out var n), n, ByFd(t, a.A0, out var x), x);

    private static long Remove(Task t, long nameError, string name, long targetError, Target target)
    {
        if (nameError != 0)
        {
            return nameError;
        }

        if (targetError != 0)
        {
            return targetError;
        }

        var e = target.Remove(t, name);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    // ---------------------------------------------------------------- list

    private static long ListByPath(Task t, in SyscallArgs a) => List(t, a, Resolve(t, a.A0, true, out var x), x);

    private static long ListByLinkPath(Task t, in SyscallArgs a) => List(t, a, Resolve(t, a.A0, false, out var x), x);

    private static long ListByFd(Task t, in SyscallArgs a) => List(t, a, ByFd(t, a.A0, out var x), x);

    private static long List(Task t, in SyscallArgs a, long targetError, Target target)
    {
        if (targetError != 0)
        {
            return targetError;
        }

        var size = Math.Min((long)a.A2 & 0xFFFFFFFF, ListMax);
        var e = target.List(t, out var names);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        var bytes = new List<byte>();
        foreach (var n in names)
        {
            bytes.AddRange(Encoding.UTF8.GetBytes(n));
            bytes.Add(0);
        }

        if (size == 0)
        {
            return bytes.Count;
        }

        if (bytes.Count > size)
        {
            return Errors.ERANGE;
        }

        return t.CopyOut(a.A1, bytes.ToArray()) ? bytes.Count : Errors.EFAULT;
    }
}
