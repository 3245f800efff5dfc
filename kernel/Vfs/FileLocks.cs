using UserModeOS.Kernel.Sched;

namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// Advisory file locks, one table per kernel instance (fs/locks.c): flock(2) locks, POSIX
/// record locks (fcntl F_SETLK/F_SETLKW/F_GETLK) and open file description locks (F_OFD_*).
/// Files are told apart by (device, inode) as fstat reports them. Owners:
/// <list type="bullet">
/// <item>flock and OFD locks belong to an open file description (<see cref="OpenFile"/>) and go when its last fd closes;</item>
/// <item>POSIX locks belong to the fd table (Linux's files_struct: a process and its threads) and go when
/// the table closes ANY fd on the file, or the process exits.</item>
/// </list>
/// flock locks and record locks never conflict with each other; POSIX and OFD record locks
/// do (even within one process). Only locks taken inside this box are seen: locks that host
/// processes hold on hostfs files are invisible, and ours are invisible to them.
/// </summary>
public sealed class FileLocks
{
    public const short ReadLock = 0, WriteLock = 1, Unlock = 2;

    /// <summary>The largest offset (OFFSET_MAX): a lock ending here runs to the end of the file, whatever it becomes.</summary>
    public const long ToEnd = long.MaxValue;

    private readonly WaitQueue _queue = new();
    private readonly Dictionary<(ulong Device, ulong Inode), List<Entry>> _files = new();

    /// <summary>POSIX owners blocked in F_SETLKW, and the owner they wait for (deadlock detection).</summary>
    private readonly Dictionary<object, object> _blockedOn = new(ReferenceEqualityComparer.Instance);

    private enum Kind
    {
        Flock,
        Posix,
        Ofd,
    }

    private sealed class Entry
    {
        public required Kind Kind;
        public required object Owner;
        public required short Type;
        public long Start;
        public long End;
        public int Pid;

        public bool IsRecord => Kind != Kind.Flock;
    }

    /// <summary>A conflicting lock as F_GETLK reports it.</summary>
    public readonly record struct Conflict(short Type, long Start, long End, int Pid);

    private static bool Key(OpenFile file, out (ulong, ulong) key)
    {
        if (file.Stat(out var st) != Errno.None)
        {
            key = default;
            return false;
        }

        key = (st.Device, st.Inode);
        return true;
    }

    // ---------------------------------------------------------------- flock(2)

    /// <summary>
    /// flock(2): <paramref name="type"/> is <see cref="ReadLock"/> (LOCK_SH), <see cref="WriteLock"/>
    /// (LOCK_EX) or <see cref="Unlock"/>. Converting drops the old lock first, as Linux does.
    /// Returns 0, -EWOULDBLOCK (non-blocking) or -ERESTARTSYS (a signal while waiting).
    /// </summary>
    public int Flock(Task task, OpenFile file, short type, bool wait)
    {
        if (!Key(file, out var key))
        {
            return -(int)Errno.EBADF;
        }

        file.Locks = this;
        lock (_queue.SyncRoot)
        {
            var list = Locks(key);
            var mine = list.Find(l => l.Kind == Kind.Flock && ReferenceEquals(l.Owner, file));
            if (mine is not null)
            {
                if (mine.Type == type)
                {
                    return 0;
                }

                list.Remove(mine);
                _queue.WakeAll();
            }

            if (type == Unlock)
            {
                Forget(key, list);
                return 0;
            }

            bool TryTake()
            {
                if (list.Exists(l => l.Kind == Kind.Flock && !ReferenceEquals(l.Owner, file) && (l.Type == WriteLock || type == WriteLock)))
                {
                    return false;
                }

                list.Add(new Entry { Kind = Kind.Flock, Owner = file, Type = type, Start = 0, End = ToEnd, Pid = task.Group.Pid });
                return true;
            }

            if (TryTake())
            {
                return 0;
            }

            if (!wait)
            {
                Forget(key, list);
                return -(int)Errno.EAGAIN;
            }

            var r = _queue.Wait(task, () =>
            {
                // The list may have been forgotten (emptied) meanwhile: take it afresh.
                list = Locks(key);
                return TryTake();
            });
            if (r != 0)
            {
                Forget(key, list);
            }

            return r;
        }
    }

