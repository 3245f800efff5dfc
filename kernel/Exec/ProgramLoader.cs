using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using UserModeOS.Cpu.Memory;
using UserModeOS.Kernel.Memory;

namespace UserModeOS.Kernel.Exec;

/// <summary>What the loader leaves for the new program's first instruction.</summary>
public readonly record struct LoadedProgram(ulong Entry, ulong StackPointer);

/// <summary>
/// Maps an ELF program (and its interpreter, if it names one) into a fresh address space
/// and builds the initial stack the x86-64 psABI describes: argc, argv, envp, auxv.
/// </summary>
public static class ProgramLoader
{
    /// <summary>Load address of position-independent programs (what Linux uses without ASLR).</summary>
    public const ulong PieBase = 0x5555_5555_4000;

    /// <summary>Size reserved for the main thread's stack (RLIMIT_STACK's default).</summary>
    public const ulong StackSize = 8UL << 20;

    private const ulong AtNull = 0, AtPhdr = 3, AtPhent = 4, AtPhnum = 5, AtPagesz = 6, AtBase = 7, AtFlags = 8;
    private const ulong AtEntry = 9, AtUid = 11, AtEuid = 12, AtGid = 13, AtEgid = 14, AtPlatform = 15;
    private const ulong AtHwcap = 16, AtClktck = 17, AtSecure = 23, AtRandom = 25, AtHwcap2 = 26, AtExecfn = 31;
    private const ulong AtMinSigStkSz = 51;

    /// <summary>Maps the segments of <paramref name="image"/> at <paramref name="bias"/>; returns the end of the highest one.</summary>
    public static ulong MapSegments(AddressSpace mm, ElfImage image, ulong bias)
    {
        ulong highest = 0;
        foreach (var h in image.Headers)
        {
            if (h.Type != ProgramHeader.Load || h.MemorySize == 0)
            {
                continue;
            }

            var start = AddressSpace.PageAlignDown(h.VirtualAddress + bias);
            var end = AddressSpace.PageAlignUp(h.VirtualAddress + bias + h.MemorySize);
            var prot = PageProt.None;
            if ((h.Flags & ProgramHeader.Read) != 0)
            {
                prot |= PageProt.Read;
            }

            if ((h.Flags & ProgramHeader.Write) != 0)
            {
                prot |= PageProt.Write;
            }

            if ((h.Flags & ProgramHeader.Execute) != 0)
            {
                prot |= PageProt.Exec;
            }

            // Mapped readable while we fill it; the segment's own protection comes after.
            mm.MapFixed(start, end - start, PageProt.Read | PageProt.Write);
            mm.Memory.TryWriteInitial(h.VirtualAddress + bias, image.Bytes.AsSpan((int)h.Offset, (int)h.FileSize));
            mm.Protect(start, end - start, prot);
            highest = Math.Max(highest, end);
        }

        return highest;
    }

    /// <summary>The lowest and highest address the PT_LOAD segments span, page-aligned.</summary>
    public static (ulong Low, ulong High) Span(ElfImage image)
    {
        ulong low = ulong.MaxValue, high = 0;
        foreach (var h in image.Headers)
        {
            if (h.Type == ProgramHeader.Load)
            {
                low = Math.Min(low, AddressSpace.PageAlignDown(h.VirtualAddress));
                high = Math.Max(high, AddressSpace.PageAlignUp(h.VirtualAddress + h.MemorySize));
            }
        }

        return (low, high);
    }

    /// <summary>Where the program headers are in memory once loaded (AT_PHDR).</summary>
    public static ulong PhdrAddress(ElfImage image, ulong bias)
    {
        foreach (var h in image.Headers)
        {
            if (h.Type == ProgramHeader.Phdr)
            {
                return h.VirtualAddress + bias;
            }
        }

        foreach (var h in image.Headers)
        {
            if (h.Type == ProgramHeader.Load && image.PhdrOffset >= h.Offset && image.PhdrOffset < h.Offset + h.FileSize)
            {
                return h.VirtualAddress + (image.PhdrOffset - h.Offset) + bias;
            }
        }

        return 0;
    }

