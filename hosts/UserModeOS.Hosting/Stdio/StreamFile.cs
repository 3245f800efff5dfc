using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;
using Task = UserModeOS.Kernel.Task;

namespace UserModeOS.Hosting;

/// <summary>A .NET stream as a guest open file: a pipe-like character stream without seeking.</summary>
internal sealed class StreamFile : OpenFile
{
    private readonly Stream _stream;
    private readonly bool _ownsStream;

    /// <param name="ownsStream">Dispose the stream on the guest's last close (a pipe end the guest owns).</param>
    public StreamFile(Stream stream, string path, int flags, bool ownsStream)
        : base(path, flags)
    {
        _stream = stream;
        _ownsStream = ownsStream;
    }

    /// <summary>How long a blocked read sleeps between checks for a signal.</summary>
    private static readonly TimeSpan InterruptCheck = TimeSpan.FromMilliseconds(50);

    private readonly Lock _readLock = new();

    /// <summary>A stream read still in flight, left behind by a read a signal interrupted.</summary>
    private System.Threading.Tasks.Task<int>? _pending;
    private byte[] _pendingBuffer = [];

    /// <summary>Bytes read from the stream that no guest read has taken yet.</summary>
    private byte[] _leftover = [];
    private int _leftoverStart, _leftoverCount;

    /// <summary>
    /// Reads what the stream gives; while it has nothing, the guest stays interruptible: a
    /// signal makes the read return -ERESTARTSYS (the stream read stays in flight and its
    /// data goes to the next read, so nothing is lost).
    /// </summary>
    public override long Read(Task task, Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_stream is MemoryStream memory)
        {
            return memory.Read(buffer);
        }

        lock (_readLock)
        {
            if (_leftoverCount > 0)
            {
                return TakeLeftover(buffer);
            }

            try
            {
                if (_pending is null)
                {
                    if (_pendingBuffer.Length < buffer.Length)
                    {
                        _pendingBuffer = new byte[Math.Min(buffer.Length, 1 << 16)];
                    }

                    _pending = _stream.ReadAsync(_pendingBuffer, 0, Math.Min(buffer.Length, _pendingBuffer.Length));
                }

                while (!_pending.Wait(InterruptCheck))
                {
                    if (task.HasPendingInterruption)
                    {
                        return -(long)Errno.ERESTARTSYS;
                    }
                }

                var n = _pending.Result;
                _pending = null;
                _leftover = _pendingBuffer;
                _leftoverStart = 0;
                _leftoverCount = n;
                return n == 0 ? 0 : TakeLeftover(buffer);
            }
            catch (AggregateException e) when (e.InnerException is IOException or ObjectDisposedException)
            {
                _pending = null;
                return -(long)Errno.EIO;
            }
            catch (IOException)
            {
                _pending = null;
                return -(long)Errno.EIO;
            }
        }
    }

    private int TakeLeftover(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _leftoverCount);
        _leftover.AsSpan(_leftoverStart, n).CopyTo(buffer);
        _leftoverStart += n;
        _leftoverCount -= n;
        if (_leftoverCount == 0)
        {
            // The buffer goes back to the next stream read.
            _pendingBuffer = _leftover;
        }

        return n;
    }

    public override long Write(Task task, ReadOnlySpan<byte> data)
    {
        try
        {
            _stream.Write(data);
            _stream.Flush();
            return data.Length;
        }
        catch (IOException)
        {
            return -(long)Errno.EPIPE;
        }
        catch (ObjectDisposedException)
        {
            return -(long)Errno.EPIPE;
        }
    }

    public override bool IsStream => true;

    public override Errno Stat(out StatInfo stat)
    {
        stat = new StatInfo { Mode = InodeMode.Fifo | 0x180, Links = 1, BlockSize = 4096 };
        return Errno.None;
    }

    protected override void Close()
    {
        // The guest's last close of its pipe end is end-of-file for the app reading it.
        if (_ownsStream)
        {
            _stream.Dispose();
        }
    }
}
