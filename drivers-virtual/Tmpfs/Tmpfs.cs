using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Tmpfs;

/// <summary>
/// tmpfs: a filesystem entirely in memory, with Linux metadata, hard links, rename with
/// RENAME_NOREPLACE/RENAME_EXCHANGE, device nodes and a size limit (ENOSPC past it). One
/// lock guards the whole tree.
/// </summary>
public class Tmpfs : IFileSystem
{
    private const int RenameNoReplace = 1, RenameExchange = 2;
    private const long UtimeNow = (1L << 30) - 1, UtimeOmit = (1L << 30) - 2;
    private const long PageSize = 4096;

    private static int _lastAnonymousMinor = 40;

    private readonly Lock _lock = new();
    private readonly TmpDirectory _root;
    private ulong _lastIno = 1;
    private long _usedPages;

    /// <param name="sizeLimit">The most bytes file data may take (rounded to pages); 0 = half the host's memory, as Linux's default.</param>
    public Tmpfs(long sizeLimit = 0, uint rootMode = 0x3FF, string type = "tmpfs")
    {
        Type = type;
        SizeLimit = sizeLimit > 0 ? sizeLimit : Math.Max(64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2);
        Device = (ulong)Interlocked.Increment(ref _lastAnonymousMinor);
        _root = new TmpDirectory(1, InodeMode.Directory | (rootMode & 0xFFF), null);
    }

    public string Type { get; }

    /// <summary>The anonymous device number (0:N) stat reports.</summary>
    public ulong Device { get; }

    public long SizeLimit { get; }

    internal Lock SyncRoot => _lock;

    private ulong NextIno() => ++_lastIno;

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The inode at <paramref name="path"/>; intermediate components must be real directories.</summary>
    private Errno Lookup(string path, out TmpInode inode)
    {
        inode = _root;
        foreach (var name in Split(path))
        {
            if (inode is not TmpDirectory dir)
            {
                inode = _root;
                return Errno.ENOTDIR;
            }

            if (!dir.Entries.TryGetValue(name, out var entry))
            {
                return Errno.ENOENT;
            }

            inode = entry.Inode;
        }

        return Errno.None;
    }

    /// <summary>The directory holding <paramref name="path"/>'s last component, and that component.</summary>
    private Errno LookupParent(string path, out TmpDirectory parent, out string name)
    {
        parent = _root;
        var parts = Split(path);
        name = parts.Length == 0 ? "." : parts[^1];
        var e = Lookup(string.Join('/', parts[..Math.Max(0, parts.Length - 1)]), out var inode);
        if (e != Errno.None)
        {
            return e;
        }

        if (inode is TmpSymlink)
        {
            return Errno.ELOOP;
        }

        if (inode is not TmpDirectory dir)
        {
            return Errno.ENOTDIR;
        }

        parent = dir;
        return Errno.None;
    }

    /// <summary>Looks up the parent and checks the intermediate components (ELOOP for a symlink).</summary>
    private Errno Find(string path, out TmpInode inode)
    {
        inode = _root;
        var e = LookupParent(path, out var parent, out var name);
        if (e != Errno.None)
        {
            return e;
        }

        if (name == ".")
        {
            inode = parent;
            return Errno.None;
        }

        if (!parent.Entries.TryGetValue(name, out var entry))
        {
            return Errno.ENOENT;
        }

        inode = entry.Inode;
        return Errno.None;
    }

    public Errno StatFs(string path, out StatFsInfo info)
    {
        lock (_lock)
        {
            var blocks = SizeLimit / PageSize;
            info = new StatFsInfo
            {
                Type = StatFsInfo.TmpfsMagic,
                BlockSize = PageSize,
                Blocks = blocks,
                BlocksFree = blocks - _usedPages,
                BlocksAvailable = blocks - _usedPages,
                Files = 1 << 20,
                FilesFree = (1 << 20) - (long)_lastIno,
                FsId = 0,
                NameMax = 255,
                FragmentSize = PageSize,
                Flags = 0x1020, // ST_VALID | ST_RELATIME
            };
            return Errno.None;
        }
    }

