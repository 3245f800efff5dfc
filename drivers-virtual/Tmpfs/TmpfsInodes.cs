using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Tmpfs;

/// <summary>An in-memory inode with Linux metadata (times with nanoseconds).</summary>
internal abstract class TmpInode
{
    protected TmpInode(ulong ino, uint mode)
    {
        Ino = ino;
        Mode = mode;
        var now = Now();
        Access = Modify = Change = Birth = now;
    }

    public ulong Ino { get; }
    public uint Mode { get; set; }
    public uint Uid { get; set; }
    public uint Gid { get; set; }
    public uint Links { get; set; } = 1;
    public ulong RDevice { get; init; }
    public (long Seconds, long Nanos) Access, Modify, Change, Birth;

    /// <summary>Extended attributes by name (null until the first one is set).</summary>
    public SortedDictionary<string, byte[]>? Xattrs { get; set; }

    public uint Type => Mode & InodeMode.TypeMask;

    public virtual long Size => 0;

    public static (long Seconds, long Nanos) Now()
    {
        var ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return (ticks / TimeSpan.TicksPerSecond, ticks % TimeSpan.TicksPerSecond * 100);
    }

    public void Touch(bool modify = true)
    {
        var now = Now();
        if (modify)
        {
            Modify = now;
        }

        Change = now;
    }

    public StatInfo Stat(ulong device) => new()
    {
        Device = device,
        Inode = Ino,
        Mode = Mode,
        Links = Links,
        Uid = Uid,
        Gid = Gid,
        RDevice = RDevice,
        Size = Size,
        BlockSize = 4096,
        Blocks = (Size + 4095) / 4096 * 8,
        AccessSeconds = Access.Seconds, AccessNanos = Access.Nanos,
        ModifySeconds = Modify.Seconds, ModifyNanos = Modify.Nanos,
        ChangeSeconds = Change.Seconds, ChangeNanos = Change.Nanos,
        BirthSeconds = Birth.Seconds, BirthNanos = Birth.Nanos,
        StatxMask = StatxBits.BTime,

        // shmem_getattr(): tmpfs knows the append-only, immutable and no-dump flags (none of them set here).
        AttributesMask = StatxBits.AttrAppend | StatxBits.AttrImmutable | StatxBits.AttrNoDump,
    };

    /// <summary>linux_dirent64's d_type.</summary>
    public byte DirentType => Type switch
    {
        InodeMode.Directory => 4,
        InodeMode.Regular => 8,
        InodeMode.Symlink => 10,
        InodeMode.Char => 2,
        InodeMode.Block => 6,
        InodeMode.Fifo => 1,
        InodeMode.Socket => 12,
        _ => 0,
    };
}

/// <summary>A regular file: a growable byte store.</summary>
internal sealed class TmpFile(ulong ino, uint mode) : TmpInode(ino, mode)
{
    public byte[] Data = Array.Empty<byte>();
    public long Length;

    /// <summary>An O_TMPFILE file opened without O_EXCL, not yet linked: linkat(2) may name it (Linux's I_LINKABLE).</summary>
    public bool Linkable { get; set; }

    public override long Size => Length;
}

/// <summary>A symbolic link.</summary>
internal sealed class TmpSymlink(ulong ino, uint mode, string target) : TmpInode(ino, mode)
{
    public string Target { get; } = target;

    public override long Size => System.Text.Encoding.UTF8.GetByteCount(Target);
}

/// <summary>A device node, fifo or socket.</summary>
internal sealed class TmpNode(ulong ino, uint mode) : TmpInode(ino, mode);

/// <summary>
/// A directory. Each entry gets a cookie when it is added, never reused, so getdents64
/// offsets stay valid across calls while entries come and go.
/// </summary>
internal sealed class TmpDirectory : TmpInode
{
    /// <summary>Offsets 0 and 1 are "." and ".."; entries count from here.</summary>
    public const long FirstCookie = 2;

    private long _nextCookie = FirstCookie;

    public TmpDirectory(ulong ino, uint mode, TmpDirectory? parent)
        : base(ino, mode)
    {
        Parent = parent ?? this;
        Links = 2;
    }

    public TmpDirectory Parent { get; set; }

    public Dictionary<string, (TmpInode Inode, long Cookie)> Entries { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<long, string> Order { get; } = new();

    /// <summary>Linux tmpfs counts BOGO_DIRENT_SIZE (20) per entry, "." and ".." included.</summary>
    public override long Size => 20 * (Entries.Count + 2);

    public void Add(string name, TmpInode inode)
    {
        var cookie = _nextCookie++;
        Entries[name] = (inode, cookie);
        Order[cookie] = name;
        if (inode is TmpDirectory d)
        {
            d.Parent = this;
        }
    }

    public void Remove(string name)
    {
        if (Entries.Remove(name, out var entry))
        {
            Order.Remove(entry.Cookie);
        }
    }
}
