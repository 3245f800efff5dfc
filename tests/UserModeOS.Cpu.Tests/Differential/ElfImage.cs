using System.Buffers.Binary;
using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu.Tests.Differential;

/// <summary>One PT_LOAD segment of a static executable: file bytes followed by zeroes up to its memory size.</summary>
internal sealed record ElfSegment(ulong Address, byte[] Contents, ulong MemorySize, PageProt Prot);

/// <summary>
/// The smallest static x86-64 executable the Linux loader accepts (ET_EXEC, PT_LOAD segments,
/// no sections), and a loader that maps the same bytes into a <see cref="GuestMemory"/>.
/// </summary>
internal static class ElfImage
{
    private const int HeaderSize = 64;
    private const int PhdrSize = 56;
    private const uint PtLoad = 1;
    private const uint PtGnuStack = 0x6474E551;
    private const ulong Page = 4096;

    public static byte[] Write(ulong entry, IReadOnlyList<ElfSegment> segments)
    {
        var phnum = segments.Count + 1;
        var offsets = new ulong[segments.Count];
        var size = Align((ulong)(HeaderSize + (PhdrSize * phnum)));
        for (var i = 0; i < segments.Count; i++)
        {
            // The kernel maps file pages, so a segment's file offset and address agree modulo the page size.
            offsets[i] = size + (segments[i].Address % Page);
            size = Align(offsets[i] + (ulong)segments[i].Contents.Length);
        }

        var file = new byte[size];
        var h = file.AsSpan();
        h[0] = 0x7F;
        h[1] = (byte)'E';
        h[2] = (byte)'L';
        h[3] = (byte)'F';
        h[4] = 2; // ELFCLASS64
        h[5] = 1; // little-endian
        h[6] = 1; // EV_CURRENT
        BinaryPrimitives.WriteUInt16LittleEndian(h[16..], 2); // ET_EXEC
        BinaryPrimitives.WriteUInt16LittleEndian(h[18..], 62); // EM_X86_64
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], 1);
        BinaryPrimitives.WriteUInt64LittleEndian(h[24..], entry);
        BinaryPrimitives.WriteUInt64LittleEndian(h[32..], HeaderSize); // e_phoff
        BinaryPrimitives.WriteUInt16LittleEndian(h[52..], HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[54..], PhdrSize);
        BinaryPrimitives.WriteUInt16LittleEndian(h[56..], (ushort)phnum);

        for (var i = 0; i < segments.Count; i++)
        {
            var s = segments[i];
            var flags = ((s.Prot & PageProt.Read) != 0 ? 4u : 0) | ((s.Prot & PageProt.Write) != 0 ? 2u : 0) |
                ((s.Prot & PageProt.Exec) != 0 ? 1u : 0);
            WritePhdr(h[(HeaderSize + (PhdrSize * i))..], PtLoad, flags, offsets[i], s.Address, (ulong)s.Contents.Length, s.MemorySize);
            s.Contents.CopyTo(h[(int)offsets[i]..]);
        }

        // A non-executable stack, as every toolchain marks it.
        WritePhdr(h[(HeaderSize + (PhdrSize * segments.Count))..], PtGnuStack, 6, 0, 0, 0, 0);
        return file;
    }

    private static void WritePhdr(Span<byte> p, uint type, uint flags, ulong offset, ulong address, ulong fileSize, ulong memorySize)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(p, type);
        BinaryPrimitives.WriteUInt32LittleEndian(p[4..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(p[8..], offset);
        BinaryPrimitives.WriteUInt64LittleEndian(p[16..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(p[24..], address);
        BinaryPrimitives.WriteUInt64LittleEndian(p[32..], fileSize);
        BinaryPrimitives.WriteUInt64LittleEndian(p[40..], memorySize);
        BinaryPrimitives.WriteUInt64LittleEndian(p[48..], type == PtLoad ? Page : 16);
    }

    /// <summary>
    /// Maps the PT_LOAD segments of <paramref name="file"/>: pages holding file bytes now, the
    /// zero-filled rest on first touch (the test programs have megabytes of per-case stacks).
    /// </summary>
    public static ulong Load(byte[] file, GuestMemory memory)
    {
        var f = file.AsSpan();
        var entry = BinaryPrimitives.ReadUInt64LittleEndian(f[24..]);
        var phoff = (int)BinaryPrimitives.ReadUInt64LittleEndian(f[32..]);
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(f[56..]);
        var lazy = new LazyZeroPages();
        for (var i = 0; i < phnum; i++)
        {
            var p = f[(phoff + (PhdrSize * i))..];
            if (BinaryPrimitives.ReadUInt32LittleEndian(p) != PtLoad)
            {
                continue;
            }

            var flags = BinaryPrimitives.ReadUInt32LittleEndian(p[4..]);
            var offset = BinaryPrimitives.ReadUInt64LittleEndian(p[8..]);
            var address = BinaryPrimitives.ReadUInt64LittleEndian(p[16..]);
            var fileSize = BinaryPrimitives.ReadUInt64LittleEndian(p[32..]);
            var memorySize = BinaryPrimitives.ReadUInt64LittleEndian(p[40..]);
            var prot = ((flags & 4) != 0 ? PageProt.Read : 0) | ((flags & 2) != 0 ? PageProt.Write : 0) |
                ((flags & 1) != 0 ? PageProt.Exec : 0);

            var page = address & GuestMemory.PageMask;
            var fileEnd = address + fileSize;
            for (; page < fileEnd; page += Page)
            {
                var contents = new byte[Page];
                var from = Math.Max(page, address);
                var to = Math.Min(page + Page, fileEnd);
                f.Slice((int)(offset + (from - address)), (int)(to - from)).CopyTo(contents.AsSpan((int)(from - page)));
                memory.MapPage(page, prot, contents);
            }

            if (page < address + memorySize)
            {
                lazy.Add(page, address + memorySize, prot);
            }
        }

        memory.FaultHandler = lazy;
        return entry;
    }

    private static ulong Align(ulong n) => (n + Page - 1) & ~(Page - 1);

    /// <summary>Populates zero pages of a segment's bss when they are first touched.</summary>
    private sealed class LazyZeroPages : IPageFaultHandler
    {
        private readonly List<(ulong Start, ulong End, PageProt Prot)> _ranges = [];

        public void Add(ulong start, ulong end, PageProt prot) => _ranges.Add((start, end, prot));

        public bool HandleFault(GuestMemory memory, ulong address, AccessKind access)
        {
            if (memory.IsMapped(address))
            {
                return false;
            }

            foreach (var (start, end, prot) in _ranges)
            {
                if (address >= start && address < end)
                {
                    memory.PopulatePage(address, prot);
                    return true;
                }
            }

            return false;
        }
    }
}
