using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>Case builders shared by the instruction-group tests (moves, conditionals, strings, atomics, ...).</summary>
internal static class Cases
{
    /// <summary>Distinct, upper-bits-set values for RAX..R15 (RBX points at the scratch page).</summary>
    public static ulong[] PatternGpr()
    {
        var gpr = new ulong[16];
        for (var i = 0; i < 16; i++)
        {
            gpr[i] = 0xF1E2_D3C4_B5A6_9788UL ^ (0x0101_0101_0101_0101UL * (ulong)(i + 1));
        }

        gpr[(int)Reg.Rbx] = ScratchAddress;
        return gpr;
    }

    /// <summary>A non-repeating scratch pattern of the given length.</summary>
    public static byte[] PatternScratch(int length = 4096)
    {
        var b = new byte[length];
        for (var i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 37) + (i >> 8) + 11);
        }

        return b;
    }

    /// <summary>A case with patterned registers and scratch, with some registers overridden.</summary>
    public static DiffCase Make(
        string name,
        Action<Assembler> code,
        ulong flags = 0,
        byte[]? scratch = null,
        ulong flagsMask = Differential.Differential.ArithmeticFlags,
        params (Reg Reg, ulong Value)[] regs)
    {
        var gpr = PatternGpr();
        foreach (var (r, v) in regs)
        {
            gpr[(int)r] = v;
        }

        return new DiffCase
        {
            Name = name,
            Code = code,
            Gpr = gpr,
            Flags = flags,
            Scratch = scratch ?? PatternScratch(),
            FlagsMask = flagsMask,
        };
    }

    /// <summary>Scratch bytes holding little-endian values at 8-byte strides.</summary>
    public static byte[] ScratchWith(params ulong[] values)
    {
        var b = PatternScratch();
        for (var i = 0; i < values.Length; i++)
        {
            BitConverter.GetBytes(values[i]).CopyTo(b, i * 8);
        }

        return b;
    }

    public static AssemblerMemoryOperand Scratch(int offset) => __[(ulong)((long)ScratchAddress + offset)];

    public static readonly ulong[] Edge8 = [0, 1, 0x7F, 0x80, 0xFF, 0x5A];
    public static readonly ulong[] Edge16 = [0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x80FF];
    public static readonly ulong[] Edge32 = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1234_8765];
    public static readonly ulong[] Edge64 = [0, 1, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, ulong.MaxValue, 0x8000_0000_FFFF_FFFF];

    /// <summary>Runs one case on the executor alone (no host comparison) and returns the CPU after it.</summary>
    public static CpuState RunAlone(byte[] code, Action<CpuState>? setup = null, Action<Memory.GuestMemory>? map = null)
    {
        const ulong codeAt = 0x10_0000;
        var memory = new Memory.GuestMemory();
        var page = new byte[4096];
        code.CopyTo(page, 0);
        page[code.Length] = 0xF4; // hlt ends the run with #GP
        memory.MapPage(codeAt, Memory.PageProt.Read | Memory.PageProt.Exec, page);
        map?.Invoke(memory);
        var cpu = new CpuState(memory) { Rip = codeAt };
        setup?.Invoke(cpu);
        cpu.Run();
        return cpu;
    }

    /// <summary>Assembles instructions at an arbitrary address into bytes.</summary>
    public static byte[] Assemble(Action<Assembler> code, ulong at = 0x10_0000)
    {
        var a = new Assembler(64);
        code(a);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), at);
        return stream.ToArray();
    }
}

