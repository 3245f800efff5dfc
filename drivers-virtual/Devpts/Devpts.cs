using System.Globalization;
using UserModeOS.Drivers.Procfs;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Tty;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Devpts;

/// <summary>
/// devpts (pts(4)), mounted at /dev/pts: a char node 136:N for each live pseudo-terminal,
/// owned as <see cref="PtyPair"/> says (its ptmx's opener, mode 0620), and ptmx (5:2, mode
/// 0000 as devpts's default ptmxmode). Nodes come and go with the ptmx opens; nothing else
/// can be made here. Opening a node goes through the device drivers (Devfs.OpenDevice).
/// </summary>
public sealed class Devpts(Ptys ptys) : IFileSystem
{
    private const long DevptsMagic = 0x1CD1;

    /// <summary>Inode numbers as devpts gives them: the root 1, ptmx 2, pts N is N + 3.</summary>
    private const ulong RootInode = 1, PtmxInode = 2, FirstPtsInode = 3;

    private static int _lastAnonymousMinor = 0x80000;

    /// <summary>The anonymous device number (0:N) stat reports.</summary>
    public ulong Device { get; } = (ulong)Interlocked.Increment(ref _lastAnonymousMinor);

    public string Type => "devpts";

    public Errno StatFs(string path, out StatFsInfo info)
    {
        info = new StatFsInfo { Type = DevptsMagic, BlockSize = 4096, FragmentSize = 4096, NameMax = 255, Flags = 0x1020 | 0x2 | 0x8 };
        return Errno.None;
    }

    /// <summary>The pair /dev/pts/N names (a decimal without leading zeros), or null.</summary>
    private PtyPair? PairOf(string path) =>
        path.Length > 1 && (path.Length == 2 || path[1] != '0') &&
        int.TryParse(path.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? ptys.Find(n) : null;

    public Errno Stat(string path, Task? caller, out StatInfo stat)
    {
        var changed = ptys.Changed;
        stat = new StatInfo
        {
            Device = Device,
            Links = 1,
            BlockSize = 1024,
            AccessSeconds = changed.ToUnixTimeSeconds(),
            ModifySeconds = changed.ToUnixTimeSeconds(),
            ChangeSeconds = changed.ToUnixTimeSeconds(),
        };
        if (path == "/")
        {
            (stat.Inode, stat.Mode, stat.Links) = (RootInode, InodeMode.Directory | 0x1ED, 2);
        }
        else if (path == "/ptmx")
        {
            (stat.Inode, stat.Mode, stat.RDevice) = (PtmxInode, InodeMode.Char, Devfs.Devfs.MakeDevice(PtyPair.PtmxMajor, PtyPair.PtmxMinor));
        }
        else if (PairOf(path) is { } pair)
        {
            (stat.Inode, stat.Mode, stat.Uid, stat.Gid) = (FirstPtsInode + (ulong)pair.Index, InodeMode.Char | pair.Permissions, pair.Uid, pair.Gid);
            stat.RDevice = Devfs.Devfs.MakeDevice(PtyPair.PtsMajor, (uint)pair.Index);
        }
        else
        {
            stat = default;
            return path.IndexOf('/', 1) > 0 ? Errno.ENOTDIR : Errno.ENOENT;
        }

        return Errno.None;
    }

    public Errno ReadLink(string path, Task? caller, out string target)
    {
        target = "";
        var e = Stat(path, caller, out _);
        return e != Errno.None ? e : Errno.EINVAL;
    }

    public Errno Access(string path, int mode, bool effectiveIds) => Stat(path, null, out _);

    /// <summary>The root is listed; device nodes reach here only for O_PATH.</summary>
    public Errno Open(string path, int flags, uint mode, Task? caller, out OpenFile? file)
    {
        file = null;
        var e = Stat(path, caller, out var st);
        if (e != Errno.None)
        {
            return (flags & OpenFlags.Create) != 0 && e == Errno.ENOENT ? Errno.EACCES : e;
        }

        StatInfo Current() => Stat(path, caller, out var now) == Errno.None ? now : st;
        if ((flags & OpenFlags.Path) != 0)
        {
            file = new SnapshotFile(path, flags, [], Current);
            return Errno.None;
        }

        if (path != "/")
        {
            return (flags & OpenFlags.Directory) != 0 ? Errno.ENOTDIR : Errno.ENXIO;
        }

        if ((flags & OpenFlags.AccessMode) != OpenFlags.ReadOnly)
        {
            return Errno.EISDIR;
        }

        var entries = new List<(string, ulong, byte)> { (".", RootInode, 4), ("..", RootInode, 4), ("ptmx", PtmxInode, 2) };
        foreach (var pair in ptys.All())
        {
            entries.Add((pair.Index.ToString(CultureInfo.InvariantCulture), FirstPtsInode + (ulong)pair.Index, 2));
        }

        file = new SnapshotDirectory(path, flags, entries, Current);
        return Errno.None;
    }

    // The nodes are the kernel's: none can be made, renamed or removed (EACCES for creating,
    // as devpts's root has no create operations; EPERM for the rest).

    public Errno MakeDirectory(string path, uint mode) => Errno.EACCES;

    public Errno MakeNode(string path, uint mode, ulong device) => Errno.EACCES;

    public Errno Unlink(string path, bool removeDirectory) => Errno.EPERM;

    public Errno Rename(string oldPath, string newPath, int flags) => Errno.EPERM;

    public Errno Symlink(string target, string linkPath) => Errno.EACCES;

    public Errno Link(string oldPath, string newPath) => Errno.EPERM;

    /// <summary>chmod(2) of /dev/pts/N, as grantpt(3) may do.</summary>
    public Errno Chmod(string path, uint mode) => Change(path, pair => pair.Chmod(mode));

    /// <summary>chown(2) of /dev/pts/N, as grantpt(3) may do.</summary>
    public Errno Chown(string path, int uid, int gid) => Change(path, pair => pair.Chown(uid, gid));

    /// <summary>Changes a pts node's attributes; the root and ptmx keep theirs (EPERM).</summary>
    private Errno Change(string path, Action<PtyPair> change)
    {
        if (PairOf(path) is { } pair)
        {
            change(pair);
            return Errno.None;
        }

        var e = Stat(path, null, out _);
        return e != Errno.None ? e : Errno.EPERM;
    }

    public Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) => Stat(path, null, out _);

    public Errno Truncate(string path, long length) => Errno.EINVAL;
}
