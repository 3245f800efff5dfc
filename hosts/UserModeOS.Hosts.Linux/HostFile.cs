using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
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
    private const uint Tiocgpgrp = 0x540F, Tiocspgrp = 0x5410, Tiocgsid = 0x5429;
    private const int TermiosSize = 36, WinsizeSize = 8;

    private readonly int _fd;

    /// <summary>The status flags (<see cref="OpenFlags.Settable"/>) the host fd has, as far as we set them.</summary>
    private int _hostStatusFlags;

    /// <summary>
    /// Takes ownership of <paramref name="fd"/>; <paramref name="neverBlocks"/> tells that the
    /// opener knows it is a regular file or directory, which spares the first read a statx.
    /// </summary>
    public HostFile(int fd, string path, int flags, bool neverBlocks = false)
        : base(path, flags)
    {
        _fd = fd;
        _hostStatusFlags = flags & OpenFlags.Settable;
        _neverBlocks = neverBlocks ? 1 : -1;
    }

    /// <summary>The hostfs the file was opened on; null for the host's stdio.</summary>
    internal HostFileSystem? FileSystem { get; init; }

    /// <summary>The host fd.</summary>
    internal int Fd => _fd;

    /// <summary>A guest view of one of the host's own stdio fds (duplicated, so the guest closing it leaves ours open).</summary>
    public static HostFile ForHostStdio(int hostFd, string path)
    {
        var fd = Libc.Dup(hostFd);
        if (fd < 0)
        {
            throw new IOException($"cannot duplicate host fd {hostFd}: errno {Libc.Errno}");
        }

        // The guest sees the description's real access mode and status flags (a terminal is O_RDWR).
        var flags = Libc.Fcntl(fd, Libc.FGetFl, 0);
        if (flags < 0)
        {
            flags = hostFd == 0 ? OpenFlags.ReadOnly : OpenFlags.WriteOnly;
        }

        return new HostFile(fd, path, flags);
    }

    private static long Result(nint n) => n < 0 ? -Libc.Errno : n;

    /// <summary>
    /// fcntl(F_SETFL) changes only <see cref="OpenFile.Flags"/>; the host fd catches up before
    /// the next transfer, so O_APPEND and O_NONBLOCK take effect where the data moves.
    /// </summary>
    private void SyncStatusFlags()
    {
        var wanted = Flags & OpenFlags.Settable;
        if (wanted == _hostStatusFlags)
        {
            return;
        }

        var current = Libc.Fcntl(_fd, Libc.FGetFl, 0);
        if (current >= 0 && Libc.Fcntl(_fd, Libc.FSetFl, (current & ~OpenFlags.Settable) | wanted) == 0)
        {
            _hostStatusFlags = wanted;
        }
    }

    /// <summary>How long a blocked read of a terminal or host pipe sleeps between checks for a signal.</summary>
    private const int InterruptCheckMilliseconds = 50;

    /// <summary>Whether the host fd is a regular file or directory (never blocks): 1 or 0, or -1 until first use finds out.</summary>
    private int _neverBlocks;

    /// <summary>A host pipe, socket, terminal or other device: whatever a read may wait on.</summary>
    public override bool IsStream => !NeverBlocks();

    public override long Read(Task task, Span<byte> buffer)
    {
        SyncStatusFlags();
        if (!buffer.IsEmpty && (Flags & OpenFlags.NonBlock) == 0 && !NeverBlocks() && !WaitReadable(task))
        {
            return -(long)Errno.ERESTARTSYS;
        }

        fixed (byte* p = buffer)
        {
            return Result(Libc.Read(_fd, p, (nuint)buffer.Length));
        }
    }

    private bool NeverBlocks()
    {
        if (_neverBlocks < 0)
        {
            _neverBlocks = Stat(out var st) == Errno.None && (st.IsRegular || (st.Mode & InodeMode.TypeMask) == InodeMode.Directory) ? 1 : 0;
        }

        return _neverBlocks == 1;
    }

    /// <summary>
    /// Waits with host poll() in short slices until the fd has input (or hang-up, or an error
    /// the read will report), so that a signal can interrupt a guest blocked on the host
    /// terminal: false when the task must leave for a signal or its death.
    /// </summary>
    private bool WaitReadable(Task task)
    {
        while (true)
        {
            var pfd = new Libc.PollFd { Fd = _fd, Events = (short)PollEvents.In };
            var r = Libc.Poll(&pfd, 1, InterruptCheckMilliseconds);
            if (r != 0 && !(r < 0 && Libc.Errno == (int)Errno.EINTR))
            {
                return true;
            }

            if (task.HasPendingInterruption)
            {
                return false;
            }
        }
    }

    public override long Write(Task task, ReadOnlySpan<byte> data)
    {
        SyncStatusFlags();
        fixed (byte* p = data)
        {
            return Result(Libc.Write(_fd, p, (nuint)data.Length));
        }
    }

    public override long ReadAt(Span<byte> buffer, long offset)
    {
        SyncStatusFlags();
        fixed (byte* p = buffer)
        {
            return Result(Libc.Pread(_fd, p, (nuint)buffer.Length, offset));
        }
    }

    public override long WriteAt(ReadOnlySpan<byte> data, long offset)
    {
        SyncStatusFlags();
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
        var buffer = stackalloc byte[HostStat.StatxSize];
        if (Libc.Statx(_fd, "", Libc.AtEmptyPath, HostStat.StatxWanted, buffer) != 0)
        {
            stat = default;
            return (Errno)Libc.Errno;
        }

        stat = HostStat.ParseStatx(new ReadOnlySpan<byte>(buffer, HostStat.StatxSize));
        return Errno.None;
    }

    public override long GetDents64(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return Result(Libc.Getdents64(_fd, p, (nuint)buffer.Length));
        }
    }

    public override bool IsTerminal => Libc.IsATty(_fd) == 1;

    public override long Truncate(long length) => Libc.Ftruncate(_fd, length) == 0 ? 0 : -Libc.Errno;

    public override long Sync() => Libc.Fsync(_fd) == 0 ? 0 : -Libc.Errno;

    // The inode's attributes: the host changes or reports the inode behind our fd, whatever its
    // names are now, never a path. AT_EMPTY_PATH serves O_PATH fds too. The host's stdio (no
    // filesystem) is the host's own, and left to the path-based calls.

    private bool IsPath => (Flags & OpenFlags.Path) != 0;

    public override Errno? Chmod(uint mode) => FileSystem is null ? null : HostFileSystem.Chmod(_fd, mode, IsPath);

    public override Errno? Chown(int uid, int gid) =>
        FileSystem is null ? null : HostFileSystem.Check(Libc.Fchownat(_fd, "", uid, gid, Libc.AtEmptyPath));

    public override Errno? Utimens((long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) =>
        FileSystem is null ? null : HostFileSystem.Check(Libc.Utimensat(_fd, "", access, modify, Libc.AtEmptyPath));

    public override Errno? StatFs(out StatFsInfo info)
    {
        info = default;
        return FileSystem is null ? null : HostFileSystem.StatFs(_fd, out info);
    }

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
            case Tiocgpgrp or Tiocgsid or Tiocspgrp:
                return ProcessGroupIoctl(task, request, argument);
            default:
                // The tty layer answers requests it does not know with ENOTTY too.
                return -(long)Errno.ENOTTY;
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

    /// <summary>
    /// The foreground process group a guest of <paramref name="kernel"/> picked for a host
    /// terminal with tcsetpgrp (TIOCSPGRP), or null when none did: where the host's Ctrl-C goes.
    /// </summary>
    public static int? ForegroundProcessGroup(UserModeOS.Kernel.Kernel kernel)
    {
        if (Foreground.TryGetValue(kernel, out var groups))
        {
            foreach (var pgrp in groups.Values)
            {
                return pgrp;
            }
        }

        return null;
    }

    /// <summary>Each box's view of the foreground process group of each host terminal (by device number).</summary>
    private static readonly ConditionalWeakTable<UserModeOS.Kernel.Kernel, ConcurrentDictionary<ulong, int>> Foreground = new();

    /// <summary>
    /// The host terminal's foreground process group and session are the host's; a box sees
    /// the terminal as its own: its session is the caller's, and its foreground group is the
    /// caller's until tcsetpgrp picks another, so job-control shells run.
    /// </summary>
    private long ProcessGroupIoctl(Task task, uint request, ulong argument)
    {
        if (Libc.IsATty(_fd) != 1 || Stat(out var st) != Errno.None)
        {
            return -(long)Errno.ENOTTY;
        }

        var groups = Foreground.GetOrCreateValue(task.Kernel);
        Span<byte> value = stackalloc byte[4];
        if (request == Tiocspgrp)
        {
            if (!task.CopyIn(argument, value))
            {
                return -(long)Errno.EFAULT;
            }

            var pgrp = BitConverter.ToInt32(value);
            if (pgrp < 0)
            {
                return -(long)Errno.EINVAL;
            }

            groups[st.RDevice] = pgrp;
            return 0;
        }

        var answer = request == Tiocgsid ? task.Group.Session : groups.GetValueOrDefault(st.RDevice, task.Group.ProcessGroup);
        BitConverter.TryWriteBytes(value, answer);
        return task.CopyOut(argument, value) ? 0 : -(long)Errno.EFAULT;
    }

    /// <summary>Readiness from the host (a terminal or host pipe); regular files are always ready.</summary>
    public override int Poll()
    {
        var pfd = new Libc.PollFd { Fd = _fd, Events = (short)(PollEvents.In | PollEvents.Out | PollEvents.Pri) };
        if (Libc.Poll(&pfd, 1, 0) < 0)
        {
            return PollEvents.Err;
        }

        // Only the directions this description was opened for count.
        var mask = PollEvents.Err | PollEvents.Hup | PollEvents.Nval | (CanRead ? PollEvents.In | PollEvents.Pri : 0) | (CanWrite ? PollEvents.Out : 0);
        return pfd.Revents & mask;
    }

    protected override void Close() => Libc.Close(_fd);
}