[TestFixture]
public sealed class MoveTests
{
    [Test]
    public void Movzx_AllFormsAndEdgeValues_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var v in Cases.Edge16)
        {
            var regs = new[] { (Reg.Rcx, 0xAAAA_AAAA_AAAA_0000UL | v), (Reg.Rdx, 0xBBBB_BBBB_BBBB_BB00UL | (v & 0xFF)) };
            cases.Add(Cases.Make($"movzx r16,r8 {v:X}", a => a.movzx(ax, dl), regs: regs));
            cases.Add(Cases.Make($"movzx r32,r8 {v:X}", a => a.movzx(eax, dl), regs: regs));
            cases.Add(Cases.Make($"movzx r64,r8 {v:X}", a => a.movzx(rax, dl), regs: regs));
            cases.Add(Cases.Make($"movzx r64,ah-class {v:X}", a => a.movzx(r8, cl), regs: regs));
            cases.Add(Cases.Make($"movzx r32,dh {v:X}", a => a.movzx(esi, dh), regs: regs));
            cases.Add(Cases.Make($"movzx r16,r16 {v:X}", a => a.movzx(ax, cx), regs: regs));
            cases.Add(Cases.Make($"movzx r32,r16 {v:X}", a => a.movzx(eax, cx), regs: regs));
            cases.Add(Cases.Make($"movzx r64,r16 {v:X}", a => a.movzx(r15, cx), regs: regs));
            var scratch = Cases.ScratchWith(v);
            cases.Add(Cases.Make($"movzx r16,m8 {v:X}", a => a.movzx(ax, __byte_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movzx r32,m8 {v:X}", a => a.movzx(eax, __byte_ptr[rbx + 1]), scratch: scratch));
            cases.Add(Cases.Make($"movzx r64,m8 {v:X}", a => a.movzx(rax, __byte_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movzx r16,m16 {v:X}", a => a.movzx(ax, __word_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movzx r32,m16 {v:X}", a => a.movzx(r9d, __word_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movzx r64,m16 {v:X}", a => a.movzx(rax, __word_ptr[rbx]), scratch: scratch));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Movsx_Movsxd_AllFormsAndEdgeValues_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var v in Cases.Edge32)
        {
            var regs = new[] { (Reg.Rcx, 0xAAAA_AAAA_0000_0000UL | v), (Reg.Rdx, 0xBBBB_BBBB_BBBB_BB00UL | (v & 0xFF)) };
            cases.Add(Cases.Make($"movsx r16,r8 {v:X}", a => a.movsx(ax, dl), regs: regs));
            cases.Add(Cases.Make($"movsx r32,r8 {v:X}", a => a.movsx(eax, dl), regs: regs));
            cases.Add(Cases.Make($"movsx r64,r8 {v:X}", a => a.movsx(rax, cl), regs: regs));
            cases.Add(Cases.Make($"movsx r32,ch {v:X}", a => a.movsx(eax, ch), regs: regs));
            cases.Add(Cases.Make($"movsx r16,r16 {v:X}", a => a.movsx(ax, cx), regs: regs));
            cases.Add(Cases.Make($"movsx r32,r16 {v:X}", a => a.movsx(eax, cx), regs: regs));
            cases.Add(Cases.Make($"movsx r64,r16 {v:X}", a => a.movsx(r12, cx), regs: regs));
            cases.Add(Cases.Make($"movsxd r64,r32 {v:X}", a => a.movsxd(rax, ecx), regs: regs));
            cases.Add(Cases.Make($"movsxd r64,r32 same {v:X}", a => a.movsxd(rcx, ecx), regs: regs));
            var scratch = Cases.ScratchWith(v);
            cases.Add(Cases.Make($"movsx r16,m8 {v:X}", a => a.movsx(ax, __byte_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movsx r32,m8 {v:X}", a => a.movsx(eax, __byte_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movsx r64,m8 {v:X}", a => a.movsx(rax, __byte_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movsx r16,m16 {v:X}", a => a.movsx(ax, __word_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movsx r32,m16 {v:X}", a => a.movsx(eax, __word_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movsx r64,m16 {v:X}", a => a.movsx(rax, __word_ptr[rbx]), scratch: scratch));
            cases.Add(Cases.Make($"movsxd r64,m32 {v:X}", a => a.movsxd(rax, __dword_ptr[rbx]), scratch: scratch));
        }

        // MOVSXD with 32- and 16-bit destinations (REX.W clear) behaves as a plain move.
        cases.Add(Cases.Make("movsxd r32,r32", a => a.db(0x63, 0xC1), regs: (Reg.Rcx, 0x1_8000_0001)));
        cases.Add(Cases.Make("movsxd r16,r16", a => a.db(0x66, 0x63, 0xC1), regs: (Reg.Rcx, 0x1_8000_8001)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Xchg_RegisterAndMemoryForms_MatchHost()
    {
        var scratch = Cases.ScratchWith(0x1122_3344_5566_7788);
        AssertSameAsHost([
            Cases.Make("xchg al,cl", a => a.xchg(al, cl)),
            Cases.Make("xchg ah,dl", a => a.xchg(ah, dl)),
            Cases.Make("xchg ah,ah", a => a.xchg(ah, ah)),
            Cases.Make("xchg ax,cx", a => a.xchg(ax, cx)),
            Cases.Make("xchg ecx,edx", a => a.xchg(ecx, edx)),
            Cases.Make("xchg eax,eax (87 c0 zero-extends)", a => a.db(0x87, 0xC0)),
            Cases.Make("xchg r8d,eax (41 90)", a => a.db(0x41, 0x90)),
            Cases.Make("xchg rax,r9 (49 91)", a => a.db(0x49, 0x91)),
            Cases.Make("xchg ax,dx (66 92)", a => a.db(0x66, 0x92)),
            Cases.Make("xchg rsi,rdi", a => a.xchg(rsi, rdi)),
            Cases.Make("xchg [rbx],cl", a => a.xchg(__byte_ptr[rbx + 3], cl), scratch: scratch),
            Cases.Make("xchg [rbx],cx", a => a.xchg(__word_ptr[rbx + 1], cx), scratch: scratch),
            Cases.Make("xchg [rbx],ecx", a => a.xchg(__dword_ptr[rbx], ecx), scratch: scratch),
            Cases.Make("xchg [rbx],rcx", a => a.xchg(__qword_ptr[rbx], rcx), scratch: scratch),
            Cases.Make("xchg [rbx+0xFFC] unaligned", a => a.xchg(__qword_ptr[rbx + 0xFF5], r10), scratch: scratch),
            Cases.Make("lock xchg [rbx],rdx", a => a.@lock.xchg(__qword_ptr[rbx + 8], rdx), scratch: scratch),
        ]);
    }

    [Test]
    public void AccumulatorSignExtensions_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var v in new ulong[] { 0x7F, 0x80, 0x7FFF, 0x8000, 0x7FFF_FFFF, 0x8000_0000, 0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF })
        {
            var rax = 0x5A5A_5A5A_0000_0000UL | v;
            if (v > 0xFFFF_FFFF)
            {
                rax = v;
            }

            cases.Add(Cases.Make($"cbw {v:X}", a => a.cbw(), regs: (Reg.Rax, rax)));
            cases.Add(Cases.Make($"cwde {v:X}", a => a.cwde(), regs: (Reg.Rax, rax)));
            cases.Add(Cases.Make($"cdqe {v:X}", a => a.cdqe(), regs: (Reg.Rax, rax)));
            cases.Add(Cases.Make($"cwd {v:X}", a => a.cwd(), regs: (Reg.Rax, rax)));
            cases.Add(Cases.Make($"cdq {v:X}", a => a.cdq(), regs: (Reg.Rax, rax)));
            cases.Add(Cases.Make($"cqo {v:X}", a => a.cqo(), regs: (Reg.Rax, rax)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Movbe_LoadsAndStores_MatchHost()
    {
        var scratch = Cases.ScratchWith(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210);
        AssertSameAsHost([
            Cases.Make("movbe ax,[rbx]", a => a.movbe(ax, __word_ptr[rbx]), scratch: scratch),
            Cases.Make("movbe ecx,[rbx+1]", a => a.movbe(ecx, __dword_ptr[rbx + 1]), scratch: scratch),
            Cases.Make("movbe r9,[rbx+8]", a => a.movbe(r9, __qword_ptr[rbx + 8]), scratch: scratch),
            Cases.Make("movbe [rbx],dx", a => a.movbe(__word_ptr[rbx], dx), scratch: scratch),
            Cases.Make("movbe [rbx+3],esi", a => a.movbe(__dword_ptr[rbx + 3], esi), scratch: scratch),
            Cases.Make("movbe [rbx+16],r14", a => a.movbe(__qword_ptr[rbx + 16], r14), scratch: scratch),
        ]);
    }

    [Test]
    public void Movnti_StoresLikeMov_MatchesHost()
    {
        AssertSameAsHost([
            Cases.Make("movnti [rbx],ecx", a => a.movnti(__dword_ptr[rbx + 4], ecx)),
            Cases.Make("movnti [rbx],rcx", a => a.movnti(__qword_ptr[rbx + 64], r11)),
        ]);
    }
}
