namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// A kernel instance's VFS: its mount table and the path-based operations the syscalls use.
/// Paths are guest paths, absolute (callers join relative ones to the cwd or a directory fd's
/// path with <see cref="Join"/>) and walked by <see cref="PathWalk"/>; the filesystems get
/// symlink-free paths within themselves.
/// </summary>
public sealed class VirtualFileSystem
{
    private const int WriteOk = 2;
    private const int RenameNoReplace = 1, RenameExchange = 2;

    public MountTable Mounts { get; } = new();

    /// <summary>A path relative to canonical directory <paramref name="directory"/> made absolute (not normalised: the walk does that).</summary>
    public static string Join(string directory, string path) =>
        path.StartsWith('/') ? path : directory == "/" ? "/" + path : directory + "/" + path;

    public Errno Walk(Task? caller, string path, WalkFlags flags, out WalkResult result) =>
        PathWalk.Walk(Mounts, caller, path, flags, out result);

    private Errno WalkExisting(Task? caller, string path, bool follow, out WalkResult r)
    {
        var e = Walk(caller, path, follow ? WalkFlags.Follow : WalkFlags.None, out r);
        return e != Errno.None ? e : r.Exists ? Errno.None : Errno.ENOENT;
    }

    /// <summary>Mount-table path <paramref name="global"/> as seen below <paramref name="root"/> (which holds it).</summary>
    public static string Below(string root, string global) =>
        root == "/" ? global : global == root ? "/" : global.StartsWith(root + "/", StringComparison.Ordinal) ? global[root.Length..] : global;

    /// <summary>The canonical path of a mount point, which cannot be removed or renamed.</summary>
    private bool IsMountPoint(string canonical) => canonical == "/" || Mounts.At(canonical) is not null;

    /// <summary>open(2): O_NOFOLLOW and O_CREAT|O_EXCL do not follow a last-component symlink.</summary>
    public Errno Open(Task? caller, string path, int flags, uint mode, out OpenFile? file) =>
        Open(caller, path, flags, mode, out file, out _);

    /// <summary>
    /// open(2); <paramref name="shared"/> tells that the result is an existing open file
    /// description (a pipe through /proc/self/fd, the terminal through /dev/tty), whose path
    /// and flags are not this open's to set.
    /// </summary>
    public Errno Open(Task? caller, string path, int flags, uint mode, out OpenFile? file, out bool shared) =>
        Open(caller, path, flags, mode, out file, out shared, null);

    /// <summary>
    /// open(2) walking within <paramref name="scope"/> (openat2(2): RESOLVE_* flags, a root or
    /// start directory of its own); null walks as <paramref name="caller"/> does.
    /// </summary>
    public Errno Open(Task? caller, string path, int flags, uint mode, out OpenFile? file, out bool shared, WalkScope? scope)
    {
        file = null;
        shared = true;
        var creates = (flags & OpenFlags.Create) != 0;
        var exclusive = creates && (flags & OpenFlags.Exclusive) != 0;
        var follow = (flags & OpenFlags.NoFollow) == 0 && !exclusive;
        var e = scope is null
            ? Walk(caller, path, follow ? WalkFlags.Follow : WalkFlags.None, out var r)
            : PathWalk.Walk(Mounts, caller, path, follow ? WalkFlags.Follow : WalkFlags.None, scope, out r);
        if (e != Errno.None)
        {
            return e;
        }

        if (r.MagicFile is { } magic)
        {
            // A pipe or socket reopened through /proc/self/fd: the same object.
            magic.AddReference();
            file = magic;
            return Errno.None;
        }

        var writes = (flags & OpenFlags.AccessMode) != OpenFlags.ReadOnly || (flags & OpenFlags.Truncate) != 0;
        if (!r.Exists)
        {
            if ((flags & OpenFlags.TmpFile) == OpenFlags.TmpFile || !creates)
            {
                return Errno.ENOENT;
            }

            if (r.TrailingSlash)
            {
                return Errno.EISDIR;
            }

            if (r.Mount.ReadOnly)
            {
                return Errno.EROFS;
            }
        }
        else
        {
            if (exclusive)
            {
                return Errno.EEXIST;
            }

            if ((flags & OpenFlags.Path) == 0 && r.IsSymlink)
            {
                return Errno.ELOOP;
            }

            if ((flags & OpenFlags.Path) == 0 && r.Mount.ReadOnly && (writes || (flags & OpenFlags.TmpFile) == OpenFlags.TmpFile) &&
                r.Stat.IsRegular | r.Stat.IsDirectory)
            {
                return Errno.EROFS;
            }
        }

        e = r.FileSystem.Open(r.Relative, flags, mode, caller, out file);
        if (e == Errno.None && file is not null && (file.Path.Length == 0 || file.Path == r.Relative))
        {
            file.Root = caller?.Group.Fs.Root ?? "/";
            file.Path = scope is null ? r.Path : Below(file.Root, r.GlobalPath);
            shared = false;
        }

        return e;
    }

