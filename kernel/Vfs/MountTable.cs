using System.Runtime.InteropServices;

namespace UserModeOS.Kernel.Vfs;

/// <summary>One mounted filesystem: where it is, what it is, how (Linux's struct mount).</summary>
public sealed class Mount
{
    internal Mount(int id, int parentId, string mountPoint, IFileSystem fs, string source, bool readOnly)
    {
        Id = id;
        ParentId = parentId;
        MountPoint = mountPoint;
        FileSystem = fs;
        Source = source;
        ReadOnly = readOnly;
    }

    /// <summary>The mount id (/proc/self/mountinfo's first field).</summary>
    public int Id { get; }

    public int ParentId { get; }

    /// <summary>The canonical guest path it is mounted on ("/" for the root).</summary>
    public string MountPoint { get; }

    public IFileSystem FileSystem { get; }

    /// <summary>The mount source /proc/mounts shows ("/dev/root", "tmpfs", "proc", a host folder).</summary>
    public string Source { get; }

    public bool ReadOnly { get; }

    /// <summary>Set-user-ID bits are ignored here (MS_NOSUID): the virtual filesystems.</summary>
    public bool NoSuid => FileSystem.Type is "proc" or "sysfs" or "tmpfs" or "devtmpfs";

    /// <summary>Device nodes cannot be opened here (MS_NODEV, EACCES): the virtual filesystems but devtmpfs.</summary>
    public bool NoDev => FileSystem.Type is "proc" or "sysfs" or "tmpfs";

    /// <summary>MS_NOEXEC: programs cannot be run from procfs and sysfs.</summary>
    public bool NoExec => FileSystem.Type is "proc" or "sysfs";

    /// <summary>The path within the filesystem of canonical guest path <paramref name="guestPath"/> under this mount.</summary>
    public string Relative(string guestPath) =>
        MountPoint == "/" ? guestPath : guestPath.Length == MountPoint.Length ? "/" : guestPath[MountPoint.Length..];

    /// <summary>The canonical guest path of <paramref name="relative"/> (a path within the filesystem).</summary>
    public string Guest(string relative) =>
        MountPoint == "/" ? relative : relative == "/" ? MountPoint : MountPoint + relative;
}

/// <summary>
/// A kernel instance's mounts: canonical guest path -> filesystem. The last mount on a path
/// hides what was there (and anything mounted below it), as on Linux.
/// </summary>
public sealed class MountTable
{
    private readonly Lock _lock = new();
    private readonly List<Mount> _mounts = new();
    private int _lastId = 20;

    /// <summary>
    /// <see cref="_mounts"/> as of the last change, for the lookups every path walk makes
    /// without taking the lock (mounts change rarely; walks are the hot path).
    /// </summary>
    private volatile Mount[] _snapshot = [];

    /// <summary>Mounts <paramref name="fs"/> at canonical guest path <paramref name="mountPoint"/>.</summary>
    public Mount Add(string mountPoint, IFileSystem fs, string source, bool readOnly = false)
    {
        mountPoint = PathNames.Normalize("/", mountPoint);
        lock (_lock)
        {
            var parent = mountPoint == "/" ? null : FindLocked(mountPoint);
            var mount = new Mount(++_lastId, parent?.Id ?? 1, mountPoint, fs, source, readOnly);
            _mounts.Add(mount);
            _snapshot = _mounts.ToArray();
            return mount;
        }
    }

    /// <summary>Every mount in mount order.</summary>
    public List<Mount> All()
    {
        lock (_lock)
        {
            return new List<Mount>(_mounts);
        }
    }

    /// <summary>The mount exactly at <paramref name="path"/> (the latest one), or null.</summary>
    public Mount? At(string path)
    {
        var mounts = _snapshot;
        for (var i = mounts.Length - 1; i >= 0; i--)
        {
            if (mounts[i].MountPoint == path)
            {
                return mounts[i];
            }
        }

        return null;
    }

    /// <summary>The mount owning canonical guest path <paramref name="path"/>: the latest one on its longest mounted prefix.</summary>
    public Mount Find(string path) => Find(_snapshot, path) ?? throw new InvalidOperationException("no root filesystem is mounted");

    private Mount? FindLocked(string path) => Find(CollectionsMarshal.AsSpan(_mounts), path);

    private static Mount? Find(ReadOnlySpan<Mount> mounts, string path)
    {
        Mount? best = null;
        for (var i = mounts.Length - 1; i >= 0; i--)
        {
            var m = mounts[i];
            if (IsUnder(path, m.MountPoint) && (best is null || m.MountPoint.Length > best.MountPoint.Length))
            {
                best = m;
            }
        }

        return best;
    }

    private static bool IsUnder(string path, string mountPoint) =>
        mountPoint == "/" || path == mountPoint ||
        (path.Length > mountPoint.Length && path[mountPoint.Length] == '/' && path.StartsWith(mountPoint, StringComparison.Ordinal));
}