    /// <summary>Inputs for the initial stack that do not come from the ELF file.</summary>
    public sealed record StackInfo(
        IReadOnlyList<string> Argv,
        IReadOnlyList<string> Envp,
        string ExecFn,
        ulong Phdr,
        ulong PhNum,
        ulong Entry,
        ulong InterpreterBase,
        ulong HwCap,
        ulong HwCap2,
        Credentials Cred);

    /// <summary>Creates the stack VMA below <paramref name="top"/> and writes argc/argv/envp/auxv; returns the initial RSP.</summary>
    public static ulong BuildStack(AddressSpace mm, StackInfo info, ulong top = AddressSpace.StackTop) => BuildStack(mm, info, top, out _);

    /// <summary>As above; <paramref name="auxvBytes"/> is the auxiliary vector as written (what /proc/[pid]/auxv shows).</summary>
    public static ulong BuildStack(AddressSpace mm, StackInfo info, ulong top, out byte[] auxvBytes)
    {
        mm.MapFixed(top - StackSize, StackSize, PageProt.Read | PageProt.Write, name: "[stack]", growsDown: true);

        // Strings first, at the very top, then the random bytes and the platform name.
        var sp = top;
        ulong PushBytes(ReadOnlySpan<byte> bytes)
        {
            sp -= (ulong)bytes.Length;
            mm.Memory.TryWrite(sp, bytes);
            return sp;
        }

        ulong PushString(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s + "\0");
            return PushBytes(bytes);
        }

        var execFn = PushString(info.ExecFn);
        var envPtrs = new ulong[info.Envp.Count];
        for (var i = info.Envp.Count - 1; i >= 0; i--)
        {
            envPtrs[i] = PushString(info.Envp[i]);
        }

        var argPtrs = new ulong[info.Argv.Count];
        for (var i = info.Argv.Count - 1; i >= 0; i--)
        {
            argPtrs[i] = PushString(info.Argv[i]);
        }

        var platform = PushString("x86_64");
        Span<byte> random = stackalloc byte[16];
        RandomNumberGenerator.Fill(random);
        sp &= ~15UL;
        var randomPtr = PushBytes(random);

        var auxv = new List<(ulong, ulong)>
        {
            (AtPhdr, info.Phdr),
            (AtPhent, 56),
            (AtPhnum, info.PhNum),
            (AtPagesz, AddressSpace.PageSize),
            (AtBase, info.InterpreterBase),
            (AtFlags, 0),
            (AtEntry, info.Entry),
            (AtUid, info.Cred.Uid),
            (AtEuid, info.Cred.Euid),
            (AtGid, info.Cred.Gid),
            (AtEgid, info.Cred.Egid),
            (AtPlatform, platform),
            (AtHwcap, info.HwCap),
            (AtClktck, 100),
            // A set-user-ID or set-group-ID program: ld.so then ignores LD_PRELOAD and friends (ld.so(8)).
            (AtSecure, info.Cred.Uid != info.Cred.Euid || info.Cred.Gid != info.Cred.Egid ? 1UL : 0),
            (AtRandom, randomPtr),
            (AtHwcap2, info.HwCap2),
            (AtExecfn, execFn),
            (AtMinSigStkSz, 2048),
            (AtNull, 0),
        };

        // argc + argv + NULL + envp + NULL + auxv pairs; RSP must be 16-byte aligned at argc.
        var words = 1 + argPtrs.Length + 1 + envPtrs.Length + 1 + (auxv.Count * 2);
        sp -= (ulong)words * 8;
        sp &= ~15UL;
        var table = new byte[words * 8];
        var w = 0;
        void Put(ulong v)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan(w * 8), v);
            w++;
        }

        Put((ulong)argPtrs.Length);
        foreach (var p in argPtrs)
        {
            Put(p);
        }

        Put(0);
        foreach (var p in envPtrs)
        {
            Put(p);
        }

        Put(0);
        foreach (var (key, value) in auxv)
        {
            Put(key);
            Put(value);
        }

        mm.Memory.TryWrite(sp, table);
        auxvBytes = table.AsSpan((words - (auxv.Count * 2)) * 8).ToArray();
        return sp;
    }
}