    /// <summary>getxattr(2) of the last component (not followed).</summary>
    public Errno GetXattr(string path, string name, out byte[] value)
    {
        lock (_lock)
        {
            value = Array.Empty<byte>();
            var e = Find(path, out var inode);
            return e != Errno.None ? e : TmpfsXattrs.Get(inode, name, out value);
        }
    }

    /// <summary>setxattr(2): XATTR_CREATE (1), XATTR_REPLACE (2).</summary>
    public Errno SetXattr(string path, string name, byte[] value, int flags)
    {
        lock (_lock)
        {
            var e = Find(path, out var inode);
            return e != Errno.None ? e : TmpfsXattrs.Set(inode, name, value, flags);
        }
    }

    /// <summary>removexattr(2).</summary>
    public Errno RemoveXattr(string path, string name)
    {
        lock (_lock)
        {
            var e = Find(path, out var inode);
            return e != Errno.None ? e : TmpfsXattrs.Remove(inode, name);
        }
    }

    /// <summary>listxattr(2): the names, in order.</summary>
    public Errno ListXattr(string path, out List<string> names)
    {
        lock (_lock)
        {
            names = new List<string>();
            var e = Find(path, out var inode);
            return e != Errno.None ? e : TmpfsXattrs.List(inode, out names);
        }
    }

    public Errno Stat(string path, Task? caller, out StatInfo stat)
    {
        lock (_lock)
        {
            var e = Find(path, out var inode);
            stat = e == Errno.None ? inode.Stat(Device) : default;
            return e;
        }
    }

    public Errno ReadLink(string path, Task? caller, out string target)
    {
        lock (_lock)
        {
            target = "";
            var e = Find(path, out var inode);
            if (e != Errno.None)
            {
                return e;
            }

            if (inode is not TmpSymlink link)
            {
                return Errno.EINVAL;
            }

            link.Access = TmpInode.Now();
            target = link.Target;
            return Errno.None;
        }
    }

    /// <summary>We run as root: read and write are granted, execute needs some x bit (or a directory).</summary>
    private Errno Create(string path, Func<ulong, TmpInode> make, out TmpInode inode)
    {
        inode = _root;
        var e = LookupParent(path, out var parent, out var name);
        if (e != Errno.None)
        {
            return e;
        }

        if (name is "." or ".." || parent.Entries.ContainsKey(name))
        {
            return Errno.EEXIST;
        }

        if (name.Length > 255)
        {
            return Errno.ENAMETOOLONG;
        }

        if (parent.Links == 0)
        {
            return Errno.ENOENT;
        }

        inode = make(NextIno());
        if ((parent.Mode & 0x400) != 0)
        {
            // A set-group-ID directory passes its group on (and the bit, to directories).
            inode.Gid = parent.Gid;
            if (inode is TmpDirectory)
            {
                inode.Mode |= 0x400;
            }
        }

        parent.Add(name, inode);
        if (inode is TmpDirectory)
        {
            parent.Links++;
        }

        parent.Touch();
        return Errno.None;
    }

    public Errno MakeDirectory(string path, uint mode)
    {
        lock (_lock)
        {
            return Create(path, ino => new TmpDirectory(ino, InodeMode.Directory | (mode & 0xFFF), null), out _);
        }
    }

    public Errno MakeNode(string path, uint mode, ulong device)
    {
        lock (_lock)
        {
            return Create(path, ino => (mode & InodeMode.TypeMask) == InodeMode.Regular
                ? new TmpFile(ino, mode)
                : new TmpNode(ino, mode) { RDevice = (mode & InodeMode.TypeMask) is InodeMode.Char or InodeMode.Block ? device : 0 }, out _);
        }
    }

    public Errno Symlink(string target, string linkPath)
    {
        lock (_lock)
        {
            return Create(linkPath, ino => new TmpSymlink(ino, InodeMode.Symlink | 0x1FF, target), out _);
        }
    }

    public Errno Link(string oldPath, string newPath)
    {
        lock (_lock)
        {
            var e = Find(oldPath, out var inode);
            return e != Errno.None ? e : LinkInode(inode, newPath);
        }
    }

