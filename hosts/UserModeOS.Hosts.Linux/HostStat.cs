using System.Buffers.Binary;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Hosts.Linux;

/// <summary>Reads the host's x86-64 struct stat and struct statx.</summary>
internal static class HostStat
{
    /// <summary>sizeof(struct statx).</summary>
    public const int StatxSize = 256;

    /// <summary>What hostfs asks the host's statx(2) for: struct stat's fields and the birth time.</summary>
    public const uint StatxWanted = StatxBits.BasicStats | StatxBits.BTime;

    /// <summary>The attributes that belong to a mount, not a file: the guest's mounts are not the host's, so the guest VFS reports them.</summary>
    private const ulong MountAttributes = StatxBits.AttrMountRoot | StatxBits.AttrAutomount;

    /// <summary>
    /// Reads struct statx (linux/stat.h) as the guest sees the file: the host's birth time when
    /// the host filesystem has one, and the host's file attributes (append-only, immutable...).
    /// </summary>
    public static StatInfo ParseStatx(ReadOnlySpan<byte> b)
    {
        var mask = BinaryPrimitives.ReadUInt32LittleEndian(b);
        var birth = (mask & StatxBits.BTime) != 0;
        return new StatInfo
        {
            BlockSize = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]),
            Attributes = BinaryPrimitives.ReadUInt64LittleEndian(b[8..]) & ~MountAttributes,
            Links = BinaryPrimitives.ReadUInt32LittleEndian(b[16..]),
            Uid = BinaryPrimitives.ReadUInt32LittleEndian(b[20..]),
            Gid = BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
            Mode = BinaryPrimitives.ReadUInt16LittleEndian(b[28..]),
            Inode = BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
            Size = BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            Blocks = BinaryPrimitives.ReadInt64LittleEndian(b[48..]),
            AttributesMask = BinaryPrimitives.ReadUInt64LittleEndian(b[56..]) & ~MountAttributes,
            AccessSeconds = BinaryPrimitives.ReadInt64LittleEndian(b[64..]),
            AccessNanos = BinaryPrimitives.ReadUInt32LittleEndian(b[72..]),
            BirthSeconds = birth ? BinaryPrimitives.ReadInt64LittleEndian(b[80..]) : 0,
            BirthNanos = birth ? BinaryPrimitives.ReadUInt32LittleEndian(b[88..]) : 0,
            ChangeSeconds = BinaryPrimitives.ReadInt64LittleEndian(b[96..]),
            ChangeNanos = BinaryPrimitives.ReadUInt32LittleEndian(b[104..]),
            ModifySeconds = BinaryPrimitives.ReadInt64LittleEndian(b[112..]),
            ModifyNanos = BinaryPrimitives.ReadUInt32LittleEndian(b[120..]),
            RDevice = MakeDevice(BinaryPrimitives.ReadUInt32LittleEndian(b[128..]), BinaryPrimitives.ReadUInt32LittleEndian(b[132..])),
            Device = MakeDevice(BinaryPrimitives.ReadUInt32LittleEndian(b[136..]), BinaryPrimitives.ReadUInt32LittleEndian(b[140..])),
            StatxMask = mask & StatxBits.BTime,
        };
    }

    /// <summary>gnu_dev_makedev: a major and minor as struct stat's dev_t.</summary>
    private static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0xFFFFF000) << 32) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & 0xFFFFFF00) << 12) | (minor & 0xFF);

    public static StatInfo Parse(ReadOnlySpan<byte> b) => new()
    {
        Device = BinaryPrimitives.ReadUInt64LittleEndian(b),
        Inode = BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
        Links = BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
        Mode = BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
        Uid = BinaryPrimitives.ReadUInt32LittleEndian(b[28..]),
        Gid = BinaryPrimitives.ReadUInt32LittleEndian(b[32..]),
        RDevice = BinaryPrimitives.ReadUInt64LittleEndian(b[40..]),
        Size = BinaryPrimitives.ReadInt64LittleEndian(b[48..]),
        BlockSize = BinaryPrimitives.ReadInt64LittleEndian(b[56..]),
        Blocks = BinaryPrimitives.ReadInt64LittleEndian(b[64..]),
        AccessSeconds = BinaryPrimitives.ReadInt64LittleEndian(b[72..]),
        AccessNanos = BinaryPrimitives.ReadInt64LittleEndian(b[80..]),
        ModifySeconds = BinaryPrimitives.ReadInt64LittleEndian(b[88..]),
        ModifyNanos = BinaryPrimitives.ReadInt64LittleEndian(b[96..]),
        ChangeSeconds = BinaryPrimitives.ReadInt64LittleEndian(b[104..]),
        ChangeNanos = BinaryPrimitives.ReadInt64LittleEndian(b[112..]),
    };
}