    // ---------------------------------------------------------------- record locks

    /// <summary>
    /// F_GETLK / F_OFD_GETLK: the first lock of another owner that conflicts with
    /// [<paramref name="start"/>, <paramref name="end"/>] of <paramref name="type"/>, or null.
    /// </summary>
    public Conflict? Test(Task task, OpenFile file, bool ofd, short type, long start, long end)
    {
        if (!Key(file, out var key))
        {
            return null;
        }

        object owner = ofd ? file : task.Group.Fds;
        lock (_queue.SyncRoot)
        {
            if (!_files.TryGetValue(key, out var list))
            {
                return null;
            }

            var c = FindConflict(list, owner, type, start, end);
            return c is null ? null : new Conflict(c.Type, c.Start, c.End, c.Kind == Kind.Ofd ? -1 : c.Pid);
        }
    }

    /// <summary>
    /// F_SETLK(W) / F_OFD_SETLK(W) over [<paramref name="start"/>, <paramref name="end"/>]
    /// (inclusive; <see cref="ToEnd"/> = to the end of the file). Returns 0, -EAGAIN when another
    /// owner's lock conflicts and <paramref name="wait"/> is false, -EDEADLK when waiting would
    /// close a cycle of POSIX owners, or -ERESTARTSYS when a signal interrupts the wait.
    /// </summary>
    public int SetRecord(Task task, OpenFile file, bool ofd, short type, long start, long end, bool wait)
    {
        if (!Key(file, out var key))
        {
            return -(int)Errno.EBADF;
        }

        object owner;
        if (ofd)
        {
            owner = file;
            file.Locks = this;
        }
        else
        {
            var fds = task.Group.Fds;
            fds.Locks = this;
            owner = fds;
        }

        var pid = task.Group.Pid;
        var kind = ofd ? Kind.Ofd : Kind.Posix;
        lock (_queue.SyncRoot)
        {
            var list = Locks(key);
            if (type == Unlock)
            {
                Carve(list, owner, start, end);
                Forget(key, list);
                _queue.WakeAll();
                return 0;
            }

            var deadlock = false;
            bool TryTake()
            {
                var conflict = FindConflict(list, owner, type, start, end);
                if (conflict is null)
                {
                    _blockedOn.Remove(owner);
                    Carve(list, owner, start, end);
                    Insert(list, new Entry { Kind = kind, Owner = owner, Type = type, Start = start, End = end, Pid = pid });
                    _queue.WakeAll();
                    return true;
                }

                if (wait && kind == Kind.Posix && conflict.Kind == Kind.Posix)
                {
                    // Would we wait for an owner that (transitively) waits for us?
                    var next = conflict.Owner;
                    for (var hops = 0; hops < 64 && next is not null; hops++)
                    {
                        if (ReferenceEquals(next, owner))
                        {
                            deadlock = true;
                            return true;
                        }

                        next = _blockedOn.GetValueOrDefault(next);
                    }

                    _blockedOn[owner] = conflict.Owner;
                }

                return false;
            }

            if (TryTake())
            {
                return deadlock ? -(int)Errno.EDEADLK : 0;
            }

            if (!wait)
            {
                Forget(key, list);
                return -(int)Errno.EAGAIN;
            }

            var r = _queue.Wait(task, () =>
            {
                list = Locks(key);
                return TryTake();
            });
            _blockedOn.Remove(owner);
            if (r != 0 || deadlock)
            {
                Forget(key, list);
            }

            return r != 0 ? r : deadlock ? -(int)Errno.EDEADLK : 0;
        }
    }

    // ---------------------------------------------------------------- release

    /// <summary>The fd table <paramref name="fds"/> closed an fd on <paramref name="file"/>: its POSIX locks on that file go.</summary>
    public void ClosedByFdTable(object fds, OpenFile file)
    {
        lock (_queue.SyncRoot)
        {
            if (!HoldsAny(fds) || !Key(file, out var key) || !_files.TryGetValue(key, out var list))
            {
                return;
            }

            if (list.RemoveAll(l => l.Kind == Kind.Posix && ReferenceEquals(l.Owner, fds)) > 0)
            {
                Forget(key, list);
                _queue.WakeAll();
            }
        }
    }