    public Errno LinkFile(OpenFile file, string newPath)
    {
        if (file is not TmpfsFile f || f.FileSystem != this)
        {
            return Errno.EXDEV;
        }

        lock (_lock)
        {
            return LinkInode(f.Inode, newPath);
        }
    }

    /// <summary>
    /// Gives <paramref name="inode"/> one more name. A file without names may only get one
    /// when it is a linkable O_TMPFILE file (vfs_link: ENOENT for nlink 0 without I_LINKABLE);
    /// its data then counts against the size limit. Called under the lock.
    /// </summary>
    private Errno LinkInode(TmpInode inode, string newPath)
    {
        if (inode is TmpDirectory)
        {
            return Errno.EPERM;
        }

        var tmpFile = inode as TmpFile;
        if (inode.Links == 0 && tmpFile is not { Linkable: true })
        {
            return Errno.ENOENT;
        }

        var e = Create(newPath, _ => inode, out _);
        if (e == Errno.None)
        {
            if (inode.Links == 0)
            {
                tmpFile!.Linkable = false;
                _usedPages += Pages(tmpFile.Length);
            }

            inode.Links++;
            inode.Touch(modify: false);
        }

        return e;
    }

    public Errno Unlink(string path, bool removeDirectory)
    {
        lock (_lock)
        {
            var e = LookupParent(path, out var parent, out var name);
            if (e != Errno.None)
            {
                return e;
            }

            if (!parent.Entries.TryGetValue(name, out var entry))
            {
                return Errno.ENOENT;
            }

            var inode = entry.Inode;
            if (removeDirectory)
            {
                if (inode is not TmpDirectory dir)
                {
                    return Errno.ENOTDIR;
                }

                if (dir.Entries.Count > 0)
                {
                    return Errno.ENOTEMPTY;
                }

                dir.Links = 0;
                parent.Links--;
            }
            else
            {
                if (inode is TmpDirectory)
                {
                    return Errno.EISDIR;
                }

                inode.Links--;
                inode.Touch(modify: false);
                if (inode.Links == 0 && inode is TmpFile file)
                {
                    _usedPages -= Pages(file.Length);
                }
            }

            parent.Remove(name);
            parent.Touch();
            return Errno.None;
        }
    }

    public Errno Rename(string oldPath, string newPath, int flags)
    {
        lock (_lock)
        {
            var e = LookupParent(oldPath, out var oldParent, out var oldName);
            if (e == Errno.None)
            {
                e = LookupParent(newPath, out var newParent, out var newName);
                if (e == Errno.None)
                {
                    return Rename(oldParent, oldName, newParent, newName, flags);
                }
            }

            return e;
        }
    }

    private static bool IsAncestor(TmpDirectory ancestor, TmpDirectory dir)
    {
        for (var d = dir; ; d = d.Parent)
        {
            if (d == ancestor)
            {
                return true;
            }

            if (d.Parent == d)
            {
                return false;
            }
        }
    }

