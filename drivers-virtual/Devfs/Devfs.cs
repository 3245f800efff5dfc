using System.Security.Cryptography;
using UserModeOS.Drivers.Tmpfs;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Tty;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Devfs;

/// <summary>
/// devfs: a devtmpfs-like tmpfs (writable, as Linux's /dev is) populated with the memory
/// devices (null, zero, full, random, urandom), tty, console and ptmx, the stdin/stdout/stderr/fd
/// links into /proc/self/fd, and the shm and pts directories. Device nodes open through
/// <see cref="OpenDevice"/> (the VFS's device drivers) by major and minor, on any filesystem
/// not mounted nodev (mknod works too).
/// </summary>
public static class Devfs
{
    public const uint MemMajor = 1, TtyMajor = 5;
    public const uint Null = 3, Zero = 5, Full = 7, Random = 8, Urandom = 9;
    public const uint Tty = 0, Console = 1;

    /// <summary>makedev(major, minor) as stat reports it.</summary>
    public static ulong MakeDevice(uint major, uint minor) =>
        (minor & 0xFFUL) | ((major & 0xFFFUL) << 8) | ((minor & ~0xFFUL) << 12) | ((major & ~0xFFFUL) << 32);

    /// <summary>A fresh /dev.</summary>
    public static Tmpfs.Tmpfs Create()
    {
        var fs = new Tmpfs.Tmpfs(sizeLimit: 64L << 20, rootMode: 0x1ED, type: "devtmpfs");
        void Char(string name, uint major, uint minor, uint perm) =>
            fs.MakeNode("/" + name, InodeMode.Char | perm, MakeDevice(major, minor));
        Char("null", MemMajor, Null, 0x1B6);
        Char("zero", MemMajor, Zero, 0x1B6);
        Char("full", MemMajor, Full, 0x1B6);
        Char("random", MemMajor, Random, 0x1B6);
        Char("urandom", MemMajor, Urandom, 0x1B6);
        Char("tty", TtyMajor, Tty, 0x1B6);
        Char("console", TtyMajor, Console, 0x180);
        Char("ptmx", TtyMajor, PtyPair.PtmxMinor, 0x1B6);
        fs.Symlink("/proc/self/fd", "/fd");
        fs.Symlink("/proc/self/fd/0", "/stdin");
        fs.Symlink("/proc/self/fd/1", "/stdout");
        fs.Symlink("/proc/self/fd/2", "/stderr");
        fs.MakeDirectory("/shm", 0x3FF);
        fs.MakeDirectory("/pts", 0x1ED);
        return fs;
    }

    /// <summary>The drivers behind device numbers.</summary>
    public static Errno OpenDevice(uint major, uint minor, int flags, Task? caller, Func<StatInfo> stat, out OpenFile? file)
    {
        file = null;
        switch (major, minor)
        {
            case (MemMajor, Null or Zero or Full or Random or Urandom):
                file = new MemoryDevice(minor, stat, flags);
                return Errno.None;
            case (TtyMajor, PtyPair.PtmxMinor) when caller is not null:
                file = new PtyMaster(caller.Kernel.Ptys.Create(caller.Cred), caller.Kernel.Ptys, flags, stat);
                return Errno.None;
            case (PtyPair.PtsMajor, _) when caller?.Kernel.Ptys.Find((int)minor) is { } pts:
                return PtySlave.Open(pts, caller.Kernel.Ptys, flags, caller, stat, out file);
            case (TtyMajor, Tty) when caller?.Kernel.Ptys.ControllingTerminal(caller.Group) is { } controlling:
                // The controlling terminal, opened anew (never acquired through this name).
                return PtySlave.Open(controlling, caller.Kernel.Ptys, flags | OpenFlags.NoCtty, caller, stat, out file);
            case (TtyMajor, Tty or Console):
                // Without a controlling pty: the caller's stdin when that is a terminal.
                if (caller?.Group.Fds.Get(0) is { IsTerminal: true } terminal)
                {
                    terminal.AddReference();
                    file = terminal;
                    return Errno.None;
                }

                if (minor == Console)
                {
                    file = new MemoryDevice(Null, stat, flags);
                    return Errno.None;
                }

                return Errno.ENXIO;
            default:
                return Errno.ENXIO;
        }
    }
}

/// <summary>/dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom (drivers/char/mem.c, random.c).</summary>
internal sealed class MemoryDevice(uint minor, Func<StatInfo> stat, int flags) : OpenFile("", flags)
{
    /// <summary>Of these, only /dev/random has a poll operation in Linux 6.x (random_fops); the others' fops have none.</summary>
    public override bool HasPoll => minor == Devfs.Random;

    public override Errno Stat(out StatInfo st)
    {
        st = stat();
        return Errno.None;
    }

    public override long Read(Task task, Span<byte> buffer) => ReadAt(buffer, 0);

    public override long ReadAt(Span<byte> buffer, long offset)
    {
        if (!CanRead)
        {
            return -(long)Errno.EBADF;
        }

        switch (minor)
        {
            case Devfs.Null:
                return 0;
            case Devfs.Random or Devfs.Urandom:
                RandomNumberGenerator.Fill(buffer);
                return buffer.Length;
            default:
                buffer.Clear();
                return buffer.Length;
        }
    }

    public override long Write(Task task, ReadOnlySpan<byte> data) => WriteAt(data, 0);

    public override long WriteAt(ReadOnlySpan<byte> data, long offset)
    {
        if (!CanWrite)
        {
            return -(long)Errno.EBADF;
        }

        return minor == Devfs.Full ? -(long)Errno.ENOSPC : data.Length;
    }

    /// <summary>null and zero seek to 0 whatever is asked (memory_lseek / null_lseek); random devices too.</summary>
    public override long Seek(long offset, int whence)
    {
        Position = 0;
        return 0;
    }

    public override long Truncate(long length) => 0;
}
