using System.Buffers.Binary;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Hosts.Linux;

/// <summary>Reads the host's x86-64 struct stat.</summary>
internal static class HostStat
{
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