    /// <summary>The last fd on <paramref name="file"/> closed: its flock and OFD locks go.</summary>
    public void DescriptionClosed(OpenFile file)
    {
        lock (_queue.SyncRoot)
        {
            var removed = false;
            foreach (var (key, list) in _files.ToArray())
            {
                if (list.RemoveAll(l => l.Kind != Kind.Posix && ReferenceEquals(l.Owner, file)) > 0)
                {
                    removed = true;
                    Forget(key, list);
                }
            }

            if (removed)
            {
                _queue.WakeAll();
            }
        }
    }

    /// <summary>execve replaced the fd table <paramref name="from"/> by <paramref name="to"/>: the POSIX locks stay with the process.</summary>
    public void TransferPosixOwner(object from, object to)
    {
        lock (_queue.SyncRoot)
        {
            foreach (var list in _files.Values)
            {
                foreach (var l in list)
                {
                    if (l.Kind == Kind.Posix && ReferenceEquals(l.Owner, from))
                    {
                        l.Owner = to;
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers (under the queue lock)

    private List<Entry> Locks((ulong, ulong) key)
    {
        if (!_files.TryGetValue(key, out var list))
        {
            list = new List<Entry>();
            _files[key] = list;
        }

        return list;
    }

    private void Forget((ulong, ulong) key, List<Entry> list)
    {
        if (list.Count == 0 && _files.TryGetValue(key, out var current) && ReferenceEquals(current, list))
        {
            _files.Remove(key);
        }
    }

    private bool HoldsAny(object owner)
    {
        foreach (var list in _files.Values)
        {
            if (list.Exists(l => ReferenceEquals(l.Owner, owner)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The conflicting record lock of another owner that starts first (Linux keeps an owner's locks sorted).</summary>
    private static Entry? FindConflict(List<Entry> list, object owner, short type, long start, long end)
    {
        Entry? first = null;
        foreach (var l in list)
        {
            if (l.IsRecord && !ReferenceEquals(l.Owner, owner) && l.Start <= end && start <= l.End
                && (l.Type == WriteLock || type == WriteLock) && (first is null || l.Start < first.Start))
            {
                first = l;
            }
        }

        return first;
    }

    /// <summary>Removes [start, end] from <paramref name="owner"/>'s record locks, splitting where needed.</summary>
    private static void Carve(List<Entry> list, object owner, long start, long end)
    {
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var l = list[i];
            if (!l.IsRecord || !ReferenceEquals(l.Owner, owner) || l.End < start || end < l.Start)
            {
                continue;
            }

            if (l.Start < start && l.End > end)
            {
                list.Add(new Entry { Kind = l.Kind, Owner = l.Owner, Type = l.Type, Start = end + 1, End = l.End, Pid = l.Pid });
                l.End = start - 1;
            }
            else if (l.Start < start)
            {
                l.End = start - 1;
            }
            else if (l.End > end)
            {
                l.Start = end + 1;
            }
            else
            {
                list.RemoveAt(i);
            }
        }
    }

    /// <summary>Adds a record lock (its range already carved free), merging with adjacent locks of the same owner and type.</summary>
    private static void Insert(List<Entry> list, Entry lock_)
    {
        for (var i = list.Count - 1; i >= 0; i--)
        {
            var l = list[i];
            if (!l.IsRecord || !ReferenceEquals(l.Owner, lock_.Owner) || l.Type != lock_.Type)
            {
                continue;
            }

            var adjacentBefore = l.End != ToEnd && l.End + 1 == lock_.Start;
            var adjacentAfter = lock_.End != ToEnd && lock_.End + 1 == l.Start;
            if (adjacentBefore || adjacentAfter)
            {
                lock_.Start = Math.Min(lock_.Start, l.Start);
                lock_.End = Math.Max(lock_.End, l.End);
                list.RemoveAt(i);
            }
        }

        list.Add(lock_);
    }
}
