namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// An open file description (Linux's struct file): what an fd points at. Several fds (dup,
/// fork) may share one, and with it the offset and status flags. Results follow the
/// syscall convention: a value, or a negated <see cref="Errno"/>.
/// </summary>
public abstract class OpenFile
{
    private int _references = 1;

    protected OpenFile(string path, int flags)
    {
        Path = path;
        Flags = flags;
    }

    /// <summary>The canonical guest path it was opened by (what /proc/self/fd shows); the VFS sets it after an open.</summary>
    public string Path { get; set; }

    /// <summary>
    /// The root (chroot(2), a mount-table path) of the process that opened it: <see cref="Path"/>
    /// is below it. The VFS sets it with <see cref="Path"/>.
    /// </summary>
    public string Root { get; set; } = "/";

    /// <summary>
    /// The mount the VFS opened it on (Linux's f_path.mnt), set with <see cref="Path"/>; null for
    /// pipes, sockets and other files opened without a path.
    /// </summary>
    public Mount? Mount { get; set; }

    /// <summary>The fsnotify of the kernel instance whose VFS opened it (null as <see cref="Mount"/>): told of reads, writes and the last close.</summary>
    public Fsnotify? Fsnotify { get; set; }

    /// <summary>Access mode and status flags (O_RDONLY.., O_APPEND, O_NONBLOCK ...).</summary>
    public int Flags { get; set; }

    /// <summary>The file offset shared by every fd on this description.</summary>
    public long Position { get; set; }

    public bool CanRead => (Flags & OpenFlags.AccessMode) != OpenFlags.WriteOnly;

    public bool CanWrite => (Flags & OpenFlags.AccessMode) != OpenFlags.ReadOnly;

    public virtual long Read(Task task, Span<byte> buffer) => -(long)Errno.EINVAL;

    public virtual long Write(Task task, ReadOnlySpan<byte> data) => -(long)Errno.EINVAL;

    public virtual long ReadAt(Span<byte> buffer, long offset) => -(long)Errno.ESPIPE;

    public virtual long WriteAt(ReadOnlySpan<byte> data, long offset) => -(long)Errno.ESPIPE;

    public virtual long Seek(long offset, int whence) => -(long)Errno.ESPIPE;

    public abstract Errno Stat(out StatInfo stat);

    /// <summary>ioctl(2); arguments that are pointers are guest addresses read through the task.</summary>
    public virtual long Ioctl(Task task, uint request, ulong argument) => -(long)Errno.ENOTTY;

    /// <summary>Fills <paramref name="buffer"/> with linux_dirent64 records from the current position.</summary>
    public virtual long GetDents64(Span<byte> buffer) => -(long)Errno.ENOTDIR;

    /// <summary>The poll(2) events this file is ready for now (POLLIN, POLLOUT, POLLHUP, ...).</summary>
    public virtual int Poll() => PollEvents.In | PollEvents.Out;

    /// <summary>
    /// Whether the driver has a poll operation at all (f_op->poll): poll(2) still reports a file
    /// without one as always ready, but epoll_ctl(2) refuses it (EPERM). Regular files and
    /// directories are told apart by their type instead.
    /// </summary>
    public virtual bool HasPoll => true;

    /// <summary>
    /// Woken whenever <see cref="Poll"/> may have changed, or null when readiness changes
    /// without notice (the poller then re-checks periodically).
    /// </summary>
    public virtual Sched.WaitQueue? PollQueue => null;

    /// <summary>
    /// True when readiness may change without <see cref="PollQueue"/> being woken, so a poller
    /// looks again now and then: a file without a queue, an epoll instance watching one.
    /// </summary>
    public virtual bool NeedsPollRecheck => PollQueue is null;

    /// <summary>The epoll instances with this description in their interest list (Linux's f_ep); guarded by itself once made.</summary>
    private List<EventPoll>? _eventPolls;

    internal void WatchedBy(EventPoll ep)
    {
        Interlocked.CompareExchange(ref _eventPolls, new List<EventPoll>(), null);
        lock (_eventPolls)
        {
            if (!_eventPolls.Contains(ep))
            {
                _eventPolls.Add(ep);
            }
        }
    }

    internal void NoLongerWatchedBy(EventPoll ep)
    {
        lock (_eventPolls!)
        {
            _eventPolls.Remove(ep);
        }
    }

    /// <summary>Truncates or extends the file.</summary>
    public virtual long Truncate(long length) => -(long)Errno.EINVAL;

    /// <summary>True for a terminal (what /dev/tty opens to when it is a process's stdin).</summary>
    public virtual bool IsTerminal => false;

