using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using UserModeOS.Kernel.Sched;

namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// An inotify instance (inotify(7)) as the open file description its fd refers to: a queue of
/// events that <see cref="Fsnotify"/> fills for this instance's watches, read as
/// <c>struct inotify_event</c> records (fs/notify/inotify/inotify_user.c).
/// </summary>
public sealed class Inotify : AnonymousInodeFile
{
    /// <summary>/proc/sys/fs/inotify/max_queued_events: past it one IN_Q_OVERFLOW event stands for every event lost.</summary>
    public const int MaxQueuedEvents = 16384;

    /// <summary>sizeof(struct inotify_event): wd, mask, cookie, len; the name follows.</summary>
    public const int EventSize = 16;

    private const uint Fionread = 0x541B;

    /// <summary>The one overflow event an instance may have queued (wd -1, no cookie, no name).</summary>
    private static readonly InotifyEvent Overflow = new(-1, InotifyMask.QueueOverflow, 0, null);

    private readonly Fsnotify _fsnotify;
    private readonly Queue<InotifyEvent> _events = new();
    private InotifyEvent? _newest;
    private bool _overflowQueued;
    private int _lastDescriptor;

    public Inotify(Fsnotify fsnotify, int statusFlags)
        : base("inotify", OpenFlags.ReadOnly | statusFlags)
    {
        _fsnotify = fsnotify;
    }

    /// <summary>Woken when events arrive or are read.</summary>
    public WaitQueue QueueChanged { get; } = new();

    /// <summary>This instance's watches by descriptor; guarded by the <see cref="Fsnotify"/> lock.</summary>
    internal Dictionary<int, InotifyWatch> Watches { get; } = new();

    /// <summary>The next watch descriptor: they count up from 1, wrapping around past INT_MAX, skipping those in use (idr_alloc_cyclic()).</summary>
    internal int NextWatchDescriptor()
    {
        do
        {
            _lastDescriptor = _lastDescriptor == int.MaxValue ? 1 : _lastDescriptor + 1;
        }
        while (Watches.ContainsKey(_lastDescriptor));

        return _lastDescriptor;
    }

    private bool NonBlocking => (Flags & OpenFlags.NonBlock) != 0;

    /// <summary>
    /// fsnotify_add_event(): queues an event, unless it repeats the newest one still queued
    /// (inotify_merge(): same wd, mask and name; never after IN_IGNORED), or the queue is full,
    /// when a single IN_Q_OVERFLOW is queued instead.
    /// </summary>
    internal void Queue(int wd, uint mask, uint cookie, byte[]? name)
    {
        lock (QueueChanged.SyncRoot)
        {
            if (_events.Count >= MaxQueuedEvents)
            {
                if (_overflowQueued)
                {
                    return;
                }

                _overflowQueued = true;
                Enqueue(Overflow);
            }
            else if (_newest is { } last && last.Mask != InotifyMask.Ignored && last.Wd == wd && last.Mask == mask &&
                     (last.Name ?? []).AsSpan().SequenceEqual(name))
            {
                return;
            }
            else
            {
                Enqueue(new InotifyEvent(wd, mask, cookie, name));
            }
        }

        QueueChanged.WakeAll();
    }

    private void Enqueue(InotifyEvent e)
    {
        _events.Enqueue(e);
        _newest = e;
    }

    /// <summary>
    /// inotify_read(): as many whole events as fit, EINVAL when even the first does not; with
    /// none queued, EAGAIN for O_NONBLOCK, else waits (a signal interrupts the wait).
    /// </summary>
    public override long Read(Task task, Span<byte> buffer)
    {
        lock (QueueChanged.SyncRoot)
        {
            if (_events.Count == 0)
            {
                if (NonBlocking)
                {
                    return -(long)Errno.EAGAIN;
                }

                var r = QueueChanged.Wait(task, () => _events.Count > 0);
                if (r != 0)
                {
                    return r;
                }
            }

            var done = 0;
            while (_events.TryPeek(out var e) && e.Size <= buffer.Length - done)
            {
                e.Write(buffer[done..]);
                done += e.Size;
                _events.Dequeue();
                _overflowQueued &= !ReferenceEquals(e, Overflow);
            }

            if (_events.Count == 0)
            {
                _newest = null;
            }

            return done > 0 ? done : -(long)Errno.EINVAL;
        }
    }

    public override int Poll()
    {
        lock (QueueChanged.SyncRoot)
        {
            return _events.Count > 0 ? PollEvents.In | PollEvents.RdNorm : 0;
        }
    }

    public override WaitQueue PollQueue => QueueChanged;

    public override bool IsStream => true;

    /// <summary>FIONREAD: the bytes every queued event takes.</summary>
    public override long Ioctl(Task task, uint request, ulong argument)
    {
        if (request != Fionread)
        {
            return -(long)Errno.ENOTTY;
        }

        int bytes;
        lock (QueueChanged.SyncRoot)
        {
            bytes = _events.Sum(e => e.Size);
        }

        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, bytes);
        return task.CopyOut(argument, b) ? 0 : -(long)Errno.EFAULT;
    }

    /// <summary>inotify_fdinfo(): one line per watch (without the file handle Linux adds).</summary>
    public override string ShowFdInfo()
    {
        var sb = new StringBuilder();
        foreach (var w in _fsnotify.WatchesOf(this))
        {
            sb.Append(CultureInfo.InvariantCulture, $"inotify wd:{w.Descriptor:x} ino:{w.Inode.Inode:x} sdev:{StatInfo.KernelDevice(w.Device):x} mask:{w.Mask:x} ignored_mask:0\n");
        }

        return sb.ToString();
    }

    protected override void Close() => _fsnotify.RemoveAll(this);

    /// <summary>A queued event (inotify_event_info); the name is NUL-padded to a multiple of <see cref="EventSize"/>.</summary>
    private sealed record InotifyEvent(int Wd, uint Mask, uint Cookie, byte[]? Name)
    {
        /// <summary>round_event_name_len(): room for the name and at least one NUL.</summary>
        public int NameLength => Name is null ? 0 : (Name.Length + EventSize) / EventSize * EventSize;

        public int Size => EventSize + NameLength;

        public void Write(Span<byte> b)
        {
            BinaryPrimitives.WriteInt32LittleEndian(b, Wd);
            BinaryPrimitives.WriteUInt32LittleEndian(b[4..], Mask);
            BinaryPrimitives.WriteUInt32LittleEndian(b[8..], Cookie);
            BinaryPrimitives.WriteUInt32LittleEndian(b[12..], (uint)NameLength);
            var name = b.Slice(EventSize, NameLength);
            name.Clear();
            Name?.CopyTo(name);
        }
    }
}
