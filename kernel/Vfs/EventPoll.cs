using System.Globalization;
using System.Text;
using UserModeOS.Kernel.Sched;

namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// An epoll instance (epoll(7), fs/eventpoll.c) as the open file description its fd refers to:
/// an interest list of epitems, each a (file, fd) pair with the events asked for and the 64-bit
/// data given back. An epitem subscribes to its file's <see cref="OpenFile.PollQueue"/>; a
/// wake-up puts it on the ready list, which epoll_wait reads in the order items got there.
/// </summary>
/// <remarks>
/// Wake-ups run with the waker's locks held (a pipe's, a socket's), so they only mark the
/// epitem and wake <see cref="PollQueue"/>; readiness is read with <see cref="OpenFile.Poll"/>
/// under the instance's lock. A nested instance's lock is taken inside its parent's, and
/// ELOOP keeps that order acyclic.
/// </remarks>
public sealed class EventPoll : AnonymousInodeFile
{
    /// <summary>EP_MAX_NESTS: how deep instances may be nested in each other.</summary>
    private const int MaxNests = 4;

    /// <summary>Serialises adding an instance to another, so two additions cannot close a loop together (epnested_mutex).</summary>
    private static readonly Lock Nesting = new();

    private readonly Lock _lock = new();
    private readonly Dictionary<(OpenFile File, int Fd), EpItem> _items = new();
    private long _clock;

    public EventPoll()
        : base("[eventpoll]", OpenFlags.ReadWrite)
    {
    }

    /// <summary>Woken whenever an epitem is woken, added or modified: a waiter then reads the ready list.</summary>
    public override WaitQueue PollQueue { get; } = new();

    /// <summary>file_can_poll(): false for the files epoll_ctl refuses with EPERM: regular files, directories and drivers without poll.</summary>
    public static bool CanPoll(OpenFile file) =>
        file.HasPoll && (file.Stat(out var st) != Errno.None || !(st.IsRegular || st.IsDirectory));

    /// <summary>EPOLL_CTL_ADD: EEXIST when the pair is already watched, ELOOP when an instance would end up inside itself.</summary>
    public Errno Add(OpenFile file, int fd, uint events, ulong data)
    {
        if (file is not EventPoll inner)
        {
            return Insert(file, fd, events, data);
        }

        lock (Nesting)
        {
            return inner.Reaches(this, 0) ? Errno.ELOOP : Insert(file, fd, events, data);
        }
    }

    /// <summary>ep_loop_check(): true when <paramref name="target"/> is inside this instance, or the nesting is too deep.</summary>
    private bool Reaches(EventPoll target, int depth)
    {
        List<EventPoll> nested;
        lock (_lock)
        {
            nested = _items.Keys.Select(k => k.File).OfType<EventPoll>().ToList();
        }

        return nested.Exists(e => e == target || depth >= MaxNests || e.Reaches(target, depth + 1));
    }

    private Errno Insert(OpenFile file, int fd, uint events, ulong data)
    {
        lock (_lock)
        {
            if (_items.ContainsKey((file, fd)))
            {
                return Errno.EEXIST;
            }

            var item = new EpItem(this, file, fd) { Events = events, Data = data };
            _items.Add((file, fd), item);
            file.WatchedBy(this);
            file.PollQueue?.Subscribe(item.Woken);

            EnqueueIfReady(item);
        }

        PollQueue.WakeAll();
        return Errno.None;
    }

    /// <summary>EPOLL_CTL_MOD: new events and data, re-armed (a ONESHOT one too) and re-checked; EINVAL for an EPOLLEXCLUSIVE epitem.</summary>
    public Errno Modify(OpenFile file, int fd, uint events, ulong data)
    {
        lock (_lock)
        {
            if (!_items.TryGetValue((file, fd), out var item))
            {
                return Errno.ENOENT;
            }

            if ((item.Events & EpollEvents.Exclusive) != 0)
            {
                return Errno.EINVAL;
            }

            item.Events = events;
            item.Data = data;
            EnqueueIfReady(item);
        }

        PollQueue.WakeAll();
        return Errno.None;
    }

    /// <summary>EPOLL_CTL_DEL.</summary>
    public Errno Delete(OpenFile file, int fd)
    {
        lock (_lock)
        {
            if (!_items.Remove((file, fd), out var item))
            {
                return Errno.ENOENT;
            }

            Unlink(item);
        }

        return Errno.None;
    }

    /// <summary>eventpoll_release(): the last reference to a watched file went, so every epitem on it goes too.</summary>
    internal void Forget(OpenFile file)
    {
        lock (_lock)
        {
            foreach (var key in _items.Keys.Where(k => k.File == file).ToList())
            {
                _items.Remove(key, out var item);
                Unlink(item!);
            }
        }
    }

    private void Unlink(EpItem item)
    {
        item.File.PollQueue?.Unsubscribe(item.Woken);
        if (!_items.Keys.Any(k => k.File == item.File))
        {
            item.File.NoLongerWatchedBy(this);
        }
    }

    /// <summary>ep_insert(), ep_modify(): a file that is ready already goes on the ready list straight away.</summary>
    private void EnqueueIfReady(EpItem item)
    {
        if (((uint)item.File.Poll() & item.Events) != 0)
        {
            Enqueue(item);
        }
    }

    /// <summary>Puts an epitem on the ready list unless it is there already; it keeps its place if so.</summary>
    private void Enqueue(EpItem item)
    {
        if (Interlocked.Exchange(ref item.Queued, 1) == 0)
        {
            item.Order = Interlocked.Increment(ref _clock);
        }
    }