    /// <summary>
    /// True for a stream without a position whose <see cref="Read"/> returns what is there and
    /// would wait for more (a pipe, a terminal, an inotify fd; Linux's FMODE_STREAM): read(2)
    /// then asks it once instead of filling a large buffer with several reads.
    /// </summary>
    public virtual bool IsStream => false;

    /// <summary>Flushes to stable storage.</summary>
    public virtual long Sync() => 0;

    /// <summary>fgetxattr(2); EOPNOTSUPP unless the file's filesystem keeps extended attributes.</summary>
    public virtual Errno GetXattr(string name, out byte[] value)
    {
        value = Array.Empty<byte>();
        return Errno.EOPNOTSUPP;
    }

    /// <summary>fsetxattr(2).</summary>
    public virtual Errno SetXattr(string name, byte[] value, int flags) => Errno.EOPNOTSUPP;

    /// <summary>fremovexattr(2).</summary>
    public virtual Errno RemoveXattr(string name) => Errno.EOPNOTSUPP;

    /// <summary>flistxattr(2).</summary>
    public virtual Errno ListXattr(out List<string> names)
    {
        names = new List<string>();
        return Errno.EOPNOTSUPP;
    }

    // The inode's attributes, changed through the description (fchmod(2), fchown(2), futimens(3))
    // or asked about (fstatfs(2)): the inode it is open on, whatever its names are now. Each
    // answers null where the description cannot reach its inode itself; the VFS then goes by
    // the path it was opened by. The VFS has checked permissions; arguments are as the
    // path-based IFileSystem calls take them.

    /// <summary>fchmod(2): the permission bits of the inode.</summary>
    public virtual Errno? Chmod(uint mode) => null;

    /// <summary>fchown(2); -1 leaves an id unchanged.</summary>
    public virtual Errno? Chown(int uid, int gid) => null;

    /// <summary>futimens(3): each time (seconds, nanoseconds) may be UTIME_NOW or UTIME_OMIT.</summary>
    public virtual Errno? Utimens((long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) => null;

    /// <summary>fstatfs(2): the filesystem holding the inode.</summary>
    public virtual Errno? StatFs(out StatFsInfo info)
    {
        info = default;
        return null;
    }

    /// <summary>Lines /proc/[pid]/fdinfo/N shows after the common ones (Linux's show_fdinfo).</summary>
    public virtual string ShowFdInfo() => "";

    /// <summary>The lock table holding flock or OFD locks of this description, if it ever took one.</summary>
    public FileLocks? Locks { get; set; }

    public void AddReference() => Interlocked.Increment(ref _references);

    /// <summary>Drops one reference; the last one releases the underlying object.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            Locks?.DescriptionClosed(this);
            Fsnotify?.Closed(this);
            ForgetEventPolls();
            Close();
        }
    }

    /// <summary>eventpoll_release(): epoll registrations follow the description, so they go with its last reference.</summary>
    private void ForgetEventPolls()
    {
        if (_eventPolls is null)
        {
            return;
        }

        List<EventPoll> watchers;
        lock (_eventPolls)
        {
            watchers = _eventPolls.ToList();
        }

        foreach (var ep in watchers)
        {
            ep.Forget(this);
        }
    }

    /// <summary>Called once when no fd refers to this description any more.</summary>
    protected virtual void Close()
    {
    }
}

/// <summary>poll(2) event bits.</summary>
public static class PollEvents
{
    public const int In = 0x1, Pri = 0x2, Out = 0x4, Err = 0x8, Hup = 0x10, Nval = 0x20;
    public const int RdNorm = 0x40, RdBand = 0x80, WrNorm = 0x100, WrBand = 0x200, RdHup = 0x2000;
}

/// <summary>open(2) flags, x86-64 values.</summary>
public static class OpenFlags
{
    public const int ReadOnly = 0, WriteOnly = 1, ReadWrite = 2, AccessMode = 3;
    public const int Create = 0x40, Exclusive = 0x80, NoCtty = 0x100, Truncate = 0x200, Append = 0x400;
    public const int NonBlock = 0x800, DSync = 0x1000, Async = 0x2000, Direct = 0x4000, LargeFile = 0x8000;
    public const int Directory = 0x10000, NoFollow = 0x20000, NoAtime = 0x40000, CloseOnExec = 0x80000;
    public const int Sync = 0x101000, Path = 0x200000, TmpFile = 0x410000;

    /// <summary>Flags that fcntl(F_SETFL) may change.</summary>
    public const int Settable = Append | Async | Direct | NoAtime | NonBlock;
}
