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
    private const long UtimeNow = (1 << 30) - 1, UtimeOmit = (1 << 30) - 2;

    /// <summary>What d_path() appends to the path of a file that has no name (/proc/self/fd shows it).</summary>
    public const string DeletedSuffix = " (deleted)";

    public MountTable Mounts { get; } = new();

    /// <summary>The inotify watches on this instance's files, and the hooks that report to them.</summary>
    public Fsnotify Fsnotify { get; } = new();

    /// <summary>The pipes of the fifos open on any of the mounts.</summary>
    public Ipc.FifoTable Fifos { get; } = new();

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

    /// <summary>The credentials <paramref name="caller"/> acts with; the host itself acts as root.</summary>
    private static Credentials CredOf(Task? caller) => caller?.Cred ?? Credentials.Root;

    /// <summary>The lstat of the directory holding a walk's last component.</summary>
    private Errno ParentStat(Task? caller, in WalkResult r, out StatInfo directory)
    {
        var parent = PathNames.Parent(r.GlobalPath);
        var mount = Mounts.Find(parent);
        return mount.FileSystem.Stat(mount.Relative(parent), caller, out directory);
    }

    /// <summary>may_create(): write and search permission on the directory a name is added to.</summary>
    /// <remarks>Root may always (CAP_DAC_OVERRIDE), so it is spared the directory's stat.</remarks>
    private Errno MayCreate(Task? caller, in WalkResult r, out StatInfo directory)
    {
        directory = default;
        var cred = CredOf(caller);
        if (cred.IsFsPrivileged)
        {
            return Errno.None;
        }

        var e = ParentStat(caller, r, out directory);
        return e != Errno.None ? e : Permission.MayCreate(cred, directory);
    }

    /// <summary>may_delete(): write and search permission on the directory, and the sticky bit's rule (root passes both).</summary>
    private Errno MayDelete(Task? caller, in WalkResult r)
    {
        var cred = CredOf(caller);
        if (cred.IsFsPrivileged)
        {
            return Errno.None;
        }

        var e = ParentStat(caller, r, out var directory);
        return e != Errno.None ? e : Permission.MayDelete(cred, directory, r.Stat);
    }

    /// <summary>
    /// inode_init_owner(): a new file belongs to the creator's filesystem uid, and to the
    /// directory's group when the directory is set-group-ID, else to the creator's filesystem
    /// gid. Filesystems create as root and inherit a set-group-ID directory's group themselves
    /// (as Linux's do), so only other creators cost a chown; their <paramref name="directory"/>
    /// is the one <see cref="MayCreate"/> read.
    /// </summary>
    private static void InitOwner(Task? caller, in WalkResult r, in StatInfo directory)
    {
        if (NewOwner(caller, directory) is (var uid, var gid))
        {
            r.FileSystem.Chown(r.Relative, uid, gid);
        }
    }

    /// <summary>The owner <see cref="InitOwner"/> gives a file made in <paramref name="directory"/>, or null for root's.</summary>
    private static (int Uid, int Gid)? NewOwner(Task? caller, in StatInfo directory)
    {
        var cred = CredOf(caller);
        var gid = (directory.Mode & InodeMode.SetGid) != 0 ? directory.Gid : cred.Fsgid;
        return cred.Fsuid != 0 || gid != 0 ? ((int)cred.Fsuid, (int)gid) : null;
    }

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
            // A pipe reopened through /proc/self/fd: the same object, if its inode lets us. A
            // socket cannot be opened (sock_no_open(): ENXIO), except with O_PATH.
            e = Permission.Check(CredOf(caller), r.Stat, Permission.ForOpen(flags));
            if (e != Errno.None)
            {
                return e;
            }

            if ((r.Stat.Mode & InodeMode.TypeMask) == InodeMode.Socket && (flags & OpenFlags.Path) == 0)
            {
                return Errno.ENXIO;
            }

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

            e = MayCreate(caller, r, out var directory);
            if (e != Errno.None)
            {
                return e;
            }

            e = r.FileSystem.Open(r.Relative, flags, mode, caller, out file);
            if (e == Errno.None)
            {
                InitOwner(caller, r, directory);
            }

            return Opened(caller, r, scope, file, e, ref shared);
        }
        else
        {
            if (exclusive)
            {
                return Errno.EEXIST;
            }

            if ((flags & OpenFlags.TmpFile) == OpenFlags.TmpFile)
            {
                return OpenTmpFile(caller, r, scope, flags, mode, out file, ref shared);
            }

            if ((flags & OpenFlags.Path) == 0 && r.MagicFile is null)
            {
                e = Permission.Check(r, caller, scope?.Cred ?? CredOf(caller), Permission.ForOpen(flags));
                if (e != Errno.None)
                {
                    return e;
                }
            }

            if ((flags & OpenFlags.Path) == 0 && r.IsSymlink)
            {
                return Errno.ELOOP;
            }

            if ((flags & OpenFlags.Path) == 0 && r.Mount.ReadOnly && writes &&
                r.Stat.IsRegular | r.Stat.IsDirectory)
            {
                return Errno.EROFS;
            }
        }

        // fifo(7): the pipe belongs to the inode, not to the filesystem, so fifos are opened here;
        // so are device nodes, which reach our drivers, never a host device. A socket's name is
        // for connect(2) only: open(2) gives ENXIO.
        var type = r.Stat.Mode & InodeMode.TypeMask;
        e = (flags & OpenFlags.Path) != 0 ? r.FileSystem.Open(r.Relative, flags, mode, caller, out file)
            : type == InodeMode.Socket ? Errno.ENXIO
            : type == InodeMode.Fifo ? Fifos.Open(caller, r.FileSystem, r.Relative, flags, mode, out file)
            : type is InodeMode.Char or InodeMode.Block ? OpenDevice(caller, r, flags, out file)
            : r.FileSystem.Open(r.Relative, flags, mode, caller, out file);
        return Opened(caller, r, scope, file, e, ref shared);
    }

    /// <summary>The device drivers by major and minor (devfs); without them every device node is ENXIO.</summary>
    public DeviceOpener? Devices { get; set; }

    /// <summary>
    /// open(2) of a device node on any filesystem: EACCES on a nodev mount, else the driver the
    /// node's major and minor name (ENXIO when there is none).
    /// </summary>
    private Errno OpenDevice(Task? caller, WalkResult r, int flags, out OpenFile? file)
    {
        file = null;
        if (r.Mount.NoDev)
        {
            return Errno.EACCES;
        }

        if (Devices is null)
        {
            return Errno.ENXIO;
        }

        var rdev = r.Stat.RDevice;
        var major = (uint)(((rdev >> 8) & 0xFFF) | ((rdev >> 32) & ~0xFFFUL));
        var minor = (uint)((rdev & 0xFF) | ((rdev >> 12) & ~0xFFUL));
        return Devices(major, minor, flags, caller, () =>
        {
            r.FileSystem.Stat(r.Relative, caller, out var st);
            return st;
        }, out file);
    }

    /// <summary>Names a newly opened file description after the walk that found it.</summary>
    private Errno Opened(Task? caller, in WalkResult r, WalkScope? scope, OpenFile? file, Errno e, ref bool shared)
    {
        if (e == Errno.None && file is not null && (file.Path.Length == 0 || file.Path == r.Relative))
        {
            file.Root = caller?.Group.Fs.Root ?? "/";
            file.Path = scope is null ? r.Path : Below(file.Root, r.GlobalPath);
            file.Mount = r.Mount;
            file.Fsnotify = Fsnotify;
            shared = false;
            Fsnotify.Opened(r, file);
        }

        return e;
    }

    /// <summary>
    /// open(2) with O_TMPFILE (do_tmpfile): the walk (following a last symlink unless
    /// O_NOFOLLOW) must end at a directory (ENOTDIR) on a writable mount that the caller may
    /// write and search; its filesystem makes the unnamed file (EOPNOTSUPP if it cannot). The
    /// file is "#ino (deleted)" in that directory, as /proc/self/fd shows it, and gets a name
    /// only through linkat(2).
    /// </summary>
    private Errno OpenTmpFile(Task? caller, in WalkResult r, WalkScope? scope, int flags, uint mode, out OpenFile? file, ref bool shared)
    {
        file = null;
        if (!r.Stat.IsDirectory)
        {
            return Errno.ENOTDIR;
        }

        var e = r.Mount.ReadOnly ? Errno.EROFS : Permission.MayCreate(CredOf(caller), r.Stat);
        if (e != Errno.None)
        {
            return e;
        }

        e = r.FileSystem.OpenTmpFile(r.Relative, flags, mode, out file);
        e = Opened(caller, r, scope, file, e, ref shared);
        if (e == Errno.None && file is not null && NewOwner(caller, r.Stat) is (var uid, var gid))
        {
            // inode_init_owner(), through the file: it has no name to chown by.
            r.FileSystem.Chown(file, uid, gid);
        }

        if (e == Errno.None && file is not null && file.Stat(out var st) == Errno.None)
        {
            file.Path = Join(file.Path, "#" + st.Inode.ToString(System.Globalization.CultureInfo.InvariantCulture)) + DeletedSuffix;
        }

        return e;
    }

    /// <summary>stat(2)/lstat(2), with the mount's part of statx(2) (see <see cref="AddMount"/>).</summary>
    public Errno Stat(Task? caller, string path, bool follow, out StatInfo stat)
    {
        stat = default;
        var e = WalkExisting(caller, path, follow, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        if (r.MagicFile is { } magic)
        {
            return StatFile(magic, out stat);
        }

        stat = r.Stat;
        AddMount(ref stat, r.Mount, r.Relative);
        return Errno.None;
    }

    /// <summary>fstat(2) with the mount's part of statx(2), for a file opened on a mount.</summary>
    public static Errno StatFile(OpenFile file, out StatInfo stat)
    {
        var e = file.Stat(out stat);
        if (e == Errno.None && file.Mount is { } mount)
        {
            AddMount(ref stat, mount, mount.Relative(GlobalPathOf(file)));
        }

        return e;
    }

    /// <summary>
    /// vfs_getattr_nosec() and vfs_statx(): on every filesystem the automount, mount-root and
    /// DAX attributes are known, and the root of a mount has STATX_ATTR_MOUNT_ROOT.
    /// </summary>
    private static void AddMount(ref StatInfo stat, Mount mount, string relative)
    {
        stat.MountId = mount.Id;
        stat.AttributesMask |= StatxBits.AttrAutomount | StatxBits.AttrMountRoot | StatxBits.AttrDax;
        if (relative == "/")
        {
            stat.Attributes |= StatxBits.AttrMountRoot;
        }
    }

    /// <summary>The mount-table path an open file was opened by.</summary>
    internal static string GlobalPathOf(OpenFile file) =>
        file.Root == "/" ? file.Path : file.Path == "/" ? file.Root : file.Root + file.Path;

    /// <summary>Whether an open file's <see cref="OpenFile.Path"/> names nothing to walk to: an O_TMPFILE file's, a pipe's, a socket's.</summary>
    public static bool IsUnnamed(string path) =>
        !path.StartsWith('/') || path.EndsWith(DeletedSuffix, StringComparison.Ordinal);

    /// <summary>readlink(2).</summary>
    public Errno ReadLink(Task? caller, string path, out string target)
    {
        target = "";
        var e = WalkExisting(caller, path, follow: false, out var r);
        return e != Errno.None ? e : r.FileSystem.ReadLink(r.Relative, caller, out target);
    }

    /// <summary>
    /// faccessat2(2): inode_permission() as for any other call (root may read and write
    /// anything, execute what someone may), with the real ids unless AT_EACCESS.
    /// </summary>
    public Errno Access(Task? caller, string path, int mode, bool follow, bool effectiveIds)
    {
        var cred = effectiveIds ? CredOf(caller) : CredOf(caller).ForAccessCheck();
        var scope = new WalkScope(caller?.Group.Fs.Root ?? "/", Cred: cred);
        var e = PathWalk.Walk(Mounts, caller, path, follow ? WalkFlags.Follow : WalkFlags.None, scope, out var r);
        if (e == Errno.None && !r.Exists)
        {
            e = Errno.ENOENT;
        }

        if (e != Errno.None || r.MagicFile is not null)
        {
            return e;
        }

        if ((mode & WriteOk) != 0 && r.Mount.ReadOnly && !r.IsSymlink)
        {
            return Errno.EROFS;
        }

        return Permission.Check(r, caller, cred, mode);
    }

    /// <summary>
    /// Walks to a name to create: EEXIST when it exists (a symlink, dangling or not, included),
    /// EROFS on a read-only mount, then may_create() on the directory.
    /// </summary>
    private Errno WalkNew(Task? caller, string path, out WalkResult r, out StatInfo directory)
    {
        directory = default;
        var e = Walk(caller, path, WalkFlags.NoFollowTrailing, out r);
        if (e != Errno.None)
        {
            return e;
        }

        if (r.Exists)
        {
            return Errno.EEXIST;
        }

        return r.Mount.ReadOnly ? Errno.EROFS : MayCreate(caller, r, out directory);
    }

    /// <summary>The end of a creating call: on success the new name gets its owner.</summary>
    private static Errno Created(Task? caller, in WalkResult r, in StatInfo directory, Errno e)
    {
        if (e == Errno.None)
        {
            InitOwner(caller, r, directory);
        }

        return e;
    }

    /// <summary>mkdir(2).</summary>
    public Errno MakeDirectory(Task? caller, string path, uint mode)
    {
        var e = WalkNew(caller, path, out var r, out var directory);
        return e != Errno.None ? e : Fsnotify.Created(Created(caller, r, directory, r.FileSystem.MakeDirectory(r.Relative, mode)), r, isDirectory: true);
    }

    /// <summary>mknod(2).</summary>
    public Errno MakeNode(Task? caller, string path, uint mode, ulong device)
    {
        var e = WalkNew(caller, path, out var r, out var directory);
        if (e == Errno.None && r.TrailingSlash)
        {
            e = Errno.ENOENT;
        }

        // Device nodes need CAP_MKNOD, except the whiteout (char 0:0) overlayfs uses.
        var type = mode & InodeMode.TypeMask;
        if (e == Errno.None && type is InodeMode.Char or InodeMode.Block && !(type == InodeMode.Char && device == 0) && !CredOf(caller).IsPrivileged)
        {
            e = Errno.EPERM;
        }

        return e != Errno.None ? e : Fsnotify.Created(Created(caller, r, directory, r.FileSystem.MakeNode(r.Relative, mode, device)), r, isDirectory: false);
    }

    /// <summary>symlink(2).</summary>
    public Errno Symlink(Task? caller, string target, string linkPath)
    {
        var e = WalkNew(caller, linkPath, out var r, out var directory);
        if (e == Errno.None && r.TrailingSlash)
        {
            e = Errno.ENOENT;
        }

        return e != Errno.None ? e : Fsnotify.Created(Created(caller, r, directory, r.FileSystem.Symlink(target, r.Relative)), r, isDirectory: false);
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

        e = MayDelete(caller, r);
        e = e != Errno.None ? e : Fsnotify.Removed(r.FileSystem.Unlink(r.Relative, removeDirectory), r);
        if (e == Errno.None && caller is not null)
        {
            HeldNames.Unlinked(caller.Kernel, r.GlobalPath);
        }

        return e;
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

        e = MayRename(caller, from, to, flags);
        var exchange = (flags & RenameExchange) != 0;
        e = e != Errno.None ? e : Fsnotify.Renamed(from.FileSystem.Rename(from.Relative, to.Relative, flags), from, to, exchange);
        if (e == Errno.None && caller is not null)
        {
            HeldNames.Renamed(caller.Kernel, from.GlobalPath, to.GlobalPath, exchange && to.Exists);
        }

        return e;
    }

    /// <summary>
    /// vfs_rename()'s checks: the name leaves its directory (may_delete) and arrives in the
    /// other (may_delete over an existing name, may_create otherwise); a directory moving to
    /// another parent must itself be writable, its ".." changing.
    /// </summary>
    private Errno MayRename(Task? caller, in WalkResult from, in WalkResult to, int flags)
    {
        var e = MayDelete(caller, from);
        if (e == Errno.None)
        {
            e = to.Exists ? MayDelete(caller, to) : MayCreate(caller, to, out _);
        }

        var cred = CredOf(caller);
        if (e != Errno.None || cred.IsFsPrivileged || PathNames.Parent(from.GlobalPath) == PathNames.Parent(to.GlobalPath))
        {
            return e;
        }

        if (from.Stat.IsDirectory)
        {
            e = Permission.Check(cred, from.Stat, Permission.MayWrite);
        }

        if (e == Errno.None && (flags & RenameExchange) != 0 && to.Stat.IsDirectory)
        {
            e = Permission.Check(cred, to.Stat, Permission.MayWrite);
        }

        return e;
    }

    /// <summary>link(2); <paramref name="followOld"/> is AT_SYMLINK_FOLLOW.</summary>
    public Errno Link(Task? caller, string oldPath, string newPath, bool followOld)
    {
        var e = WalkExisting(caller, oldPath, followOld, out var from);
        if (e != Errno.None)
        {
            return e;
        }

        if (from.MagicFile is { } magic)
        {
            return LinkFile(caller, magic, newPath);
        }

        if (from.TrailingSlash)
        {
            return from.Stat.IsDirectory ? Errno.EPERM : Errno.ENOTDIR;
        }

        e = WalkNew(caller, newPath, out var to, out _);
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

        e = Permission.MayLink(CredOf(caller), from.Stat);
        return e != Errno.None ? e : Fsnotify.Linked(from.FileSystem.Link(from.Relative, to.Relative), from.FileSystem, from.Stat, to);
    }

    /// <summary>
    /// linkat(2) of an open file that has no name (<see cref="IsUnnamed"/>), by AT_EMPTY_PATH or a
    /// followed /proc/self/fd link: the new name must be on the file's own mount (EXDEV), whose
    /// filesystem links the file itself.
    /// </summary>
    public Errno LinkFile(Task? caller, OpenFile file, string newPath)
    {
        var e = WalkNew(caller, newPath, out var to, out _);
        if (e != Errno.None)
        {
            return e;
        }

        if (to.TrailingSlash)
        {
            return Errno.ENOENT;
        }

        if (file.Mount != to.Mount)
        {
            return Errno.EXDEV;
        }

        e = file.Stat(out var st);
        if (e == Errno.None)
        {
            e = Permission.MayLink(CredOf(caller), st);
        }

        return e != Errno.None ? e : Fsnotify.Linked(to.FileSystem.LinkFile(file, to.Relative), to.FileSystem, st, to);
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
        if (e != Errno.None)
        {
            return e;
        }

        if (r.MagicFile is { } magic)
        {
            // A /proc/[pid]/fd link to a file without a name: its inode, through the file (a socket's stays as it is).
            return Chmod(caller, magic, mode) ?? Errno.None;
        }

        e = Permission.MayChmod(CredOf(caller), r.Stat, ref mode);
        return e != Errno.None ? e : Fsnotify.Changed(r.FileSystem.Chmod(r.Relative, mode), r, InotifyMask.Attrib);
    }

    /// <summary>chown(2)/lchown(2).</summary>
    public Errno Chown(Task? caller, string path, int uid, int gid, bool follow)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        if (r.MagicFile is { } magic)
        {
            // As chmod(2) does.
            return Chown(caller, magic, uid, gid) ?? Errno.None;
        }

        e = Permission.MayChown(CredOf(caller), r.Stat, uid, gid);
        return e != Errno.None ? e : Fsnotify.Changed(r.FileSystem.Chown(r.Relative, uid, gid), r, uid == -1 && gid == -1 ? 0 : InotifyMask.Attrib);
    }

    /// <summary>utimensat(2).</summary>
    public Errno Utimens(Task? caller, string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify, bool follow)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        if (r.MagicFile is { } magic)
        {
            // As chmod(2) does.
            return Utimens(caller, magic, access, modify) ?? Errno.None;
        }

        if (access.Nanos == UtimeOmit && modify.Nanos == UtimeOmit)
        {
            return Errno.None;
        }

        e = Permission.MayTouch(CredOf(caller), r.Stat, IsExplicit(access.Nanos) || IsExplicit(modify.Nanos));
        return e != Errno.None ? e : Fsnotify.Changed(r.FileSystem.Utimens(r.Relative, access, modify), r, Fsnotify.TimesChanged(access.Nanos != UtimeOmit, modify.Nanos != UtimeOmit));
    }

    /// <summary>A utimensat(2) time that is neither UTIME_NOW nor UTIME_OMIT.</summary>
    private static bool IsExplicit(long nanos) => nanos is not (UtimeNow or UtimeOmit);

    // ---------------------------------------------------------------- through an open file
    // fchmod(2), fchown(2) and futimens(3) change the inode a file is open on, reached through
    // the file and not by a walk: a rename or unlink since the open changes nothing and, as on
    // Linux, no search permission is checked, only the permission rules of the path-based calls
    // on the file's own attributes. Each answers null for a file that cannot reach its inode
    // itself (a socket, a procfs file, one on overlay's lower layer): the caller then goes by
    // the path it was opened by. A file opened on no mount (a pipe) changes itself.

    /// <summary>fchmod(2).</summary>
    public Errno? Chmod(Task? caller, OpenFile file, uint mode)
    {
        var e = MayChangeFile(file, out var st);
        if (e == Errno.None)
        {
            e = Permission.MayChmod(CredOf(caller), st, ref mode);
        }

        return e != Errno.None ? e : ChangedFile(file.Mount is { } mount ? mount.FileSystem.Chmod(file, mode) : file.Chmod(mode), file, InotifyMask.Attrib);
    }

    /// <summary>fchown(2), and fchownat(2) with AT_EMPTY_PATH.</summary>
    public Errno? Chown(Task? caller, OpenFile file, int uid, int gid)
    {
        var e = MayChangeFile(file, out var st);
        if (e == Errno.None)
        {
            e = Permission.MayChown(CredOf(caller), st, uid, gid);
        }

        return e != Errno.None ? e : ChangedFile(file.Mount is { } mount ? mount.FileSystem.Chown(file, uid, gid) : file.Chown(uid, gid), file, uid == -1 && gid == -1 ? 0 : InotifyMask.Attrib);
    }

    /// <summary>futimens(3), and utimensat(2) with AT_EMPTY_PATH.</summary>
    public Errno? Utimens(Task? caller, OpenFile file, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify)
    {
        var e = MayChangeFile(file, out var st);
        if (e == Errno.None)
        {
            e = Permission.MayTouch(CredOf(caller), st, IsExplicit(access.Nanos) || IsExplicit(modify.Nanos));
        }

        var mask = Fsnotify.TimesChanged(access.Nanos != UtimeOmit, modify.Nanos != UtimeOmit);
        return e != Errno.None ? e : ChangedFile(file.Mount is { } mount ? mount.FileSystem.Utimens(file, access, modify) : file.Utimens(access, modify), file, mask);
    }

    /// <summary>An attribute change through <paramref name="file"/> needs its mount, if any, writable (mnt_want_write_file()) and its attributes.</summary>
    private static Errno MayChangeFile(OpenFile file, out StatInfo st)
    {
        st = default;
        return file.Mount is { ReadOnly: true } ? Errno.EROFS : file.Stat(out st);
    }

    /// <summary>Reports a change through a file to inotify, passing the result (or null, nothing done) through.</summary>
    private Errno? ChangedFile(Errno? result, OpenFile file, uint mask) => result is { } e ? Fsnotify.Changed(e, file, mask) : null;

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

        if (r.Stat.IsDirectory)
        {
            return Errno.EISDIR;
        }

        e = Permission.Check(r, caller, CredOf(caller), Permission.MayWrite);
        return e != Errno.None ? e : Fsnotify.Changed(r.FileSystem.Truncate(r.Relative, length), r, InotifyMask.Modify);
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

        return WithMountFlags(r.FileSystem.StatFs(r.Relative, out info), r.Mount, ref info);
    }

    /// <summary>
    /// fstatfs(2): the filesystem holding the inode <paramref name="file"/> is open on, whatever
    /// its names are now; null where the file cannot reach it (as <see cref="Chmod(Task?, OpenFile, uint)"/>).
    /// </summary>
    public static Errno? StatFs(OpenFile file, out StatFsInfo info)
    {
        info = default;
        return file.Mount is { } mount && mount.FileSystem.StatFs(file, out info) is { } e ? WithMountFlags(e, mount, ref info) : null;
    }

    /// <summary>statfs(2) shows a read-only mount in f_flags (ST_RDONLY).</summary>
    private static Errno WithMountFlags(Errno e, Mount mount, ref StatFsInfo info)
    {
        if (e == Errno.None && mount.ReadOnly)
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
        if (e == Errno.None)
        {
            e = MayXattr(caller, r, name, write: false);
        }

        return e != Errno.None ? e : r.MagicFile is { } magic ? magic.GetXattr(name, out value) : r.FileSystem.GetXattr(r.Relative, name, out value);
    }

    /// <summary>setxattr(2)/lsetxattr(2): EROFS on a read-only mount.</summary>
    public Errno SetXattr(Task? caller, string path, bool follow, string name, byte[] value, int flags)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        if (e == Errno.None)
        {
            e = MayXattr(caller, r, name, write: true);
        }

        return e != Errno.None ? e : r.MagicFile is { } magic ? magic.SetXattr(name, value, flags) : Fsnotify.Changed(r.FileSystem.SetXattr(r.Relative, name, value, flags), r, InotifyMask.Attrib);
    }

    /// <summary>removexattr(2)/lremovexattr(2).</summary>
    public Errno RemoveXattr(Task? caller, string path, bool follow, string name)
    {
        var e = WalkToChange(caller, path, follow, out var r);
        if (e == Errno.None)
        {
            e = MayXattr(caller, r, name, write: true);
        }

        return e != Errno.None ? e : r.MagicFile is { } magic ? magic.RemoveXattr(name) : Fsnotify.Changed(r.FileSystem.RemoveXattr(r.Relative, name), r, InotifyMask.Attrib);
    }

    /// <summary>listxattr(2)/llistxattr(2).</summary>
    public Errno ListXattr(Task? caller, string path, bool follow, out List<string> names)
    {
        names = new List<string>();
        var e = WalkExisting(caller, path, follow, out var r);
        if (e != Errno.None)
        {
            return e;
        }

        e = r.MagicFile is { } magic ? magic.ListXattr(out names) : r.FileSystem.ListXattr(r.Relative, out names);
        if (e == Errno.None && !CredOf(caller).IsPrivileged)
        {
            names.RemoveAll(n => n.StartsWith(TrustedPrefix, StringComparison.Ordinal));
        }

        return e;
    }

    private const string TrustedPrefix = "trusted.", UserPrefix = "user.";

    /// <summary>
    /// xattr_permission() (xattr(7)): trusted.* attributes are root's (CAP_SYS_ADMIN; to others
    /// they do not exist, ENODATA, and cannot be set, EPERM); user.* ones of a file or directory
    /// need read or write permission on it, and only the owner may set them on a sticky directory.
    /// </summary>
    private static Errno MayXattr(Task? caller, in WalkResult r, string name, bool write)
    {
        var cred = CredOf(caller);
        if (name.StartsWith(TrustedPrefix, StringComparison.Ordinal) && !cred.IsPrivileged)
        {
            return write ? Errno.EPERM : Errno.ENODATA;
        }

        if (!name.StartsWith(UserPrefix, StringComparison.Ordinal) || !(r.Stat.IsRegular || r.Stat.IsDirectory))
        {
            return Errno.None;
        }

        if (write && r.Stat.IsDirectory && (r.Stat.Mode & InodeMode.Sticky) != 0 && !Permission.OwnerOrCapable(cred, r.Stat))
        {
            return Errno.EPERM;
        }

        return Permission.Check(r, caller, cred, write ? Permission.MayWrite : Permission.MayRead);
    }
}
