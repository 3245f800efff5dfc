using System.Text;

namespace UserModeOS.Kernel.Vfs;

/// <summary>inotify(7) event and watch flag bits (linux/inotify.h), the same values as fsnotify's FS_* bits.</summary>
public static class InotifyMask
{
    public const uint Access = 0x1, Modify = 0x2, Attrib = 0x4, CloseWrite = 0x8, CloseNoWrite = 0x10, Open = 0x20;
    public const uint MovedFrom = 0x40, MovedTo = 0x80, Create = 0x100, Delete = 0x200, DeleteSelf = 0x400, MoveSelf = 0x800;

    /// <summary>IN_ALL_EVENTS: every event a watch can ask for.</summary>
    public const uint AllEvents = 0xFFF;

    public const uint Unmount = 0x2000, QueueOverflow = 0x4000, Ignored = 0x8000;
    public const uint OnlyDir = 0x1000000, DontFollow = 0x2000000, ExclUnlink = 0x4000000;
    public const uint MaskCreate = 0x10000000, MaskAdd = 0x20000000, IsDir = 0x40000000, OneShot = 0x80000000;

    /// <summary>ALL_INOTIFY_BITS: what inotify_add_watch(2) accepts in a mask.</summary>
    public const uint Valid = AllEvents | Unmount | QueueOverflow | Ignored | OnlyDir | DontFollow | ExclUnlink | MaskCreate | MaskAdd | IsDir | OneShot;

    /// <summary>
    /// FS_EVENTS_POSS_ON_CHILD: what happens to a file that its directory's watches hear of too,
    /// with the file's name. Other events are either the directory's own (IN_CREATE, IN_DELETE,
    /// IN_MOVED_*, which carry the child's name) or only the inode's (IN_DELETE_SELF, IN_MOVE_SELF).
    /// </summary>
    public const uint OnChild = Access | Modify | Attrib | CloseWrite | CloseNoWrite | Open;
}

/// <summary>An inode as fsnotify knows it: the filesystem holding it and its st_ino there.</summary>
public readonly record struct InodeKey(IFileSystem FileSystem, ulong Inode);

/// <summary>
/// A kernel instance's fsnotify: the inotify watches on its inodes and the VFS hooks that
/// turn file operations into inotify events (fs/notify/fsnotify.c, include/linux/fsnotify.h).
/// The VFS is path-based, so a hook identifies the inodes involved by (filesystem, st_ino)
/// from the stats it already has, and a directory's watches hear of its children through the
/// parent of the path the operation used. Every hook first checks one field, the union of all
/// watch masks, so operations cost nothing more while nobody watches.
/// </summary>
/// <remarks>
/// Lock order: this object's lock, then an inotify instance's queue lock. Known differences
/// from Linux: events through a descriptor go to the watches of the directory its path was
/// opened in, even after a rename moved it elsewhere; and a watched inode that loses its last
/// name lives on (IN_DELETE_SELF waits) only for the file descriptions the VFS opened on it,
/// not for mappings, working directories or file descriptions opened while a watch was being
/// added.
/// </remarks>
public sealed class Fsnotify
{
    private readonly Lock _lock = new();
    private readonly Dictionary<InodeKey, WatchedInode> _watches = new();

    /// <summary>
    /// The event bits of every watch, plus IN_IGNORED while any watch exists (every watch is
    /// told when its inode goes away): 0 while nobody watches anything.
    /// </summary>
    private volatile uint _events;

    /// <summary>The event bits of the watches on directories, which hear of their children's events.</summary>
    private volatile uint _childEvents;

    private int _lastCookie;

    // ---------------------------------------------------------------- hooks on open files

    /// <summary>fsnotify_access(): a read(2) (or getdents) that returned data.</summary>
    public void Accessed(OpenFile file)
    {
        if ((_events & InotifyMask.Access) != 0)
        {
            FileEvent(file, InotifyMask.Access);
        }
    }

    /// <summary>fsnotify_modify(): a write(2) that wrote data, or an ftruncate(2).</summary>
    public void Modified(OpenFile file)
    {
        if ((_events & InotifyMask.Modify) != 0)
        {
            FileEvent(file, InotifyMask.Modify);
        }
    }

