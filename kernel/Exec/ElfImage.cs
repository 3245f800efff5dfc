using System.Buffers.Binary;

namespace UserModeOS.Kernel.Exec;

/// <summary>A program header (Elf64_Phdr).</summary>
public readonly record struct ProgramHeader(uint Type, uint Flags, ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize, ulong Align)
{
    public const uint Load = 1, Interp = 3, Phdr = 6, GnuStack = 0x6474E551;
    public const uint Execute = 1, Write = 2, Read = 4;
}

/// <summary>
/// The parts of an x86-64 ELF file the loader needs, validated: anything that is not a
/// 64-bit little-endian x86-64 executable or shared object is rejected with a reason.
/// </summary>
public sealed class ElfImage
{
    public const ushort TypeExec = 2, TypeDyn = 3;
    private const ushort MachineX86_64 = 62;
    private const int HeaderSize = 64, PhdrSize = 56;

    private ElfImage(byte[] bytes, ushort type, ulong entry, ulong phdrOffset, List<ProgramHeader> headers, string? interpreter)
    {
        Bytes = bytes;
        Type = type;
        Entry = entry;
        PhdrOffset = phdrOffset;
        Headers = headers;
        Interpreter = interpreter;
    }

    public byte[] Bytes { get; }
    public ushort Type { get; }
    public ulong Entry { get; }
    public ulong PhdrOffset { get; }
    public IReadOnlyList<ProgramHeader> Headers { get; }

    /// <summary>PT_INTERP: the dynamic loader's path, or null for a static program.</summary>
    public string? Interpreter { get; }

    /// <summary>Parses an ELF file; on failure returns null with a one-line reason.</summary>
    public static ElfImage? Parse(byte[] b, out string? error)
    {
        error = null;
        if (b.Length < 4 || b[0] != 0x7F || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
        {
            error = "not an ELF file";
            return null;
        }

        if (b.Length < HeaderSize)
        {
            error = "truncated ELF header";
            return null;
        }

        if (b[4] != 2)
        {
            error = b[4] == 1 ? "32-bit ELF files are not supported (x86-64 only)" : "invalid ELF class";
            return null;
        }

        if (b[5] != 1)
        {
            error = "big-endian ELF files are not supported";
            return null;
        }

        var type = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(16));
        var machine = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(18));
        if (machine != MachineX86_64)
        {
            error = $"ELF file is for another machine (e_machine {machine}), not x86-64";
            return null;
        }

        if (type is not (TypeExec or TypeDyn))
        {
            error = $"ELF file is not an executable (e_type {type})";
            return null;
        }

        var entry = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(24));
        var phoff = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(32));
        var phentsize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(54));
        var phnum = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(56));
        if (phentsize != PhdrSize || phnum == 0 || phoff > (ulong)b.Length || (ulong)b.Length - phoff < (ulong)phnum * PhdrSize)
        {
            error = "truncated or malformed ELF program headers";
            return null;
        }

        var headers = new List<ProgramHeader>(phnum);
        string? interpreter = null;
        for (var i = 0; i < phnum; i++)
        {
            var p = b.AsSpan((int)phoff + (i * PhdrSize), PhdrSize);
            var h = new ProgramHeader(
                BinaryPrimitives.ReadUInt32LittleEndian(p),
                BinaryPrimitives.ReadUInt32LittleEndian(p[4..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[8..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[16..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[32..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[40..]),
                BinaryPrimitives.ReadUInt64LittleEndian(p[48..]));
            if (h.Type is ProgramHeader.Load or ProgramHeader.Interp &&
                (h.Offset > (ulong)b.Length || (ulong)b.Length - h.Offset < h.FileSize || h.FileSize > h.MemorySize && h.Type == ProgramHeader.Load))
            {
                error = "truncated ELF file (a segment extends past the end of the file)";
                return null;
            }

            if (h.Type == ProgramHeader.Load && (h.VirtualAddress + h.MemorySize < h.VirtualAddress ||
                h.VirtualAddress + h.MemorySize > Cpu.Memory.GuestMemory.UserEnd ||
                (h.VirtualAddress & 0xFFF) != (h.Offset & 0xFFF)))
            {
                error = "malformed ELF segment address";
                return null;
            }

            if (h.Type == ProgramHeader.Interp)
            {
                interpreter = System.Text.Encoding.UTF8.GetString(b, (int)h.Offset, (int)h.FileSize).TrimEnd('\0');
            }

            headers.Add(h);
        }

        if (!headers.Exists(h => h.Type == ProgramHeader.Load))
        {
            error = "ELF file has no loadable segments";
            return null;
        }

        return new ElfImage(b, type, entry, phoff, headers, interpreter);
    }
}