    private Errno Rename(TmpDirectory oldParent, string oldName, TmpDirectory newParent, string newName, int flags)
    {
        if (!oldParent.Entries.TryGetValue(oldName, out var from))
        {
            return Errno.ENOENT;
        }

        var hasTarget = newParent.Entries.TryGetValue(newName, out var to);
        if ((flags & RenameExchange) != 0 && !hasTarget)
        {
            return Errno.ENOENT;
        }

        if ((flags & RenameNoReplace) != 0 && hasTarget)
        {
            return Errno.EEXIST;
        }

        if (hasTarget && to.Inode == from.Inode)
        {
            return Errno.None;
        }

        // A directory cannot move below itself.
        if (from.Inode is TmpDirectory movingDir && IsAncestor(movingDir, newParent))
        {
            return Errno.EINVAL;
        }

        if ((flags & RenameExchange) != 0)
        {
            if (to.Inode is TmpDirectory otherDir && IsAncestor(otherDir, oldParent))
            {
                return Errno.EINVAL;
            }

            oldParent.Remove(oldName);
            newParent.Remove(newName);
            newParent.Add(newName, from.Inode);
            oldParent.Add(oldName, to.Inode);
            var fromDir = from.Inode is TmpDirectory ? 1u : 0u;
            var toDir = to.Inode is TmpDirectory ? 1u : 0u;
            oldParent.Links = oldParent.Links - fromDir + toDir;
            newParent.Links = newParent.Links - toDir + fromDir;
            from.Inode.Touch(modify: false);
            to.Inode.Touch(modify: false);
            oldParent.Touch();
            newParent.Touch();
            return Errno.None;
        }

        if (hasTarget)
        {
            if (from.Inode is TmpDirectory && to.Inode is not TmpDirectory)
            {
                return Errno.ENOTDIR;
            }

            if (from.Inode is not TmpDirectory && to.Inode is TmpDirectory)
            {
                return Errno.EISDIR;
            }

            if (to.Inode is TmpDirectory targetDir)
            {
                if (targetDir.Entries.Count > 0)
                {
                    return Errno.ENOTEMPTY;
                }

                targetDir.Links = 0;
                newParent.Links--;
            }
            else
            {
                to.Inode.Links--;
                to.Inode.Touch(modify: false);
                if (to.Inode.Links == 0 && to.Inode is TmpFile f)
                {
                    _usedPages -= Pages(f.Length);
                }
            }

            newParent.Remove(newName);
        }

        oldParent.Remove(oldName);
        newParent.Add(newName, from.Inode);
        if (from.Inode is TmpDirectory)
        {
            oldParent.Links--;
            newParent.Links++;
        }

        from.Inode.Touch(modify: false);
        oldParent.Touch();
        newParent.Touch();
        return Errno.None;
    }

    public Errno Chmod(string path, uint mode)
    {
        lock (_lock)
        {
            var e = Find(path, out var inode);
            return e != Errno.None ? e : Chmod(inode, mode);
        }
    }

    /// <summary>chmod(2) of the inode itself, whichever path or open file reached it. Called under the lock.</summary>
    internal static Errno Chmod(TmpInode inode, uint mode)
    {
        if (inode is TmpSymlink)
        {
            return Errno.EOPNOTSUPP;
        }

        inode.Mode = (inode.Mode & InodeMode.TypeMask) | (mode & 0xFFF);
        inode.Touch(modify: false);
        return Errno.None;
    }

    public Errno Chown(string path, int uid, int gid)
    {
        lock (_lock)
        {
            var e = Find(path, out var inode);
            return e != Errno.None ? e : Chown(inode, uid, gid);
        }
    }

    /// <summary>lchown(2) of the inode itself. Called under the lock.</summary>
    internal static Errno Chown(TmpInode inode, int uid, int gid)
    {
        if (uid != -1)
        {
            inode.Uid = (uint)uid;
        }

        if (gid != -1)
        {
            inode.Gid = (uint)gid;
        }

        // chown clears set-user-ID (and set-group-ID with group execute) on non-directories.
        if ((uid != -1 || gid != -1) && inode is not TmpDirectory && inode is not TmpSymlink)
        {
            inode.Mode &= (inode.Mode & 0x8) != 0 ? ~0xC00u : ~0x800u;
        }

        inode.Touch(modify: false);
        return Errno.None;
    }

