using System.Buffers.Binary;

namespace UserModeOS.Kernel.Vfs;

/// <summary>What stat(2) reports about a file; <see cref="WriteStat"/> lays it out as x86-64 struct stat.</summary>
public struct StatInfo
{
    public ulong Device;
    public ulong Inode;
    public uint Mode;
    public ulong Links;
    public uint Uid;
    public uint Gid;
    public ulong RDevice;
    public long Size;
    public long BlockSize;
    public long Blocks;
    public long AccessSeconds, AccessNanos;
    public long ModifySeconds, ModifyNanos;
    public long ChangeSeconds, ChangeNanos;
    public long BirthSeconds, BirthNanos;

    /// <summary>The optional statx(2) fields the filesystem filled: <see cref="StatxBits.BTime"/> when it keeps a birth time.</summary>
    public uint StatxMask;

    /// <summary>stx_attributes and stx_attributes_mask: the STATX_ATTR_* bits set, and those the filesystem supports.</summary>
    public ulong Attributes, AttributesMask;

    /// <summary>The id of the mount the file was found on (/proc/self/mountinfo's first field); 0 when it has none (a pipe).</summary>
    public int MountId;

    public const int StatSize = 144;

    /// <summary>Writes x86-64 <c>struct stat</c> (asm/stat.h).</summary>
    public readonly void WriteStat(Span<byte> b)
    {
        b[..StatSize].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(b, Device);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], Inode);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], Links);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], Mode);
        BinaryPrimitives.WriteUInt32LittleEndian(b[28..], Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[32..], Gid);
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], RDevice);
        BinaryPrimitives.WriteInt64LittleEndian(b[48..], Size);
        BinaryPrimitives.WriteInt64LittleEndian(b[56..], BlockSize);
        BinaryPrimitives.WriteInt64LittleEndian(b[64..], Blocks);
        BinaryPrimitives.WriteInt64LittleEndian(b[72..], AccessSeconds);
        BinaryPrimitives.WriteInt64LittleEndian(b[80..], AccessNanos);
        BinaryPrimitives.WriteInt64LittleEndian(b[88..], ModifySeconds);
        BinaryPrimitives.WriteInt64LittleEndian(b[96..], ModifyNanos);
        BinaryPrimitives.WriteInt64LittleEndian(b[104..], ChangeSeconds);
        BinaryPrimitives.WriteInt64LittleEndian(b[112..], ChangeNanos);
    }

    public readonly bool IsDirectory => (Mode & InodeMode.TypeMask) == InodeMode.Directory;

    public readonly bool IsRegular => (Mode & InodeMode.TypeMask) == InodeMode.Regular;

    /// <summary>A device as the kernel's own dev_t (major &lt;&lt; 20 | minor), which st_dev spreads out: how fdinfo prints s_dev.</summary>
    public static ulong KernelDevice(ulong device)
    {
        var major = ((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFFUL);
        var minor = (device & 0xFF) | ((device >> 12) & ~0xFFUL);
        return (major << 20) | minor;
    }
}

/// <summary>st_mode bits.</summary>
public static class InodeMode
{
    public const uint TypeMask = 0xF000;
    public const uint Socket = 0xC000, Symlink = 0xA000, Regular = 0x8000, Block = 0x6000;
    public const uint Directory = 0x4000, Char = 0x2000, Fifo = 0x1000;
    public const uint SetUid = 0x800, SetGid = 0x400, Sticky = 0x200;
}

/// <summary>statx(2) mask and attribute bits (linux/stat.h).</summary>
public static class StatxBits
{
    public const uint BasicStats = 0x7FF, BTime = 0x800, MountId = 0x1000, MountIdUnique = 0x4000, Reserved = 0x80000000;

    public const ulong AttrImmutable = 0x10, AttrAppend = 0x20, AttrNoDump = 0x40;
    public const ulong AttrAutomount = 0x1000, AttrMountRoot = 0x2000, AttrDax = 0x200000;
}