    /// <summary>stat(2)/lstat(2).</summary>
    public Errno Stat(Task? caller, string path, bool follow, out StatInfo stat)
    {
        stat = default;
        var e = WalkExisting(caller, path, follow, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        stat = r.Stat;
        return Errno.None;
    }

    /// <summary>readlink(2).</summary>
    public Errno ReadLink(Task? caller, string path, out string target)
    {
        target = "";
        var e = WalkExisting(caller, path, follow: false, out var r);
        return e != Errno.None ? e : r.FileSystem.ReadLink(r.Relative, caller, out target);
    }

    /// <summary>faccessat2(2).</summary>
    public Errno Access(Task? caller, string path, int mode, bool follow, bool effectiveIds)
    {
        var e = WalkExisting(caller, path, follow, out var r);
        if (e != Errno.None || r.MagicFile is not null)
        {
            return e;
        }

        if ((mode & WriteOk) != 0 && r.Mount.ReadOnly && !r.IsSymlink)
        {
            return Errno.EROFS;
        }

        return r.FileSystem.Access(r.Relative, mode, effectiveIds);
    }

    /// <summary>Walks to a name to create: EEXIST when it exists (a symlink, dangling or not, included).</summary>
    private Errno WalkNew(Task? caller, string path, out WalkResult r)
    {
        var e = Walk(caller, path, WalkFlags.NoFollowTrailing, out r);
        if (e != Errno.None)
        {
            return e;
        }

        if (r.Exists)
        {
            return Errno.EEXIST;
        }

        return r.Mount.ReadOnly ? Errno.EROFS : Errno.None;
    }

    /// <summary>mkdir(2).</summary>
    public Errno MakeDirectory(Task? caller, string path, uint mode)
    {
        var e = WalkNew(caller, path, out var r);
        return e != Errno.None ? e : r.FileSystem.MakeDirectory(r.Relative, mode);
    }

    /// <summary>mknod(2).</summary>
    public Errno MakeNode(Task? caller, string path, uint mode, ulong device)
    {
        var e = WalkNew(caller, path, out var r);
        if (e == Errno.None && r.TrailingSlash)
        {
            e = Errno.ENOENT;
        }

        return e != Errno.None ? e : r.FileSystem.MakeNode(r.Relative, mode, device);
    }

    /// <summary>symlink(2).</summary>
    public Errno Symlink(Task? caller, string target, string linkPath)
    {
        var e = WalkNew(caller, linkPath, out var r);
        if (e == Errno.None && r.TrailingSlash)
        {
            e = Errno.ENOENT;
        }

        return e != Errno.None ? e : r.FileSystem.Symlink(target, r.Relative);
    }

    /// <summary>unlink(2)/rmdir(2) of the last component itself.</summary>
    public Errno Unlink(Task? caller, string path, bool removeDirectory)
    {
        var e = Walk(caller, path, WalkFlags.NoFollowTrailing, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        if (!r.Exists)
        {
            return Errno.ENOENT;
        }

        if (r.TrailingSlash && !r.Stat.IsDirectory)
        {
            return Errno.ENOTDIR;
        }

        if (IsMountPoint(r.GlobalPath) || r.Path == "/")
        {
            return removeDirectory ? Errno.EBUSY : Errno.EISDIR;
        }

        if (r.Mount.ReadOnly)
        {
            return Errno.EROFS;
        }

        return r.FileSystem.Unlink(r.Relative, removeDirectory);
    }

    /// <summary>renameat2(2): both names within one mount (EXDEV otherwise).</summary>
    public Errno Rename(Task? caller, string oldPath, string newPath, int flags)
    {
        var e = Walk(caller, oldPath, WalkFlags.NoFollowTrailing, out var from);
        if (e != Errno.None)
        {
            return e;
        }

        if (!from.Exists)
        {
            return Errno.ENOENT;
        }

        e = Walk(caller, newPath, WalkFlags.NoFollowTrailing, out var to);
        if (e != Errno.None)
        {
            return e;
        }

        if ((from.TrailingSlash || to.TrailingSlash) && !from.Stat.IsDirectory)
        {
            return Errno.ENOTDIR;
        }

        if (IsMountPoint(from.GlobalPath) || IsMountPoint(to.GlobalPath) || from.Path == "/" || to.Path == "/")
        {
            return Errno.EBUSY;
        }

        if (from.Mount != to.Mount)
        {
            return Errno.EXDEV;
        }

        if (!to.Exists && (flags & RenameExchange) != 0)
        {
            return Errno.ENOENT;
        }

        if (to.Exists && (flags & RenameNoReplace) != 0)
        {
            return Errno.EEXIST;
        }

        if (from.Mount.ReadOnly)
        {
            return Errno.EROFS;
        }

        return from.FileSystem.Rename(from.Relative, to.Relative, flags);
    }

    /// <summary>link(2); <paramref name="followOld"/> is AT_SYMLINK_FOLLOW.</summary>
    public Errno Link(Task? caller, string oldPath, string newPath, bool followOld)
    {
        var e = WalkExisting(caller, oldPath, followOld, out var from);
        if (e != Errno.None)
        {
            return e;
        }

        if (from.MagicFile is not null || from.TrailingSlash)
        {
            return from.TrailingSlash && !from.Stat.IsDirectory ? Errno.ENOTDIR : Errno.EPERM;
        }

        e = WalkNew(caller, newPath, out var to);
        if (e != Errno.None)
        {
            return e;
        }

        if (to.TrailingSlash)
        {
            return from.Stat.IsDirectory ? Errno.EPERM : Errno.ENOENT;
        }

        if (from.Mount != to.Mount)
        {
            return Errno.EXDEV;
        }

        return from.FileSystem.Link(from.Relative, to.Relative);
    }

    /// <summary>Walks to an existing file whose attributes change: EROFS on a read-only mount.</summary>
    private Errno WalkToChange(Task? caller, string path, bool follow, out WalkResult r)
    {
        var e = WalkExisting(caller, path, follow, out r);
        return e != Errno.None ? e : r.Mount.ReadOnly && r.MagicFile is null ? Errno.EROFS : Errno.None;
    }

    /// <summary>chmod(2)/fchmodat(2).</summary>
    public Errno Chmod(Task? caller, string path, uint mode, bool follow)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        return e != Errno.None ? e : r.MagicFile is not null ? Errno.None : r.FileSystem.Chmod(r.Relative, mode);
    }

    /// <summary>chown(2)/lchown(2).</summary>
    public Errno Chown(Task? caller, string path, int uid, int gid, bool follow)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        return e != Errno.None ? e : r.MagicFile is not null ? Errno.None : r.FileSystem.Chown(r.Relative, uid, gid);
    }