    /// <summary>ep_poll_callback(): a disabled (fired ONESHOT) epitem ignores wake-ups.</summary>
    private void Woken(EpItem item)
    {
        if ((item.Events & ~EpollEvents.PrivateBits) == 0)
        {
            return;
        }

        Enqueue(item);
        PollQueue.WakeAll();
    }

    /// <summary>
    /// The events an epitem would report now (0 for none). Level-triggered: whatever it is ready
    /// for. Edge-triggered (an approximation of Linux's wake-up driven ready list): only when it
    /// was woken, added or modified since its last report, or its readiness rose since the last look.
    /// </summary>
    private static uint Pending(EpItem item, out uint ready)
    {
        ready = (uint)item.File.Poll() & item.Events;
        if ((item.Events & EpollEvents.EdgeTriggered) == 0 || ready == 0)
        {
            return ready;
        }

        return Volatile.Read(ref item.Queued) != 0 || (ready & ~item.LastSeen) != 0 ? ready : 0;
    }

    /// <summary>
    /// ep_send_events(): up to <paramref name="max"/> ready events in ready-list order, handed
    /// to <paramref name="deliver"/> (which copies them out) and returned as a count. Reported
    /// level-triggered epitems go to the back of the list, edge-triggered ones leave it, and
    /// a ONESHOT one is disabled until EPOLL_CTL_MOD re-arms it; when delivery fails nothing
    /// is consumed and the result is -EFAULT.
    /// </summary>
    public int SendEvents(int max, Func<List<(uint Events, ulong Data)>, bool> deliver)
    {
        var found = new List<(EpItem Item, uint Events)>();
        lock (_lock)
        {
            foreach (var item in _items.Values)
            {
                var events = Pending(item, out var ready);
                item.LastSeen = ready;
                if (events != 0)
                {
                    found.Add((item, events));
                }
                else if (ready == 0)
                {
                    Volatile.Write(ref item.Queued, 0);
                }
            }

            found.Sort((a, b) => a.Item.Order.CompareTo(b.Item.Order));
            var reported = found.Take(max).ToList();
            if (reported.Count > 0 && !deliver(reported.Select(r => (r.Events, r.Item.Data)).ToList()))
            {
                return -(int)Errno.EFAULT;
            }

            foreach (var (item, _) in reported)
            {
                if ((item.Events & EpollEvents.OneShot) != 0)
                {
                    item.Events &= EpollEvents.PrivateBits;
                    Volatile.Write(ref item.Queued, 0);
                }
                else if ((item.Events & EpollEvents.EdgeTriggered) != 0)
                {
                    Volatile.Write(ref item.Queued, 0);
                }
                else
                {
                    item.Order = Interlocked.Increment(ref _clock);
                }
            }

            return reported.Count;
        }
    }

    /// <summary>ep_eventpoll_poll(): readable while epoll_wait would report something (nothing is consumed).</summary>
    public override int Poll()
    {
        lock (_lock)
        {
            return _items.Values.Any(i => Pending(i, out _) != 0) ? PollEvents.In | PollEvents.RdNorm : 0;
        }
    }

    /// <summary>Watching a file without a queue, directly or through a nested instance, needs the poller to look again now and then.</summary>
    public override bool NeedsPollRecheck
    {
        get
        {
            lock (_lock)
            {
                return _items.Keys.Any(k => k.File.NeedsPollRecheck);
            }
        }
    }

    /// <summary>ep_show_fdinfo(): one line per epitem.</summary>
    public override string ShowFdInfo()
    {
        var sb = new StringBuilder();
        lock (_lock)
        {
            foreach (var item in _items.Values)
            {
                var ino = item.File.Stat(out var st) == Errno.None ? st.Inode : 0;
                var pos = Math.Max(item.File.Seek(0, 1), 0);
                sb.Append(CultureInfo.InvariantCulture, $"tfd: {item.Fd,8} events: {item.Events,8:x} data: {item.Data,16:x}  pos:{pos} ino:{ino:x} sdev:{StatInfo.KernelDevice(st.Device):x}\n");
            }
        }

        return sb.ToString();
    }

    /// <summary>ep_free(): closing the instance drops its whole interest list.</summary>
    protected override void Close()
    {
        lock (_lock)
        {
            foreach (var item in _items.Values.ToList())
            {
                _items.Remove((item.File, item.Fd));
                Unlink(item);
            }
        }
    }

    /// <summary>struct epitem: one watched (file, fd) pair.</summary>
    private sealed class EpItem
    {
        public EpItem(EventPoll owner, OpenFile file, int fd)
        {
            File = file;
            Fd = fd;
            Woken = () => owner.Woken(this);
        }

        public OpenFile File { get; }

        public int Fd { get; }

        /// <summary>What the file's queue calls on every wake-up.</summary>
        public Action Woken { get; }

        /// <summary>The events asked for, with EPOLLERR and EPOLLHUP, which are always watched.</summary>
        public uint Events;

        public ulong Data;

        /// <summary>1 while on the ready list (set by wake-ups, without the instance's lock).</summary>
        public int Queued;

        /// <summary>Its place on the ready list: when it last got there (or was last reported, level-triggered).</summary>
        public long Order;

        /// <summary>The readiness the last look found, for edge-triggered files that are never woken.</summary>
        public uint LastSeen;
    }
}

/// <summary>epoll_event.events bits beyond poll's (linux/eventpoll.h).</summary>
public static class EpollEvents
{
    public const uint Exclusive = 1u << 28, WakeUp = 1u << 29, OneShot = 1u << 30, EdgeTriggered = 1u << 31;

    /// <summary>EP_PRIVATE_BITS: the flags that are no events; a fired ONESHOT epitem keeps only these.</summary>
    public const uint PrivateBits = WakeUp | OneShot | EdgeTriggered | Exclusive;
}