    /// <summary>
    /// open(2) of <paramref name="walked"/> made <paramref name="file"/>: IN_CREATE in the
    /// directory for a new name, IN_OPEN, then IN_MODIFY for O_TRUNC of an existing file. Opens
    /// with O_PATH are no events, nor (here) O_TMPFILE ones, whose file has no name to report.
    /// </summary>
    public void Opened(in WalkResult walked, OpenFile file)
    {
        if (_events == 0 || (file.Flags & OpenFlags.Path) != 0 || (file.Flags & OpenFlags.TmpFile) == OpenFlags.TmpFile)
        {
            return;
        }

        if (!walked.Exists)
        {
            CreateEvent(walked, isDirectory: false);
        }

        FileEvent(file, InotifyMask.Open, opens: 1);
        if ((file.Flags & OpenFlags.Truncate) != 0 && walked.Exists && walked.Stat.IsRegular)
        {
            FileEvent(file, InotifyMask.Modify);
        }
    }

    /// <summary>
    /// fsnotify_close(): the last reference to an open file description went away; an inode
    /// that had lost its last name meanwhile goes with its last file description.
    /// </summary>
    public void Closed(OpenFile file)
    {
        if (_events != 0 && (file.Flags & OpenFlags.Path) == 0)
        {
            FileEvent(file, file.CanWrite ? InotifyMask.CloseWrite : InotifyMask.CloseNoWrite, opens: -1);
        }
    }

    // ---------------------------------------------------------------- hooks on names
    // Each takes the filesystem's result and passes it through, reporting only a success.

    /// <summary>fsnotify_create()/fsnotify_mkdir(): <paramref name="walked"/> (which did not exist) was created.</summary>
    public Errno Created(Errno result, in WalkResult walked, bool isDirectory)
    {
        if (result == Errno.None && _events != 0)
        {
            CreateEvent(walked, isDirectory);
        }

        return result;
    }

    /// <summary>
    /// fsnotify_change(), fsnotify_xattr(): attributes or size of <paramref name="walked"/>
    /// changed; <paramref name="mask"/> is IN_ATTRIB, IN_MODIFY (the size or only the
    /// modification time), IN_ACCESS (only the access time) or 0 (nothing to report).
    /// </summary>
    public Errno Changed(Errno result, in WalkResult walked, uint mask)
    {
        if (result == Errno.None && (_events & mask) != 0 && walked.MagicFile is null)
        {
            ChildEvent(walked.FileSystem, walked.Relative, walked.Stat, mask, viaOpenFile: false);
        }

        return result;
    }

    /// <summary>fchmod(2), fchown(2), futimens(3), fsetxattr(2), fremovexattr(2): as <see cref="Changed(Errno, in WalkResult, uint)"/>, for an open file.</summary>
    public Errno Changed(Errno result, OpenFile file, uint mask)
    {
        if (result == Errno.None && (_events & mask) != 0)
        {
            FileEvent(file, mask);
        }

        return result;
    }

    /// <summary>
    /// unlink(2)/rmdir(2) removed <paramref name="walked"/>: the link count change (IN_ATTRIB, not
    /// for directories), IN_DELETE_SELF and IN_IGNORED as the watches of an inode that lost its
    /// last name go, then IN_DELETE in the directory (vfs_unlink(), vfs_rmdir()).
    /// </summary>
    public Errno Removed(Errno result, in WalkResult walked)
    {
        if (result != Errno.None || _events == 0)
        {
            return result;
        }

        var parent = ParentOf(walked.FileSystem, walked.Relative);
        var inode = new InodeKey(walked.FileSystem, walked.Stat.Inode);
        var isDir = walked.Stat.IsDirectory;
        lock (_lock)
        {
            if (!isDir)
            {
                InodeEvent(inode, InotifyMask.Attrib);
            }

            if (isDir || walked.Stat.Links <= 1)
            {
                LostLastName(inode);
            }

            NameEvent(parent, InotifyMask.Delete | (isDir ? InotifyMask.IsDir : 0), walked.Relative, 0);
        }

        return result;
    }

    /// <summary>
    /// rename(2) moved <paramref name="from"/> to <paramref name="to"/> (as walked before the
    /// rename): fsnotify_move() pairs IN_MOVED_FROM and IN_MOVED_TO by a cookie, the object gets
    /// IN_MOVE_SELF, and a replaced file loses a link (IN_ATTRIB) and, with its last name, its
    /// watches. RENAME_EXCHANGE is two moves, one each way. A rename onto another name of the
    /// same inode does nothing, so reports nothing.
    /// </summary>
    public Errno Renamed(Errno result, in WalkResult from, in WalkResult to, bool exchange)
    {
        if (result != Errno.None || _events == 0 || (to.Exists && to.Stat.Inode == from.Stat.Inode))
        {
            return result;
        }

        var oldParent = ParentOf(from.FileSystem, from.Relative);
        var newParent = ParentOf(to.FileSystem, to.Relative);
        var source = new InodeKey(from.FileSystem, from.Stat.Inode);
        var target = new InodeKey(to.FileSystem, to.Stat.Inode);
        lock (_lock)
        {
            Move(oldParent, from.Relative, newParent, to.Relative, source, from.Stat.IsDirectory, to.Exists && !exchange ? target : null);
            if (exchange)
            {
                Move(newParent, to.Relative, oldParent, from.Relative, target, to.Stat.IsDirectory, null);
            }
            else if (to.Exists && (to.Stat.IsDirectory || to.Stat.Links <= 1))
            {
                LostLastName(target);
            }
        }

        return result;
    }

