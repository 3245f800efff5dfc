using System.Buffers;
using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// The directory tree: getcwd(2), chdir(2), fchdir(2), getdents64(2), readlink(2), and the
/// namespace changes mkdir(2), unlink(2), rmdir(2), rename(2), symlink(2), link(2) with their
/// *at(2) forms.
/// </summary>
internal static unsafe class Directories
{
    private const int RenameNoReplace = 1, RenameExchange = 2, RenameWhiteout = 4;
    private const uint MkdirModeMask = 0x3FF; // S_IRWXUGO | S_ISVTX

    /// <summary>The largest getdents64 buffer we fill in one call (Linux takes up to INT_MAX; fewer records is fine).</summary>
    private const int MaxDentsChunk = 1 << 20;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Getcwd, &Getcwd, Arg.Ptr, Arg.Int);
        t.Add(Nr.Chdir, &Chdir, Arg.Str);
        t.Add(Nr.Fchdir, &Fchdir, Arg.Fd);
        t.Add(Nr.Chroot, &Chroot, Arg.Str);
        t.Add(Nr.Getdents64, &Getdents64, Arg.Fd, Arg.Ptr, Arg.Int);
        t.Add(Nr.Readlink, &Readlink, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Readlinkat, &Readlinkat, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Mkdir, &Mkdir, Arg.Str, Arg.Hex);
        t.Add(Nr.Mkdirat, &Mkdirat, Arg.Fd, Arg.Str, Arg.Hex);
        t.Add(Nr.Unlink, &Unlink, Arg.Str);
        t.Add(Nr.Unlinkat, &Unlinkat, Arg.Fd, Arg.Str, Arg.Hex);
        t.Add(Nr.Rmdir, &Rmdir, Arg.Str);
        t.Add(Nr.Rename, &Rename, Arg.Str, Arg.Str);
        t.Add(Nr.Renameat, &Renameat, Arg.Fd, Arg.Str, Arg.Fd, Arg.Str);
        t.Add(Nr.Renameat2, &Renameat2, Arg.Fd, Arg.Str, Arg.Fd, Arg.Str, Arg.Hex);
        t.Add(Nr.Symlink, &Symlink, Arg.Str, Arg.Str);
        t.Add(Nr.Symlinkat, &Symlinkat, Arg.Str, Arg.Fd, Arg.Str);
        t.Add(Nr.Link, &Link, Arg.Str, Arg.Str);
        t.Add(Nr.Linkat, &Linkat, Arg.Fd, Arg.Str, Arg.Fd, Arg.Str, Arg.Hex);
        t.Add(Nr.Mknod, &Mknod, Arg.Str, Arg.Hex, Arg.Hex);
        t.Add(Nr.Mknodat, &Mknodat, Arg.Fd, Arg.Str, Arg.Hex, Arg.Hex);
    }

    private static long Mknod(Task t, in SyscallArgs a) => DoMknod(t, FileOpen.AtFdCwd, a.A0, (uint)a.A1, a.A2);

    private static long Mknodat(Task t, in SyscallArgs a) => DoMknod(t, (int)a.A0, a.A1, (uint)a.A2, a.A3);

    /// <summary>mknod(2): a type of 0 means a regular file; directories and unknown types are EINVAL (EPERM for a directory).</summary>
    private static long DoMknod(Task t, int dirfd, ulong pathAddress, uint mode, ulong device)
    {
        var type = mode & InodeMode.TypeMask;
        if (type == 0)
        {
            mode |= InodeMode.Regular;
        }
        else if (type == InodeMode.Directory)
        {
            return Errors.Fail(Errno.EPERM);
        }
        else if (type is not (InodeMode.Regular or InodeMode.Char or InodeMode.Block or InodeMode.Fifo or InodeMode.Socket))
        {
            return Errors.EINVAL;
        }

        var e = FileOpen.ReadAndResolve(t, dirfd, pathAddress, out var path);
        if (e == Errno.None)
        {
            e = t.Kernel.Vfs.MakeNode(t, path, (mode & InodeMode.TypeMask) | (mode & 0xFFF & ~t.Group.Umask), device);
        }

        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    // ---------------------------------------------------------------- working directory

    /// <summary>getcwd(2): the length including the NUL, ERANGE when it does not fit.</summary>
    private static long Getcwd(Task t, in SyscallArgs a)
    {
        // getcwd(2): ENOENT once the working directory has been removed.
        if (t.Group.Cwd.EndsWith(VirtualFileSystem.DeletedSuffix, StringComparison.Ordinal))
        {
            return Errors.Fail(Errno.ENOENT);
        }

        var bytes = Encoding.UTF8.GetBytes((t.Group.Fs.UnreachableCwd is { } away ? "(unreachable)" + away : t.Group.Cwd) + "\0");
        if (a.A1 < (ulong)bytes.Length)
        {
            return Errors.ERANGE;
        }

        return t.CopyOut(a.A0, bytes) ? bytes.Length : Errors.EFAULT;
    }

    /// <summary>chdir(2): the cwd becomes the canonical path the walk reaches (symlinks resolved, as getcwd then shows).</summary>
    private static long Chdir(Task t, in SyscallArgs a)
    {
        var e = WalkToSearchableDirectory(t, a.A0, out var r);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        t.Group.Cwd = r.Path;
        t.Group.Fs.UnreachableCwd = null;
        return 0;
    }

    /// <summary>
    /// chroot(2): the directory becomes the process's root (shared with CLONE_FS threads and
    /// inherited by children): walks start there and ".." stops there. Only root may
    /// (CAP_SYS_CHROOT, EPERM). The cwd stays where it is when it is inside the new root (shown
    /// relative to it); one outside the new root (which Linux keeps, unreachable: getcwd says so)
    /// is walked from as the new root. Fds opened before keep the paths they were opened by, now read below the new root.
    /// </summary>
    private static long Chroot(Task t, in SyscallArgs a)
    {
        var e = WalkToSearchableDirectory(t, a.A0, out var r);
        if (e == Errno.None && !t.Cred.IsPrivileged)
        {
            e = Errno.EPERM;
        }

        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        var fs = t.Group.Fs;
        var oldRoot = fs.Root;
        var cwd = oldRoot == "/" ? fs.Cwd : fs.Cwd == "/" ? oldRoot : oldRoot + fs.Cwd;
        var newRoot = r.GlobalPath;
        var inside = newRoot == "/" || cwd == newRoot || cwd.StartsWith(newRoot + "/", StringComparison.Ordinal);
        fs.Cwd = newRoot == "/" ? cwd : cwd == newRoot || !inside ? "/" : cwd[newRoot.Length..];
        fs.UnreachableCwd = inside ? null : fs.UnreachableCwd ?? cwd;
        fs.Root = newRoot;
        return 0;
    }

    /// <summary>The directory chdir(2) and chroot(2) name: it must exist, be a directory and be searchable (EACCES).</summary>
    private static Errno WalkToSearchableDirectory(Task t, ulong pathAddress, out WalkResult r)
    {
        r = default;
        var e = FileOpen.ReadAndResolve(t, FileOpen.AtFdCwd, pathAddress, out var path);
        if (e == Errno.None)
        {
            e = t.Kernel.Vfs.Walk(t, path, WalkFlags.Follow, out r);
        }

        if (e != Errno.None)
        {
            return e;
        }

        if (!r.Exists)
        {
            return Errno.ENOENT;
        }

        return r.MagicFile is not null || !r.Stat.IsDirectory ? Errno.ENOTDIR : Permission.Check(r, t, t.Cred, Permission.MayExec);
    }

    /// <summary>fchdir(2): like chdir(2) to the directory the descriptor names, which must be searchable.</summary>
    private static long Fchdir(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        var e = file.Stat(out var st);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        e = !st.IsDirectory ? Errno.ENOTDIR : Permission.Check(t.Cred, st, Permission.MayExec);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        t.Group.Cwd = FileOpen.PathOf(t, file);
        t.Group.Fs.UnreachableCwd = null;
        return 0;
    }

    // ---------------------------------------------------------------- reading directories

    /// <summary>
    /// getdents64(2) from the description's position. When the records cannot be copied out
    /// the position is put back, so no entry is lost (Linux writes in place and cannot fail late).
    /// </summary>
    private static long Getdents64(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null || (file.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        var count = (int)Math.Min(a.A2, (ulong)MaxDentsChunk);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(count, 1));
        try
        {
            var before = file.Seek(0, 1);
            var n = file.GetDents64(buffer.AsSpan(0, count));
            if (n >= 0)
            {
                // iterate_dir() reports every listing, the last empty one too.
                file.Fsnotify?.Accessed(file);
            }

            if (n <= 0)
            {
                return n;
            }

            if (!t.CopyOut(a.A1, buffer.AsSpan(0, (int)n)))
            {
                if (before >= 0)
                {
                    file.Seek(before, 0);
                }

                return Errors.EFAULT;
            }

            return n;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    // ---------------------------------------------------------------- symbolic links

    private static long Readlink(Task t, in SyscallArgs a) => DoReadlink(t, FileOpen.AtFdCwd, a.A0, a.A1, (int)a.A2);

    private static long Readlinkat(Task t, in SyscallArgs a) => DoReadlink(t, (int)a.A0, a.A1, a.A2, (int)a.A3);

    /// <summary>
    /// readlink(2): the target, truncated to <paramref name="size"/> and not NUL-terminated.
    /// This process's /proc links answer with guest paths: /proc/self/exe must name the guest
    /// program (busybox re-executes itself through it).
    /// </summary>
    private static long DoReadlink(Task t, int dirfd, ulong pathAddress, ulong buffer, int size)
    {
        if (size <= 0)
        {
            return Errors.EINVAL;
        }

        var e = FileOpen.ReadPath(t, pathAddress, out var path);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        string target;
        if (path.Length == 0)
        {
            // An empty path reads the symlink dirfd is opened on (O_PATH | O_NOFOLLOW).
            if (dirfd == FileOpen.AtFdCwd)
            {
                return Errors.ENOENT;
            }

            var file = t.Group.Fds.Get(dirfd);
            if (file is null)
            {
                return Errors.EBADF;
            }

            if (file.Stat(out var st) != Errno.None || (st.Mode & Kernel.Vfs.InodeMode.TypeMask) != Kernel.Vfs.InodeMode.Symlink)
            {
                return Errors.ENOENT;
            }

            e = t.Kernel.Vfs.ReadLink(t, FileOpen.PathOf(t, file), out target);
        }
        else
        {
            e = FileOpen.Resolve(t, dirfd, path, out var resolved);
            if (e != Errno.None)
            {
                return Errors.Fail(e);
            }

            e = t.Kernel.Vfs.ReadLink(t, resolved, out target);
        }

        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        var bytes = Encoding.UTF8.GetBytes(target);
        var n = Math.Min(bytes.Length, size);
        return t.CopyOut(buffer, bytes.AsSpan(0, n)) ? n : Errors.EFAULT;
    }

    private static long Symlink(Task t, in SyscallArgs a) => DoSymlink(t, a.A0, FileOpen.AtFdCwd, a.A1);

    private static long Symlinkat(Task t, in SyscallArgs a) => DoSymlink(t, a.A0, (int)a.A1, a.A2);

    /// <summary>symlink(2): the target is stored as given; an empty one is ENOENT.</summary>
    private static long DoSymlink(Task t, ulong targetAddress, int dirfd, ulong linkAddress)
    {
        var e = FileOpen.ReadPath(t, targetAddress, out var target);
        if (e == Errno.None && target.Length == 0)
        {
            e = Errno.ENOENT;
        }

        if (e == Errno.None)
        {
            e = FileOpen.ReadAndResolve(t, dirfd, linkAddress, out var link);
            if (e == Errno.None)
            {
                e = t.Kernel.Vfs.Symlink(t, target, link);
            }
        }

        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    // ---------------------------------------------------------------- creating and removing names

    private static long Mkdir(Task t, in SyscallArgs a) => DoMkdir(t, FileOpen.AtFdCwd, a.A0, (uint)a.A1);

    private static long Mkdirat(Task t, in SyscallArgs a) => DoMkdir(t, (int)a.A0, a.A1, (uint)a.A2);

    private static long DoMkdir(Task t, int dirfd, ulong pathAddress, uint mode)
    {
        var e = FileOpen.ReadAndResolve(t, dirfd, pathAddress, out var path);
        if (e == Errno.None)
        {
            e = t.Kernel.Vfs.MakeDirectory(t, path, mode & MkdirModeMask & ~t.Group.Umask);
        }

        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    private static long Unlink(Task t, in SyscallArgs a) => DoUnlink(t, FileOpen.AtFdCwd, a.A0, 0);

    private static long Rmdir(Task t, in SyscallArgs a) => DoUnlink(t, FileOpen.AtFdCwd, a.A0, FileOpen.AtRemoveDir);

    private static long Unlinkat(Task t, in SyscallArgs a)
    {
        var flags = (int)a.A2;
        return (flags & ~FileOpen.AtRemoveDir) != 0 ? Errors.EINVAL : DoUnlink(t, (int)a.A0, a.A1, flags);
    }

    private static long DoUnlink(Task t, int dirfd, ulong pathAddress, int flags)
    {
        var removeDirectory = (flags & FileOpen.AtRemoveDir) != 0;
        var e = FileOpen.ReadPath(t, pathAddress, out var raw);
        var path = "";
        if (e == Errno.None)
        {
            e = FileOpen.Resolve(t, dirfd, raw, out path);
        }

        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        // do_rmdir()/do_unlinkat(): the last component must be a real name.
        var last = FileOpen.LastComponent(raw);
        if (removeDirectory)
        {
            if (last == ".")
            {
                return Errors.EINVAL;
            }

            if (last == "..")
            {
                return Errors.Fail(Errno.ENOTEMPTY);
            }

        }
        else if (last is "." or "..")
        {
            return Errors.Fail(Errno.EISDIR);
        }

        e = t.Kernel.Vfs.Unlink(t, path, removeDirectory);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    private static long Rename(Task t, in SyscallArgs a) => DoRename(t, FileOpen.AtFdCwd, a.A0, FileOpen.AtFdCwd, a.A1, 0);

    private static long Renameat(Task t, in SyscallArgs a) => DoRename(t, (int)a.A0, a.A1, (int)a.A2, a.A3, 0);

    private static long Renameat2(Task t, in SyscallArgs a) => DoRename(t, (int)a.A0, a.A1, (int)a.A2, a.A3, (int)a.A4);

    private static long DoRename(Task t, int oldDirfd, ulong oldAddress, int newDirfd, ulong newAddress, int flags)
    {
        if ((flags & ~(RenameNoReplace | RenameExchange | RenameWhiteout)) != 0 ||
            ((flags & RenameNoReplace) != 0 && (flags & (RenameExchange | RenameWhiteout)) != 0) ||
            ((flags & RenameExchange) != 0 && (flags & RenameWhiteout) != 0))
        {
            return Errors.EINVAL;
        }

        var e = FileOpen.ReadPath(t, oldAddress, out var oldRaw);
        var newRaw = "";
        if (e == Errno.None)
        {
            e = FileOpen.ReadPath(t, newAddress, out newRaw);
        }

        string oldPath = "", newPath = "";
        if (e == Errno.None)
        {
            e = FileOpen.Resolve(t, oldDirfd, oldRaw, out oldPath);
        }

        if (e == Errno.None)
        {
            e = FileOpen.Resolve(t, newDirfd, newRaw, out newPath);
        }

        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        // do_renameat2(): "." , ".." and "/" cannot be renamed or replaced.
        if (FileOpen.LastComponent(oldRaw) is "." or ".." || FileOpen.LastComponent(newRaw) is "." or "..")
        {
            return Errors.Fail(Errno.EBUSY);
        }

        e = t.Kernel.Vfs.Rename(t, oldPath, newPath, flags);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    private static long Link(Task t, in SyscallArgs a) => DoLink(t, FileOpen.AtFdCwd, a.A0, FileOpen.AtFdCwd, a.A1, 0);

    private static long Linkat(Task t, in SyscallArgs a) => DoLink(t, (int)a.A0, a.A1, (int)a.A2, a.A3, (int)a.A4);

    /// <summary>link(2): by default the new name is a link to a symlink itself; AT_SYMLINK_FOLLOW links its target.</summary>
    private static long DoLink(Task t, int oldDirfd, ulong oldAddress, int newDirfd, ulong newAddress, int flags)
    {
        if ((flags & ~(FileOpen.AtSymlinkFollow | FileOpen.AtEmptyPath)) != 0)
        {
            return Errors.EINVAL;
        }

        var e = FileOpen.ReadPath(t, oldAddress, out var oldRaw);
        string oldPath = "", newPath = "";
        OpenFile? unnamed = null;
        var follow = (flags & FileOpen.AtSymlinkFollow) != 0;
        if (e == Errno.None)
        {
            if (oldRaw.Length == 0 && (flags & FileOpen.AtEmptyPath) != 0)
            {
                // The file itself; one without a name (O_TMPFILE) is linked by the file, not a path.
                var file = t.Group.Fds.Get(oldDirfd);
                e = file is null ? Errno.EBADF : Errno.None;
                oldPath = file is null ? "" : FileOpen.PathOf(t, file);
                unnamed = file is not null && VirtualFileSystem.IsUnnamed(file.Path) ? file : null;
                follow = false;
            }
            else
            {
                e = FileOpen.Resolve(t, oldDirfd, oldRaw, out oldPath);
            }
        }

        if (e == Errno.None)
        {
            e = FileOpen.ReadAndResolve(t, newDirfd, newAddress, out newPath);
        }

        if (e == Errno.None)
        {
            e = unnamed is not null ? t.Kernel.Vfs.LinkFile(t, unnamed, newPath) : t.Kernel.Vfs.Link(t, oldPath, newPath, follow);
        }

        return e == Errno.None ? 0 : Errors.Fail(e);
    }
}
