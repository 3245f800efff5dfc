using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>inotify_init(2), inotify_init1(2), inotify_add_watch(2), inotify_rm_watch(2): see inotify(7).</summary>
internal static unsafe class InotifyCalls
{
    public static void Register(SyscallTable t)
    {
        t.Add(Nr.InotifyInit, &InotifyInit);
        t.Add(Nr.InotifyInit1, &InotifyInit1, Arg.Hex);
        t.Add(Nr.InotifyAddWatch, &InotifyAddWatch, Arg.Fd, Arg.Str, Arg.Hex);
        t.Add(Nr.InotifyRmWatch, &InotifyRmWatch, Arg.Fd, Arg.Int);
    }

    private static long InotifyInit(Task t, in SyscallArgs a) => Create(t, 0);

    private static long InotifyInit1(Task t, in SyscallArgs a) => Create(t, (int)a.A0);

    /// <summary>A new instance on an fd; IN_NONBLOCK and IN_CLOEXEC are O_NONBLOCK and O_CLOEXEC, other flags EINVAL.</summary>
    private static long Create(Task t, int flags)
    {
        if ((flags & ~(OpenFlags.CloseOnExec | OpenFlags.NonBlock)) != 0)
        {
            return Errors.EINVAL;
        }

        var instance = new Inotify(t.Kernel.Vfs.Fsnotify, flags & OpenFlags.NonBlock);
        var fd = t.Group.Fds.Add(instance, (flags & OpenFlags.CloseOnExec) != 0);
        if (fd < 0)
        {
            instance.Release();
        }

        return fd;
    }

    /// <summary>
    /// inotify_add_watch(2), checked in Linux's order: the mask (unknown bits, no bits at all),
    /// the fd (EBADF), IN_MASK_ADD with IN_MASK_CREATE, an fd that is no inotify instance
    /// (EINVAL), then the path (followed unless IN_DONT_FOLLOW, a directory for IN_ONLYDIR)
    /// and read permission on what it names.
    /// </summary>
    private static long InotifyAddWatch(Task t, in SyscallArgs a)
    {
        var mask = (uint)a.A2;
        if ((mask & ~InotifyMask.Valid) != 0 || mask == 0)
        {
            return Errors.EINVAL;
        }

        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        if ((mask & InotifyMask.MaskAdd) != 0 && (mask & InotifyMask.MaskCreate) != 0 || file is not Inotify instance)
        {
            return Errors.EINVAL;
        }

        var e = FileOpen.ReadAndResolve(t, FileOpen.AtFdCwd, a.A1, out var path);
        if (e == Errno.None)
        {
            var follow = (mask & InotifyMask.DontFollow) == 0 ? WalkFlags.Follow : WalkFlags.None;
            e = t.Kernel.Vfs.Walk(t, path, follow, out var r);
            if (e == Errno.None && !r.Exists)
            {
                e = Errno.ENOENT;
            }

            if (e == Errno.None && (mask & InotifyMask.OnlyDir) != 0 && !r.Stat.IsDirectory)
            {
                e = Errno.ENOTDIR;
            }

            // "The caller must have read permission for this file."
            if (e == Errno.None)
            {
                e = Permission.Check(t.Cred, r.Stat, Permission.MayRead);
            }

            if (e == Errno.None)
            {
                return t.Kernel.Vfs.Fsnotify.AddWatch(instance, r, mask, OpenFiles(t));
            }
        }

        return Errors.Fail(e);
    }

    /// <summary>
    /// Every open file description of the kernel instance's processes, gathered before fsnotify
    /// takes its lock (closing a file takes it while holding an fd table's).
    /// </summary>
    private static List<OpenFile> OpenFiles(Task t) =>
        t.Kernel.Processes().SelectMany(g => g.Fds.OpenFds().Select(g.Fds.Get)).OfType<OpenFile>().Distinct().ToList();

    /// <summary>inotify_rm_watch(2): the watch goes, and IN_IGNORED is queued for it.</summary>
    private static long InotifyRmWatch(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        return file is Inotify instance && t.Kernel.Vfs.Fsnotify.RemoveWatch(instance, (int)a.A1) ? 0 : Errors.EINVAL;
    }
}