    /// <summary>
    /// link(2) gave the inode <paramref name="source"/> on <paramref name="fs"/> the new name
    /// <paramref name="to"/>: fsnotify_link() reports the link count change, then the name.
    /// </summary>
    public Errno Linked(Errno result, IFileSystem fs, in StatInfo source, in WalkResult to)
    {
        if (result != Errno.None || _events == 0)
        {
            return result;
        }

        var parent = ParentOf(to.FileSystem, to.Relative);
        var inode = new InodeKey(fs, source.Inode);
        lock (_lock)
        {
            if (_watches.TryGetValue(inode, out var watched))
            {
                // linkat(2) of an open file without a name gives it one again.
                watched.Unlinked = false;
            }

            InodeEvent(inode, InotifyMask.Attrib);
            NameEvent(parent, InotifyMask.Create, to.Relative, 0);
        }

        return result;
    }

    /// <summary>utimensat(2)'s report: both times set is IN_ATTRIB, only the access time IN_ACCESS, only the modification time IN_MODIFY.</summary>
    public static uint TimesChanged(bool access, bool modify) =>
        access && modify ? InotifyMask.Attrib : access ? InotifyMask.Access : modify ? InotifyMask.Modify : 0;

    // ---------------------------------------------------------------- watches

    /// <summary>
    /// inotify_add_watch(2) on the inode <paramref name="walked"/> names: the watch descriptor
    /// (the existing one when <paramref name="instance"/> already watches that inode, its mask
    /// replaced, or extended with IN_MASK_ADD), or -EEXIST for IN_MASK_CREATE on a watched inode.
    /// <paramref name="openFiles"/> are the kernel instance's open file descriptions, among which
    /// a newly watched inode's are counted (they keep it alive after its last name goes).
    /// </summary>
    public int AddWatch(Inotify instance, in WalkResult walked, uint mask, IReadOnlyList<OpenFile> openFiles)
    {
        var key = new InodeKey(walked.FileSystem, walked.Stat.Inode);
        var flags = mask & (InotifyMask.AllEvents | InotifyMask.OneShot | InotifyMask.ExclUnlink);
        lock (_lock)
        {
            if (!_watches.TryGetValue(key, out var watched))
            {
                watched = new WatchedInode { OpenFiles = openFiles.Count(f => IsOn(f, key)) };
                _watches[key] = watched;
            }

            var list = watched.Watches;
            var watch = list.Find(w => w.Instance == instance);
            if (watch is not null)
            {
                if ((mask & InotifyMask.MaskCreate) != 0)
                {
                    return -(int)Errno.EEXIST;
                }

                watch.Mask = (mask & InotifyMask.MaskAdd) != 0 ? watch.Mask | flags : flags;
            }
            else
            {
                watch = new InotifyWatch(instance, instance.NextWatchDescriptor(), key, walked.Stat.Device, walked.Stat.IsDirectory) { Mask = flags };
                list.Add(watch);
                instance.Watches[watch.Descriptor] = watch;
            }

            Recalculate();
            return watch.Descriptor;
        }
    }

    /// <summary>inotify_rm_watch(2): false when <paramref name="instance"/> has no such watch descriptor.</summary>
    public bool RemoveWatch(Inotify instance, int wd)
    {
        lock (_lock)
        {
            if (!instance.Watches.TryGetValue(wd, out var watch))
            {
                return false;
            }

            Drop(watch, ignored: true);
            Recalculate();
            return true;
        }
    }

    /// <summary>The instance's fd was closed for good: its watches go without IN_IGNORED (nobody can read it).</summary>
    public void RemoveAll(Inotify instance)
    {
        lock (_lock)
        {
            foreach (var watch in instance.Watches.Values.ToList())
            {
                Drop(watch, ignored: false);
            }

            Recalculate();
        }
    }

    /// <summary>The instance's watches, for /proc/[pid]/fdinfo.</summary>
    public List<InotifyWatch> WatchesOf(Inotify instance)
    {
        lock (_lock)
        {
            // Newest first, as the group's mark list is kept.
            return instance.Watches.Values.OrderByDescending(w => w.Descriptor).ToList();
        }
    }

