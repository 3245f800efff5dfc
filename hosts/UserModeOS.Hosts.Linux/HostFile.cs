using System.Runtime.Versioning;
using UserModeOS.Hosts.Linux.Interop;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Hosts.Linux;

/// <summary>An open host file descriptor as a guest open file description (regular files, directories, the host terminal).</summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class HostFile : OpenFile
{
    private const uint Tcgets = 0x5401, Tcsets = 0x5402, Tcsetsw = 0x5403, Tcsetsf = 0x5404;
    private const uint Tiocgwinsz = 0x5413, Tiocswinsz = 0x5414, Fionread = 0x541B;
    private const int TermiosSize = 36, WinsizeSize = 8;

    private readonly int _fd;

    /// <summary>Takes ownership of <paramref name="fd"/>.</summary>
    public HostFile(int fd, string path, int flags)
        : base(path, flags)
    {
        _fd = fd;
    }

    /// <summary>A guest view of one of the host's own stdio fds (duplicated, so the guest closing it leaves ours open).</summary>
    public static HostFile ForHostStdio(int hostFd, string path)
    {
        var fd = Libc.Dup(hostFd);
        if (fd < 0)
        {
            throw new IOException($"cannot duplicate host fd {hostFd}: errno {Libc.Errno}");
        }

        return new HostFile(fd, path, hostFd == 0 ? OpenFlags.ReadOnly : OpenFlags.WriteOnly);
    }

    private static long Result(nint n) => n < 0 ? -Libc.Errno : n;

    public override long Read(Task task, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return Result(Libc.Read(_fd, p, (nuint)buffer.Length));
        }
    }

    public override long Write(Task task, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return Result(Libc.Write(_fd, p, (nuint)data.Length));
        }
    }

    public override long ReadAt(Span<byte> buffer, long offset)
    {
        fixed (byte* p = buffer)
        {
            return Result(Libc.Pread(_fd, p, (nuint)buffer.Length, offset));
        }
    }

    public override long WriteAt(ReadOnlySpan<byte> data, long offset)
    {
        fixed (byte* p = data)
        {
            return Result(Libc.Pwrite(_fd, p, (nuint)data.Length, offset));
        }
    }

    public override long Seek(long offset, int whence)
    {
        var r = Libc.Lseek(_fd, offset, whence);
        return r < 0 ? -Libc.Errno : r;
    }

    public override Errno Stat(out StatInfo stat)
    {
        var buffer = stackalloc byte[StatInfo.StatSize];
        if (Libc.Fstat(_fd, buffer) != 0)
        {
            stat = default;
            return (Errno)Libc.Errno;
        }

        stat = HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize));
        return Errno.None;
    }

    public override long GetDents64(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return Result(Libc.Getdents64(_fd, p, (nuint)buffer.Length));
        }
    }

    public override long Truncate(long length) => Libc.Ftruncate(_fd, length) == 0 ? 0 : -Libc.Errno;

    public override long Sync() => Libc.Fsync(_fd) == 0 ? 0 : -Libc.Errno;

    /// <summary>
    /// Terminal ioctls pass through to the host terminal so programs see its real settings;
    /// only requests whose argument layout we know are forwarded.
    /// </summary>
    public override long Ioctl(Task task, uint request, ulong argument)
    {
        int size;
        bool input;
        switch (request)
        {
            case Tcgets:
                (size, input) = (TermiosSize, false);
                break;
            case Tcsets or Tcsetsw or Tcsetsf:
                (size, input) = (TermiosSize, true);
                break;
            case Tiocgwinsz:
                (size, input) = (WinsizeSize, false);
                break;
            case Tiocswinsz:
                (size, input) = (WinsizeSize, true);
                break;
            case Fionread:
                (size, input) = (4, false);
                break;
            default:
                return Libc.IsATty(_fd) == 1 ? -(long)Errno.EINVAL : -(long)Errno.ENOTTY;
        }

        var buffer = new byte[size];
        if (input && !task.CopyIn(argument, buffer))
        {
            return -(long)Errno.EFAULT;
        }

        fixed (byte* p = buffer)
        {
            if (Libc.Ioctl(_fd, request, p) != 0)
            {
                return -Libc.Errno;
            }
        }

        if (!input && !task.CopyOut(argument, buffer))
        {
            return -(long)Errno.EFAULT;
        }

        return 0;
    }

    protected override void Close() => Libc.Close(_fd);
}