    /// <summary>utimensat(2).</summary>
    public Errno Utimens(Task? caller, string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify, bool follow)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        return e != Errno.None ? e : r.MagicFile is not null ? Errno.None : r.FileSystem.Utimens(r.Relative, access, modify);
    }

    /// <summary>truncate(2).</summary>
    public Errno Truncate(Task? caller, string path, long length)
    {
        var e = WalkToChange(caller, path, follow: true, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        if (r.MagicFile is not null)
        {
            return Errno.EINVAL;
        }

        return r.Stat.IsDirectory ? Errno.EISDIR : r.FileSystem.Truncate(r.Relative, length);
    }

    /// <summary>statfs(2).</summary>
    public Errno StatFs(Task? caller, string path, out StatFsInfo info)
    {
        info = default;
        var e = WalkExisting(caller, path, follow: true, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        e = r.FileSystem.StatFs(r.Relative, out info);
        if (e == Errno.None && r.Mount.ReadOnly)
        {
            info.Flags |= 1; // ST_RDONLY
        }

        return e;
    }

    /// <summary>getxattr(2)/lgetxattr(2).</summary>
    public Errno GetXattr(Task? caller, string path, bool follow, string name, out byte[] value)
    {
        value = Array.Empty<byte>();
        var e = WalkExisting(caller, path, follow, out var r);
        return e != Errno.None ? e : r.MagicFile is { } magic ? magic.GetXattr(name, out value) : r.FileSystem.GetXattr(r.Relative, name, out value);
    }

    /// <summary>setxattr(2)/lsetxattr(2): EROFS on a read-only mount.</summary>
    public Errno SetXattr(Task? caller, string path, bool follow, string name, byte[] value, int flags)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        return e != Errno.None ? e : r.MagicFile is { } magic ? magic.SetXattr(name, value, flags) : r.FileSystem.SetXattr(r.Relative, name, value, flags);
    }

    /// <summary>removexattr(2)/lremovexattr(2).</summary>
    public Errno RemoveXattr(Task? caller, string path, bool follow, string name)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        return e != Errno.None ? e : r.MagicFile is { } magic ? magic.RemoveXattr(name) : r.FileSystem.RemoveXattr(r.Relative, name);
    }

    /// <summary>listxattr(2)/llistxattr(2).</summary>
    public Errno ListXattr(Task? caller, string path, bool follow, out List<string> names)
    {
        names = new List<string>();
        var e = WalkExisting(caller, path, follow, out var r);
        return e != Errno.None ? e : r.MagicFile is { } magic ? magic.ListXattr(out names) : r.FileSystem.ListXattr(r.Relative, out names);
    }
}
