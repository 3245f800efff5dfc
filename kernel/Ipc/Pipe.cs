using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Ipc;

/// <summary>
/// A pipe's buffer (pipe(7)): 64 KiB by default, writes of up to PIPE_BUF bytes are atomic,
/// readers see end of file once the last writer is gone, writers get EPIPE and SIGPIPE
/// once the last reader is.
/// </summary>
public sealed class Pipe
{
    public const int PipeBuf = 4096;
    public const int DefaultCapacity = 64 * 1024;

    private static long _lastInode;

    private readonly byte[] _buffer = new byte[DefaultCapacity];
    private int _start;
    private int _count;

    public Pipe()
    {
        Inode = (ulong)Interlocked.Increment(ref _lastInode);
    }

    /// <summary>Woken when data, space, readers or writers change.</summary>
    public WaitQueue Queue { get; } = new();

    public ulong Inode { get; }

    internal int Readers;
    internal int Writers;

    public int Available
    {
        get
        {
            lock (Queue.SyncRoot)
            {
                return _count;
            }
        }
    }

    /// <summary>Who owns the pipe's inode (pipe(2) gives it the creator's filesystem ids, mode 0600); fchown(2) changes it.</summary>
    public uint Uid { get; internal set; }

    public uint Gid { get; internal set; }

    /// <summary>The permission bits of the pipe's inode, which fchmod(2) changes (and a reopen through /proc/self/fd checks).</summary>
    public uint Permissions { get; internal set; } = 0x180;

    /// <summary>The two ends: read (fd[0]) and write (fd[1]).</summary>
    public static (OpenFile Read, OpenFile Write) Create(int statusFlags, Credentials creator)
    {
        var pipe = new Pipe { Readers = 1, Writers = 1, Uid = creator.Fsuid, Gid = creator.Fsgid };
        return (new PipeEnd(pipe, OpenFlags.ReadOnly | statusFlags), new PipeEnd(pipe, OpenFlags.WriteOnly | statusFlags));
    }

    internal long Read(Task task, Span<byte> buffer, bool nonBlocking)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        lock (Queue.SyncRoot)
        {
            if (_count == 0)
            {
                if (Writers == 0)
                {
                    return 0;
                }

                if (nonBlocking)
                {
                    return -(long)Errno.EAGAIN;
                }

                var r = Queue.Wait(task, () => _count > 0 || Writers == 0);
                if (r != 0)
                {
                    return r;
                }

                if (_count == 0)
                {
                    return 0;
                }
            }

            var n = Math.Min(buffer.Length, _count);
            var first = Math.Min(n, _buffer.Length - _start);
            _buffer.AsSpan(_start, first).CopyTo(buffer);
            _buffer.AsSpan(0, n - first).CopyTo(buffer[first..]);
            _start = (_start + n) % _buffer.Length;
            _count -= n;
            Queue.WakeAll();
            return n;
        }
    }

    internal long Write(Task task, ReadOnlySpan<byte> data, bool nonBlocking)
    {
        if (data.IsEmpty)
        {
            return 0;
        }

        lock (Queue.SyncRoot)
        {
            var written = 0;
            var atomic = data.Length <= PipeBuf;
            while (written < data.Length)
            {
                if (Readers == 0)
                {
                    task.Kernel.SendSignal(task, SigInfo.FromUser(Signals.SIGPIPE, SigInfo.SiUser, task.Group.Pid));
                    return written > 0 ? written : -(long)Errno.EPIPE;
                }

                var free = _buffer.Length - _count;
                var need = atomic ? data.Length : 1;
                if (free < need)
                {
                    if (nonBlocking)
                    {
                        return written > 0 ? written : -(long)Errno.EAGAIN;
                    }

                    var r = Queue.Wait(task, () => _buffer.Length - _count >= need || Readers == 0);
                    if (r != 0)
                    {
                        return written > 0 ? written : r;
                    }

                    continue;
                }

                var n = Math.Min(free, data.Length - written);
                var end = (_start + _count) % _buffer.Length;
                var first = Math.Min(n, _buffer.Length - end);
                data.Slice(written, first).CopyTo(_buffer.AsSpan(end));
                data.Slice(written + first, n - first).CopyTo(_buffer);
                _count += n;
                written += n;
                Queue.WakeAll();
            }

            return written;
        }
    }

    /// <summary>Waits for data (splice/tee): the bytes buffered, 0 at end of file, or -errno.</summary>
    internal long WaitReadable(Task task, bool nonBlocking)
    {
        lock (Queue.SyncRoot)
        {
            while (_count == 0)
            {
                if (Writers == 0)
                {
                    return 0;
                }

                if (nonBlocking)
                {
                    return -(long)Errno.EAGAIN;
                }

                var r = Queue.Wait(task, () => _count > 0 || Writers == 0);
                if (r != 0)
                {
                    return r;
                }
            }

            return _count;
        }
    }

    /// <summary>Waits for room (splice/tee): the free bytes, or -errno (EPIPE with SIGPIPE without readers).</summary>
    internal long WaitWritable(Task task, bool nonBlocking)
    {
        lock (Queue.SyncRoot)
        {
            while (true)
            {
                if (Readers == 0)
                {
                    task.Kernel.SendSignal(task, SigInfo.FromUser(Signals.SIGPIPE, SigInfo.SiUser, task.Group.Pid));
                    return -(long)Errno.EPIPE;
                }

                if (_count < _buffer.Length)
                {
                    return _buffer.Length - _count;
                }

                if (nonBlocking)
                {
                    return -(long)Errno.EAGAIN;
                }

                var r = Queue.Wait(task, () => _count < _buffer.Length || Readers == 0);
                if (r != 0)
                {
                    return r;
                }
            }
        }
    }

    /// <summary>Copies buffered data without consuming it (tee(2)); returns the bytes copied.</summary>
    internal int Peek(Span<byte> buffer)
    {
        lock (Queue.SyncRoot)
        {
            var n = Math.Min(buffer.Length, _count);
            var first = Math.Min(n, _buffer.Length - _start);
            _buffer.AsSpan(_start, first).CopyTo(buffer);
            _buffer.AsSpan(0, n - first).CopyTo(buffer[first..]);
            return n;
        }
    }

    internal int PollFor(bool readEnd)
    {
        lock (Queue.SyncRoot)
        {
            if (readEnd)
            {
                var events = _count > 0 ? PollEvents.In | PollEvents.RdNorm : 0;
                return Writers == 0 ? events | PollEvents.Hup : events;
            }

            // pipe_poll(): writable while not full, and POLLERR once the readers are gone (the write
            // then fails with EPIPE), whatever is still buffered.
            var writable = _buffer.Length - _count >= PipeBuf ? PollEvents.Out | PollEvents.WrNorm : 0;
            return Readers == 0 ? writable | PollEvents.Err : writable;
        }
    }

    /// <summary>An open file description on this pipe went away: one reader, one writer, or (a fifo opened O_RDWR) both fewer.</summary>
    internal void Close(bool reader, bool writer)
    {
        lock (Queue.SyncRoot)
        {
            if (reader)
            {
                Readers--;
            }

            if (writer)
            {
                Writers--;
            }
        }

        Queue.WakeAll();
    }
}

