using System.Buffers.Binary;
using System.Globalization;
using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Ipc;

/// <summary>
/// An eventfd object (eventfd(2), fs/eventfd.c) as the open file description its fd refers to:
/// a 64-bit counter that writes add to and reads take, whole or one at a time (EFD_SEMAPHORE).
/// </summary>
public sealed class EventFd : AnonymousInodeFile
{
    /// <summary>EFD_SEMAPHORE; EFD_CLOEXEC and EFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK.</summary>
    public const int Semaphore = 1;

    /// <summary>The counter never reaches ULLONG_MAX: a write that would wait instead.</summary>
    private const ulong Limit = ulong.MaxValue - 1;

    private readonly bool _semaphore;
    private ulong _count;

    public EventFd(ulong initial, int flags)
        : base("[eventfd]", OpenFlags.ReadWrite | (flags & OpenFlags.NonBlock))
    {
        _count = initial;
        _semaphore = (flags & Semaphore) != 0;
    }

    /// <summary>Woken when the counter changes.</summary>
    private WaitQueue Queue { get; } = new();

    private bool NonBlocking => (Flags & OpenFlags.NonBlock) != 0;

    /// <summary>
    /// eventfd_read(): 8 bytes (EINVAL for less) with the counter, which drops to 0, or 1 with
    /// EFD_SEMAPHORE, which drops by one; a zero counter means EAGAIN or waiting.
    /// </summary>
    public override long Read(Task task, Span<byte> buffer)
    {
        if (buffer.Length < sizeof(ulong))
        {
            return -(long)Errno.EINVAL;
        }

        lock (Queue.SyncRoot)
        {
            var r = WaitUntil(task, () => _count > 0);
            if (r != 0)
            {
                return r;
            }

            var value = _semaphore ? 1 : _count;
            _count -= value;
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
            Queue.WakeAll();
            return sizeof(ulong);
        }
    }

    /// <summary>
    /// eventfd_write(): adds an 8-byte value (EINVAL for less, or for ULLONG_MAX); one that would
    /// take the counter past ULLONG_MAX - 1 means EAGAIN or waiting for a read.
    /// </summary>
    public override long Write(Task task, ReadOnlySpan<byte> data)
    {
        if (data.Length < sizeof(ulong))
        {
            return -(long)Errno.EINVAL;
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (value == ulong.MaxValue)
        {
            return -(long)Errno.EINVAL;
        }

        lock (Queue.SyncRoot)
        {
            var r = WaitUntil(task, () => Limit - _count >= value);
            if (r != 0)
            {
                return r;
            }

            _count += value;
            Queue.WakeAll();
            return sizeof(ulong);
        }
    }

    /// <summary>EAGAIN when O_NONBLOCK and the condition does not hold yet; else waits for it (a signal interrupts).</summary>
    private int WaitUntil(Task task, Func<bool> condition)
    {
        if (condition())
        {
            return 0;
        }

        return NonBlocking ? -(int)Errno.EAGAIN : Queue.Wait(task, condition);
    }

    /// <summary>eventfd_poll(): readable with a count, writable while a write of 1 fits (no POLLRDNORM or POLLWRNORM).</summary>
    public override int Poll()
    {
        lock (Queue.SyncRoot)
        {
            var events = _count > 0 ? PollEvents.In : 0;
            return _count < Limit ? events | PollEvents.Out : events;
        }
    }

    public override WaitQueue PollQueue => Queue;

    /// <summary>A read returns the counter at once rather than being repeated to fill a larger buffer.</summary>
    public override bool IsStream => true;

    /// <summary>eventfd_show_fdinfo() (without the id, which only tells instances apart).</summary>
    public override string ShowFdInfo()
    {
        lock (Queue.SyncRoot)
        {
            return string.Create(CultureInfo.InvariantCulture, $"eventfd-count: {_count,16:x}\neventfd-semaphore: {(_semaphore ? 1 : 0)}\n");
        }
    }
}