    // ---------------------------------------------------------------- delivery

    /// <summary>The inode of the directory holding <paramref name="relative"/>, or null at the filesystem's root.</summary>
    private static InodeKey? ParentOf(IFileSystem fs, string relative) =>
        relative != "/" && fs.Stat(PathNames.Parent(relative), null, out var st) == Errno.None ? new InodeKey(fs, st.Inode) : null;

    private void CreateEvent(in WalkResult walked, bool isDirectory)
    {
        var parent = ParentOf(walked.FileSystem, walked.Relative);
        lock (_lock)
        {
            NameEvent(parent, InotifyMask.Create | (isDirectory ? InotifyMask.IsDir : 0), walked.Relative, 0);
        }
    }

    /// <summary>
    /// An event on what an open file description refers to, which <paramref name="opens"/>
    /// (1 at an open, -1 at the last close) adds to the file descriptions open on a watched inode.
    /// </summary>
    private void FileEvent(OpenFile file, uint mask, int opens = 0)
    {
        if (file.Mount is not { } mount || file.Stat(out var st) != Errno.None)
        {
            return;
        }

        ChildEvent(mount.FileSystem, mount.Relative(VirtualFileSystem.GlobalPathOf(file)), st, mask, viaOpenFile: true);
        if (opens == 0)
        {
            return;
        }

        var inode = new InodeKey(mount.FileSystem, st.Inode);
        lock (_lock)
        {
            if (_watches.TryGetValue(inode, out var watched))
            {
                watched.OpenFiles = Math.Max(0, watched.OpenFiles + opens);
                if (watched.OpenFiles == 0 && watched.Unlinked)
                {
                    LostLastName(inode);
                }
            }
        }
    }

    /// <summary>Whether <paramref name="file"/> is open (not O_PATH) on <paramref name="inode"/> through this instance's VFS.</summary>
    private bool IsOn(OpenFile file, InodeKey inode) =>
        file.Fsnotify == this && file.Mount?.FileSystem == inode.FileSystem && (file.Flags & OpenFlags.Path) == 0 &&
        file.Stat(out var st) == Errno.None && st.Inode == inode.Inode;

    /// <summary>
    /// The inode lost its last name: once no file description is open on it either, it is gone
    /// (dentry_unlink_inode(), then fsnotify_inode_delete()): IN_DELETE_SELF, and its watches go.
    /// </summary>
    private void LostLastName(InodeKey inode)
    {
        if (!_watches.TryGetValue(inode, out var watched))
        {
            return;
        }

        if (watched.OpenFiles > 0)
        {
            watched.Unlinked = true;
            return;
        }

        InodeEvent(inode, InotifyMask.DeleteSelf);
        DropInode(inode);
    }

    /// <summary>
    /// fsnotify_parent() then fsnotify(): an event on the file at <paramref name="relative"/> goes
    /// to its directory's watches with its name, then to its own watches without one. A watch with
    /// IN_EXCL_UNLINK ignores what happens through open files that no longer have a name.
    /// </summary>
    private void ChildEvent(IFileSystem fs, string relative, in StatInfo st, uint mask, bool viaOpenFile)
    {
        if (st.IsDirectory)
        {
            mask |= InotifyMask.IsDir;
        }

        var parent = (_childEvents & mask) != 0 ? ParentOf(fs, relative) : null;
        var unlinked = viaOpenFile && st.Links == 0;
        var inode = new InodeKey(fs, st.Inode);
        lock (_lock)
        {
            if (parent is { } p && _watches.TryGetValue(p, out var directory))
            {
                Deliver(directory.Watches, mask, 0, PathNames.FileName(relative), unlinked);
            }

            if (_watches.TryGetValue(inode, out var own))
            {
                Deliver(own.Watches, mask, 0, null, unlinked);
            }
        }
    }

    /// <summary>A directory's own event about one of its names (IN_CREATE, IN_DELETE, IN_MOVED_*).</summary>
    private void NameEvent(InodeKey? directory, uint mask, string relative, uint cookie)
    {
        if (directory is { } d && _watches.TryGetValue(d, out var watched))
        {
            Deliver(watched.Watches, mask, cookie, PathNames.FileName(relative), unlinked: false);
        }
    }

    /// <summary>An event only the inode's own watches hear (fsnotify_inode()).</summary>
    private void InodeEvent(InodeKey inode, uint mask)
    {
        if (_watches.TryGetValue(inode, out var watched))
        {
            Deliver(watched.Watches, mask, 0, null, unlinked: false);
        }
    }