/// <summary>
/// An open file description on a pipe: one end of pipe(2), or a fifo opened for reading,
/// writing or both (O_RDWR, which only fifos allow); the access mode says which.
/// </summary>
public class PipeEnd : OpenFile
{
    private readonly Pipe _pipe;

    internal PipeEnd(Pipe pipe, int flags)
        : this(pipe, flags, $"pipe:[{pipe.Inode}]")
    {
    }

    private protected PipeEnd(Pipe pipe, int flags, string path)
        : base(path, flags)
    {
        _pipe = pipe;
    }

    private bool NonBlocking => (Flags & OpenFlags.NonBlock) != 0;

    /// <summary>The pipe this end belongs to (splice/tee).</summary>
    internal Pipe Pipe => _pipe;

    public override long Read(Task task, Span<byte> buffer) =>
        CanRead ? _pipe.Read(task, buffer, NonBlocking) : -(long)Errno.EBADF;

    public override long Write(Task task, ReadOnlySpan<byte> data) =>
        CanWrite ? _pipe.Write(task, data, NonBlocking) : -(long)Errno.EBADF;

    public override int Poll() => (CanRead ? _pipe.PollFor(readEnd: true) : 0) | (CanWrite ? _pipe.PollFor(readEnd: false) : 0);

    public override bool IsStream => true;

    public override WaitQueue PollQueue => _pipe.Queue;

    public override Errno Stat(out StatInfo stat)
    {
        stat = new StatInfo { Mode = InodeMode.Fifo | _pipe.Permissions, Links = 1, BlockSize = 4096, Inode = _pipe.Inode, Device = 0xC, Uid = _pipe.Uid, Gid = _pipe.Gid };
        return Errno.None;
    }

    public override long Ioctl(Task task, uint request, ulong argument)
    {
        const uint Fionread = 0x541B;
        if (request != Fionread)
        {
            return -(long)Errno.ENOTTY;
        }

        Span<byte> b = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(b, _pipe.Available);
        return task.CopyOut(argument, b) ? 0 : -(long)Errno.EFAULT;
    }

    // The pipe's inode (pipefs) changes through either end, as Linux's simple_setattr() does;
    // the VFS has checked permissions.

    public override Errno? Chmod(uint mode)
    {
        _pipe.Permissions = mode & 0xFFF;
        return Errno.None;
    }

    public override Errno? Chown(int uid, int gid)
    {
        _pipe.Uid = uid == -1 ? _pipe.Uid : (uint)uid;
        _pipe.Gid = gid == -1 ? _pipe.Gid : (uint)gid;
        return Errno.None;
    }

    /// <summary>futimens(3): allowed as on Linux, but a pipe here keeps no times (fstat shows none), so nothing changes.</summary>
    public override Errno? Utimens((long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) => Errno.None;

    protected override void Close() => _pipe.Close(CanRead, CanWrite);
}
