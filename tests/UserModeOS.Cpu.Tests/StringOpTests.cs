using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Memory;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class StringOpTests
{
    private const ulong Df = CpuState.DF;
    private const ulong WithDf = ArithmeticFlags | CpuState.DF;

    private static readonly (string Name, Action<Assembler> Emit)[] Moves =
    [
        ("movsb", a => a.movsb()), ("movsw", a => a.movsw()), ("movsd", a => a.movsd()), ("movsq", a => a.movsq()),
    ];

    private static readonly (string Name, Action<Assembler> Emit)[] RepMoves =
    [
        ("rep movsb", a => a.rep.movsb()), ("rep movsw", a => a.rep.movsw()), ("rep movsd", a => a.rep.movsd()), ("rep movsq", a => a.rep.movsq()),
    ];

    private static readonly (string Name, Action<Assembler> Emit)[] Stores =
    [
        ("stosb", a => a.stosb()), ("stosw", a => a.stosw()), ("stosd", a => a.stosd()), ("stosq", a => a.stosq()),
        ("rep stosb", a => a.rep.stosb()), ("rep stosw", a => a.rep.stosw()), ("rep stosd", a => a.rep.stosd()), ("rep stosq", a => a.rep.stosq()),
        ("lodsb", a => a.lodsb()), ("lodsw", a => a.lodsw()), ("lodsd", a => a.lodsd()), ("lodsq", a => a.lodsq()),
        ("rep lodsb", a => a.rep.lodsb()), ("rep lodsq", a => a.rep.lodsq()),
    ];

    private static readonly (string Name, Action<Assembler> Emit)[] Compares =
    [
        ("cmpsb", a => a.cmpsb()), ("cmpsw", a => a.cmpsw()), ("cmpsd", a => a.cmpsd()), ("cmpsq", a => a.cmpsq()),
        ("repe cmpsb", a => a.repe.cmpsb()), ("repe cmpsw", a => a.repe.cmpsw()), ("repe cmpsd", a => a.repe.cmpsd()), ("repe cmpsq", a => a.repe.cmpsq()),
        ("repne cmpsb", a => a.repne.cmpsb()), ("repne cmpsq", a => a.repne.cmpsq()),
        ("scasb", a => a.scasb()), ("scasw", a => a.scasw()), ("scasd", a => a.scasd()), ("scasq", a => a.scasq()),
        ("repe scasb", a => a.repe.scasb()), ("repe scasd", a => a.repe.scasd()),
        ("repne scasb", a => a.repne.scasb()), ("repne scasw", a => a.repne.scasw()), ("repne scasq", a => a.repne.scasq()),
    ];

    /// <summary>Runs a string instruction with DF=0/1 and the given counts, source and destination inside the scratch page.</summary>
    private static IEnumerable<DiffCase> Matrix((string Name, Action<Assembler> Emit)[] ops, ulong[] counts, (ulong Src, ulong Dst)[] places, byte[]? scratch = null)
    {
        foreach (var (name, emit) in ops)
        {
            foreach (var df in new[] { 0UL, Df })
            {
                foreach (var count in counts)
                {
                    foreach (var (s0, d0) in places)
                    {
                        // Backwards runs start higher up so they stay inside the page.
                        var (src, dst) = df != 0 ? (s0 + 0x380, d0 + 0x380) : (s0, d0);
                        yield return Cases.Make(
                            $"{name} df={df >> 10} rcx={count} src=+{src:X} dst=+{dst:X}",
                            a =>
                            {
                                emit(a);
                                a.cld();
                            },
                            flags: df | 0x8D5,
                            flagsMask: WithDf,
                            scratch: scratch,
                            regs: [(Reg.Rcx, count), (Reg.Rsi, ScratchAddress + src), (Reg.Rdi, ScratchAddress + dst), (Reg.Rax, 0x1122_3344_5566_7788)]);
                    }
                }
            }
        }
    }

    [Test]
    public void Movs_SingleAndRepeated_BothDirections_MatchHost()
    {
        var places = new (ulong, ulong)[] { (0x100, 0x800), (0x801, 0x103), (0x400, 0x401), (0x401, 0x400), (0x400, 0x404), (0x408, 0x400) };
        AssertSameAsHost([
            .. Matrix(Moves, [1], places),
            .. Matrix(RepMoves, [0, 1, 3, 17, 100], places),
        ]);
    }

    [Test]
    public void RepMovs_LongRunsNearPageEnds_MatchHost()
    {
        // Exactly up to the end of the scratch page, forward and (from the end) backward.
        AssertSameAsHost([
            Cases.Make("rep movsb 0x700 up to page end", a => a.rep.movsb(), regs: [(Reg.Rcx, 0x700), (Reg.Rsi, ScratchAddress), (Reg.Rdi, ScratchAddress + 0x900)]),
            Cases.Make("rep movsq 0xE0 up to page end", a => a.rep.movsq(), regs: [(Reg.Rcx, 0xE0), (Reg.Rsi, ScratchAddress + 8), (Reg.Rdi, ScratchAddress + 0x900)]),
            Cases.Make("rep movsb overlapping forward smear", a => a.rep.movsb(), regs: [(Reg.Rcx, 0x600), (Reg.Rsi, ScratchAddress + 0x10), (Reg.Rdi, ScratchAddress + 0x11)]),
            Cases.Make("rep movsq overlapping forward by 4", a => a.rep.movsq(), regs: [(Reg.Rcx, 0x100), (Reg.Rsi, ScratchAddress + 0x10), (Reg.Rdi, ScratchAddress + 0x14)]),
            Cases.Make("rep movsd overlapping backward", a => a.rep.movsd(), regs: [(Reg.Rcx, 0x100), (Reg.Rsi, ScratchAddress + 0x14), (Reg.Rdi, ScratchAddress + 0x10)]),
            Cases.Make("std rep movsb from the end", a => { a.rep.movsb(); a.cld(); }, flags: Df, regs: [(Reg.Rcx, 0x700), (Reg.Rsi, ScratchAddress + 0xFFF), (Reg.Rdi, ScratchAddress + 0x7FF)]),
            Cases.Make("rep stosb whole page", a => a.rep.stosb(), regs: [(Reg.Rcx, 0x1000), (Reg.Rdi, ScratchAddress)]),
            Cases.Make("rep stosq unaligned", a => a.rep.stosq(), regs: [(Reg.Rcx, 0x1F0), (Reg.Rdi, ScratchAddress + 3)]),
            Cases.Make("rep stosw odd", a => a.rep.stosw(), regs: [(Reg.Rcx, 0x333), (Reg.Rdi, ScratchAddress + 0x101)]),
            Cases.Make("rep movsb short", a => a.rep.movsb(), regs: [(Reg.Rcx, 0x10), (Reg.Rsi, ScratchAddress), (Reg.Rdi, ScratchAddress + 0x200)]),
        ]);
    }

    [Test]
    public void StosLods_SingleAndRepeated_BothDirections_MatchHost()
    {
        AssertSameAsHost([.. Matrix(Stores, [0, 1, 2, 9, 64], [(0x200, 0x600), (0x600, 0x201)])]);
    }

    [Test]
    public void CmpsScas_StopAtMatchOrMismatch_MatchHost()
    {
        // Two equal runs with a difference at byte 0x13 and a 0x00 byte at 0x25 in the second.
        var scratch = Cases.PatternScratch();
        Array.Copy(scratch, 0x100, scratch, 0x800, 0x100);
        scratch[0x813] ^= 0x40;
        scratch[0x825] = 0x88;
        scratch[0x130] = 0x88;
        scratch[0x831] = 0x88;
        var places = new (ulong, ulong)[] { (0x100, 0x800), (0x120, 0x820), (0x800, 0x100) };
        AssertSameAsHost([.. Matrix(Compares, [0, 1, 4, 0x20, 0x40], places, scratch)]);
    }

    [Test]
    public void RepeatedStringOp_FaultingPartWay_LeavesRegistersForRestart()
    {
        // rep movsb from a mapped page into an unmapped one: the fault happens at the page
        // boundary with RCX/RSI/RDI describing the rest; mapping the page and resuming finishes.
        const ulong src = 0x20_0000, dst = 0x30_0F00;
        var code = Cases.Assemble(a => a.rep.movsb());
        var cpu = Cases.RunAlone(code, c =>
        {
            c[Reg.Rsi] = src;
            c[Reg.Rdi] = dst;
            c[Reg.Rcx] = 0x300;
        }, m =>
        {
            var data = new byte[4096];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = (byte)(i * 7);
            }

            m.MapPage(src, PageProt.Read | PageProt.Write, data);
            m.MapPage(dst & ~0xFFFUL, PageProt.Read | PageProt.Write, new byte[4096]);
        });
        Assert.Multiple(() =>
        {
            Assert.That(cpu.Exit, Is.EqualTo(ExitReason.PageFault));
            Assert.That(cpu.FaultAddress, Is.EqualTo(0x30_1000UL));
            Assert.That(cpu.Rip, Is.EqualTo(0x10_0000UL), "RIP stays on the instruction");
            Assert.That(cpu[Reg.Rcx], Is.EqualTo(0x200UL));
            Assert.That(cpu[Reg.Rsi], Is.EqualTo(src + 0x100));
            Assert.That(cpu[Reg.Rdi], Is.EqualTo(0x30_1000UL));
        });

        cpu.Memory.MapPage(0x30_1000, PageProt.Read | PageProt.Write, new byte[4096]);
        cpu.Run();
        var copied = new byte[0x300];
        Assert.That(cpu.Memory.TryRead(dst, copied), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(cpu.Exit, Is.EqualTo(ExitReason.GeneralProtection), "ran on to the hlt");
            Assert.That(cpu[Reg.Rcx], Is.EqualTo(0UL));
            Assert.That(copied, Is.EqualTo(Enumerable.Range(0, 0x300).Select(i => (byte)(i * 7)).ToArray()));
        });
    }

    [Test]
    public void HugeRepStos_YieldsToInterruptsAndResumes()
    {
        // 1.25 MiB is more than one op's work budget, so the instruction restarts itself part-way.
        const ulong dst = 0x40_0000;
        const ulong pages = 320;
        var code = Cases.Assemble(a => a.rep.stosq());
        var cpu = Cases.RunAlone(code, c =>
        {
            c[Reg.Rdi] = dst;
            c[Reg.Rcx] = pages * 512;
            c[Reg.Rax] = 0xDEAD_BEEF_F00D_CAFE;
        }, m =>
        {
            for (var p = 0UL; p < pages; p++)
            {
                m.MapPage(dst + (p * 4096), PageProt.Read | PageProt.Write, new byte[4096]);
            }
        });
        var last = new byte[8];
        Assert.That(cpu.Memory.TryRead(dst + (pages * 4096) - 8, last), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(cpu.Exit, Is.EqualTo(ExitReason.GeneralProtection));
            Assert.That(cpu[Reg.Rcx], Is.EqualTo(0UL));
            Assert.That(cpu[Reg.Rdi], Is.EqualTo(dst + (pages * 4096)));
            Assert.That(BitConverter.ToUInt64(last), Is.EqualTo(0xDEAD_BEEF_F00D_CAFE));
        });
    }

    [Test]
    public void AddressSizeOverride_IsNotSupported_RaisesInvalidOpcode()
    {
        var cpu = Cases.RunAlone([0x67, 0xF3, 0xA4]);
        Assert.That(cpu.Exit, Is.EqualTo(ExitReason.InvalidOpcode));
    }
}