    /// <summary>One half of fsnotify_move(), with the source's IN_MOVE_SELF and a replaced target's lost link.</summary>
    private void Move(InodeKey? oldParent, string oldName, InodeKey? newParent, string newName, InodeKey source, bool isDir, InodeKey? replaced)
    {
        var cookie = (uint)Interlocked.Increment(ref _lastCookie);
        var dirBit = isDir ? InotifyMask.IsDir : 0;
        NameEvent(oldParent, InotifyMask.MovedFrom | dirBit, oldName, cookie);
        NameEvent(newParent, InotifyMask.MovedTo | dirBit, newName, cookie);
        if (replaced is { } target)
        {
            InodeEvent(target, InotifyMask.Attrib);
        }

        InodeEvent(source, InotifyMask.MoveSelf);
    }

    /// <summary>
    /// Queues the event on every watch that asked for it (inotify_handle_inode_event()): IN_ISDIR is
    /// not reported with the self events, and an IN_ONESHOT watch goes after its first event.
    /// </summary>
    private void Deliver(List<InotifyWatch> watches, uint mask, uint cookie, string? name, bool unlinked)
    {
        if ((mask & (InotifyMask.DeleteSelf | InotifyMask.MoveSelf)) != 0)
        {
            mask &= ~InotifyMask.IsDir;
        }

        var bytes = name is null ? null : Encoding.UTF8.GetBytes(name);
        foreach (var watch in watches.ToArray())
        {
            if ((watch.Mask & mask & InotifyMask.AllEvents) == 0 || (unlinked && (watch.Mask & InotifyMask.ExclUnlink) != 0))
            {
                continue;
            }

            watch.Instance.Queue(watch.Descriptor, mask, cookie, bytes);
            if ((watch.Mask & InotifyMask.OneShot) != 0)
            {
                Drop(watch, ignored: true);
                Recalculate();
            }
        }
    }

    /// <summary>The inode is gone (fsnotify_inode_delete()): its watches go, each with IN_IGNORED.</summary>
    private void DropInode(InodeKey inode)
    {
        if (_watches.TryGetValue(inode, out var watched))
        {
            foreach (var watch in watched.Watches.ToArray())
            {
                Drop(watch, ignored: true);
            }

            Recalculate();
        }
    }

    private void Drop(InotifyWatch watch, bool ignored)
    {
        if (ignored)
        {
            watch.Instance.Queue(watch.Descriptor, InotifyMask.Ignored, 0, null);
        }

        watch.Instance.Watches.Remove(watch.Descriptor);
        if (_watches.TryGetValue(watch.Inode, out var watched) && watched.Watches.Remove(watch) && watched.Watches.Count == 0)
        {
            _watches.Remove(watch.Inode);
        }
    }

    /// <summary>fsnotify_recalc_mask(): the unions the hooks check.</summary>
    private void Recalculate()
    {
        uint events = 0, childEvents = 0;
        foreach (var watched in _watches.Values)
        {
            foreach (var watch in watched.Watches)
            {
                events |= watch.Mask | InotifyMask.Ignored;
                childEvents |= watch.IsDirectory ? watch.Mask & InotifyMask.OnChild : 0;
            }
        }

        _childEvents = childEvents;
        _events = events & (InotifyMask.AllEvents | InotifyMask.Ignored);
    }

    /// <summary>A watched inode (Linux's fsnotify_mark_connector): its watches, and what keeps it alive.</summary>
    private sealed class WatchedInode
    {
        public List<InotifyWatch> Watches { get; } = new();

        /// <summary>The file descriptions open on it: without a name it lives on until the last is closed.</summary>
        public int OpenFiles { get; set; }

        /// <summary>It lost its last name while open: IN_DELETE_SELF waits for the last close.</summary>
        public bool Unlinked { get; set; }
    }
}

/// <summary>One inotify watch (Linux's inotify_inode_mark): an instance's interest in one inode.</summary>
public sealed class InotifyWatch(Inotify instance, int descriptor, InodeKey inode, ulong device, bool isDirectory)
{
    public Inotify Instance { get; } = instance;

    /// <summary>The watch descriptor, unique within its instance.</summary>
    public int Descriptor { get; } = descriptor;

    public InodeKey Inode { get; } = inode;

    /// <summary>The st_dev of the inode (fdinfo's sdev).</summary>
    public ulong Device { get; } = device;

    /// <summary>A directory's watch also hears of its children.</summary>
    public bool IsDirectory { get; } = isDirectory;

    /// <summary>The events asked for, with IN_ONESHOT and IN_EXCL_UNLINK.</summary>
    public uint Mask { get; set; }
}