    public Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify)
    {
        lock (_lock)
        {
            var e = Find(path, out var inode);
            return e != Errno.None ? e : Utimens(inode, access, modify);
        }
    }

    /// <summary>utimensat(2) of the inode itself. Called under the lock.</summary>
    internal static Errno Utimens(TmpInode inode, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify)
    {
        var now = TmpInode.Now();
        if (access.Nanos != UtimeOmit)
        {
            inode.Access = access.Nanos == UtimeNow ? now : access;
        }

        if (modify.Nanos != UtimeOmit)
        {
            inode.Modify = modify.Nanos == UtimeNow ? now : modify;
        }

        inode.Change = now;
        return Errno.None;
    }

    public Errno Truncate(string path, long length)
    {
        lock (_lock)
        {
            var e = Find(path, out var inode);
            if (e != Errno.None)
            {
                return e;
            }

            return inode switch
            {
                TmpFile file => Resize(file, length),
                TmpDirectory => Errno.EISDIR,
                _ => Errno.EINVAL,
            };
        }
    }

    private static long Pages(long bytes) => (bytes + PageSize - 1) / PageSize;

    /// <summary>Sets a file's length, within the size limit (ENOSPC, nothing changed). Called under the lock.</summary>
    internal Errno Resize(TmpFile file, long length)
    {
        var delta = Pages(length) - Pages(file.Length);
        if (file.Links > 0 && delta > 0 && _usedPages + delta > SizeLimit / PageSize)
        {
            return Errno.ENOSPC;
        }

        if (length > Array.MaxLength)
        {
            return Errno.EFBIG;
        }

        if (file.Links > 0)
        {
            _usedPages += delta;
        }

        if (length > file.Data.Length)
        {
            var capacity = Math.Min(Array.MaxLength, Math.Max(length, Math.Min((long)file.Data.Length * 2, length + (64 << 20))));
            Array.Resize(ref file.Data, (int)Math.Max(capacity, length));
        }
        else if (length < file.Length)
        {
            file.Data.AsSpan((int)length, (int)(file.Length - length)).Clear();
        }

        file.Length = length;
        file.Touch();
        return Errno.None;
    }

    /// <summary>How many bytes from <paramref name="offset"/> on may still be written (the size limit).</summary>
    internal long Room(TmpFile file, long offset)
    {
        var limitPages = SizeLimit / PageSize - _usedPages + Pages(file.Length);
        return Math.Max(0, limitPages * PageSize - offset);
    }

    /// <summary>
    /// O_TMPFILE (shmem_tmpfile): a regular file with no name; its data counts against the
    /// size limit only once it is linked.
    /// </summary>
    public Errno OpenTmpFile(string directory, int flags, uint mode, out OpenFile? file)
    {
        file = null;
        lock (_lock)
        {
            var e = Find(directory, out var inode);
            if (e != Errno.None)
            {
                return e;
            }

            if (inode is not TmpDirectory)
            {
                return Errno.ENOTDIR;
            }

            var tmpFile = new TmpFile(NextIno(), InodeMode.Regular | (mode & 0xFFF))
            {
                Links = 0,
                Gid = (inode.Mode & InodeMode.SetGid) != 0 ? inode.Gid : 0,
                Linkable = (flags & OpenFlags.Exclusive) == 0,
            };
            file = new TmpfsFile(this, tmpFile, directory, flags);
            return Errno.None;
        }
    }

    public Errno Open(string path, int flags, uint mode, Task? caller, out OpenFile? file)
    {
        file = null;
        TmpInode inode;
        lock (_lock)
        {
            var e = Find(path, out inode);
            if (e == Errno.ENOENT && (flags & OpenFlags.Create) != 0)
            {
                e = Create(path, ino => new TmpFile(ino, InodeMode.Regular | (mode & 0xFFF)), out inode);
            }
            else if (e == Errno.None && (flags & (OpenFlags.Create | OpenFlags.Exclusive)) == (OpenFlags.Create | OpenFlags.Exclusive))
            {
                e = Errno.EEXIST;
            }

            if (e != Errno.None)
            {
                return e;
            }

            var accessMode = flags & OpenFlags.AccessMode;
            if ((flags & OpenFlags.Path) == 0)
            {
                if (inode is TmpSymlink)
                {
                    return Errno.ELOOP;
                }

                if (inode is TmpDirectory && (accessMode != OpenFlags.ReadOnly || (flags & OpenFlags.Create) != 0))
                {
                    return Errno.EISDIR;
                }

                if (inode is TmpFile f && (flags & OpenFlags.Truncate) != 0 && accessMode != OpenFlags.ReadOnly)
                {
                    e = Resize(f, 0);
                    if (e != Errno.None)
                    {
                        return e;
                    }
                }
            }

            if ((flags & OpenFlags.Directory) != 0 && inode is not TmpDirectory)
            {
                return Errno.ENOTDIR;
            }

            if ((flags & OpenFlags.Path) != 0 || inode is not TmpNode)
            {
                file = new TmpfsFile(this, inode, path, flags);
                return Errno.None;
            }

            // open(2): a socket cannot be opened (ENXIO); fifos and device nodes are opened by the VFS, not here.
            return Errno.ENXIO;
        }
    }
}
