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

    public override long Read(Task task, Span<byte> buffer)
    {
        try
        {
            return _stream.Read(buffer);
        }
        catch (IOException)
        {
            return -(long)Errno.EIO;
        }
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
