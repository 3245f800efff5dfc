using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>Case builders shared by the SSE test fixtures.</summary>
internal static class SseKit
{
    public const int SigSegv = 11;

    /// <summary>Distinct values in every XMM register, so a write to the wrong lane or register shows.</summary>
    public static UInt128[] PatternXmm()
    {
        var x = new UInt128[16];
        for (var i = 0; i < 16; i++)
        {
            x[i] = new UInt128(0x8877_6655_4433_2211UL ^ (0x0101_0101_0101_0101UL * (ulong)(i + 1)), 0xF0E1_D2C3_B4A5_9687UL + (0x1111_0000_1111UL * (ulong)i));
        }

        return x;
    }

    /// <summary>A case with background GPRs (RBX = scratch), patterned XMMs with overrides, and the scratch pattern.</summary>
    public static DiffCase Case(
        string name,
        Action<Assembler> code,
        (int Reg, UInt128 Value)[]? xmm = null,
        uint mxcsr = 0x1F80,
        byte[]? scratch = null,
        ulong flags = 0,
        ulong flagsMask = ArithmeticFlags,
        (Register Reg, ulong Value)[]? gpr = null)
    {
        var g = CaseKit.BackgroundGpr();
        g[(int)Reg.Rbx] = ScratchAddress;
        foreach (var (r, v) in gpr ?? [])
        {
            CaseKit.Put(g, r, v);
        }

        var x = PatternXmm();
        foreach (var (r, v) in xmm ?? [])
        {
            x[r] = v;
        }

        return new DiffCase
        {
            Name = name,
            Code = code,
            Gpr = g,
            Xmm = x,
            Mxcsr = mxcsr,
            Flags = flags,
            FlagsMask = flagsMask,
            Scratch = scratch ?? CaseKit.PatternScratch(0x1000),
        };
    }

    public static Action<Assembler> Emit(params Instruction[] insns) => a =>
    {
        foreach (var i in insns)
        {
            a.AddInstruction(i);
        }
    };

    public static Code CodeOf(string name) => Enum.Parse<Code>(name);

    public static UInt128 X(ulong hi, ulong lo) => new(hi, lo);

    /// <summary>A scratch page with 16-byte values stored from offset 0.</summary>
    public static byte[] ScratchWith(params UInt128[] values)
    {
        var s = CaseKit.PatternScratch(0x1000);
        for (var i = 0; i < values.Length; i++)
        {
            CaseKit.Store(s, 16 * i, 8, (ulong)values[i]);
            CaseKit.Store(s, (16 * i) + 8, 8, (ulong)(values[i] >> 64));
        }

        return s;
    }

    /// <summary>Asserts a case faults with #GP (SIGSEGV natively) at its first instruction.</summary>
    public static void AssertGeneralProtection(DiffCase c)
    {
        var (signal, emulated, offset) = RunFaulting(c);
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(SigSegv), $"{c.Name}: native signal");
            Assert.That(emulated, Is.EqualTo(ExitReason.GeneralProtection), $"{c.Name}: emulated exit");
            Assert.That(offset, Is.EqualTo(0UL), $"{c.Name}: RIP must be the faulting instruction");
        });
    }
}

[TestFixture]
public sealed class SseMoveTests
{
    [Test]
    public void Mxcsr_LoadStore()
    {
        var cases = new List<DiffCase>();
        foreach (var v in new uint[] { 0x1F80, 0x0000, 0xFFFF, 0x1FBF, 0x7F80, 0x9FC0, 0x0040 })
        {
            var s = CaseKit.PatternScratch(0x1000);
            CaseKit.Store(s, 0x20, 4, v);
            cases.Add(SseKit.Case($"ldmxcsr {v:X4}; stmxcsr", a =>
            {
                a.ldmxcsr(__dword_ptr[rbx + 0x20]);
                a.stmxcsr(__dword_ptr[rbx + 0x31]);
            }, scratch: s));
        }

        cases.Add(SseKit.Case("stmxcsr with flags set", a => a.stmxcsr(__dword_ptr[rbx + 0x8]), mxcsr: 0x1FBF));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Ldmxcsr_ReservedBit_IsGeneralProtection()
    {
        var s = CaseKit.PatternScratch(0x1000);
        CaseKit.Store(s, 0, 4, 0x1_1F80);
        SseKit.AssertGeneralProtection(SseKit.Case("ldmxcsr bit 16", a => a.ldmxcsr(__dword_ptr[rbx]), scratch: s));
    }

    [Test]
    public void WholeRegisterMoves_AllForms()
    {
        var cases = new List<DiffCase>();
        foreach (var m in new[] { "Movdqa", "Movdqu", "Movaps", "Movups", "Movapd", "Movupd" })
        {
            cases.Add(SseKit.Case($"{m} xmm3, xmm12", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmm_xmmm128"), Register.XMM3, Register.XMM12))));
            cases.Add(SseKit.Case($"{m} xmm3, xmm12 (store form)", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmmm128_xmm"), Register.XMM3, Register.XMM12))));
            cases.Add(SseKit.Case($"{m} xmm9, [rbx+0x40]", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmm_xmmm128"), Register.XMM9, new MemoryOperand(Register.RBX, 0x40)))));
            cases.Add(SseKit.Case($"{m} [rbx+0x70], xmm15", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmmm128_xmm"), new MemoryOperand(Register.RBX, 0x70), Register.XMM15))));
        }

        foreach (var m in new[] { "Movdqu", "Movups", "Movupd" })
        {
            foreach (var mode in CaseKit.MemoryModes)
            {
                var load = Instruction.Create(SseKit.CodeOf($"{m}_xmm_xmmm128"), Register.XMM0, mode.Operand);
                var store = Instruction.Create(SseKit.CodeOf($"{m}_xmmm128_xmm"), mode.Operand, Register.XMM7);
                var c = SseKit.Case($"{m} load/store {mode}", SseKit.Emit(load, store));
                mode.Apply(c.Gpr);
                cases.Add(c);
            }

            // Crossing into the unmapped page after the scratch page would fault; crossing a 16-byte line must not.
            cases.Add(SseKit.Case($"{m} [rbx+0xFF9]", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmm_xmmm128"), Register.XMM2, new MemoryOperand(Register.RBX, 0xFE9)))));
        }

        cases.Add(SseKit.Case("movntdq", a => a.movntdq(__xmmword_ptr[rbx + 0x100], xmm5)));
        cases.Add(SseKit.Case("movntps", a => a.movntps(__xmmword_ptr[rbx + 0x110], xmm6)));
        cases.Add(SseKit.Case("movntpd", a => a.movntpd(__xmmword_ptr[rbx + 0x120], xmm14)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void AlignedMoves_Misaligned_AreGeneralProtection()
    {
        SseKit.AssertGeneralProtection(SseKit.Case("movdqa load misaligned", a => a.movdqa(xmm0, __xmmword_ptr[rbx + 8])));
        SseKit.AssertGeneralProtection(SseKit.Case("movaps store misaligned", a => a.movaps(__xmmword_ptr[rbx + 4], xmm1)));
        SseKit.AssertGeneralProtection(SseKit.Case("movapd load misaligned", a => a.movapd(xmm0, __xmmword_ptr[rbx + 1])));
        SseKit.AssertGeneralProtection(SseKit.Case("movntdq misaligned", a => a.movntdq(__xmmword_ptr[rbx + 0x18], xmm1)));
        SseKit.AssertGeneralProtection(SseKit.Case("paddb m128 misaligned", a => a.paddb(xmm0, __xmmword_ptr[rbx + 0x18])));
        SseKit.AssertGeneralProtection(SseKit.Case("addps m128 misaligned", a => a.addps(xmm0, __xmmword_ptr[rbx + 0x14])));
        SseKit.AssertGeneralProtection(SseKit.Case("fxsave misaligned", a => a.fxsave(__[rbx + 8])));
    }

    [Test]
    public void PartialMoves()
    {
        AssertSameAsHost([
            SseKit.Case("movq xmm1, xmm2", a => a.movq(xmm1, xmm2)),
            SseKit.Case("movq xmm1, [rbx+8]", a => a.movq(xmm1, __qword_ptr[rbx + 8])),
            SseKit.Case("movq [rbx+3], xmm4", a => a.movq(__qword_ptr[rbx + 3], xmm4)),
            SseKit.Case("movq xmm1, xmm2 (D6 store form)", SseKit.Emit(Instruction.Create(Code.Movq_xmmm64_xmm, Register.XMM1, Register.XMM2))),
            SseKit.Case("movq xmm5, rcx", a => a.movq(xmm5, rcx)),
            SseKit.Case("movq xmm5, [rbx+0x10] (6E)", SseKit.Emit(Instruction.Create(Code.Movq_xmm_rm64, Register.XMM5, new MemoryOperand(Register.RBX, 0x10)))),
            SseKit.Case("movq r11, xmm8", a => a.movq(r11, xmm8)),
            SseKit.Case("movq [rbx+0x20], xmm8 (7E)", SseKit.Emit(Instruction.Create(Code.Movq_rm64_xmm, new MemoryOperand(Register.RBX, 0x20), Register.XMM8))),
            SseKit.Case("movd xmm5, ecx", a => a.movd(xmm5, ecx)),
            SseKit.Case("movd xmm13, [rbx+5]", a => a.movd(xmm13, __dword_ptr[rbx + 5])),
            SseKit.Case("movd r9d, xmm3", a => a.movd(r9d, xmm3)),
            SseKit.Case("movd [rbx+0x30], xmm3", a => a.movd(__dword_ptr[rbx + 0x30], xmm3)),
            SseKit.Case("movss xmm1, xmm2", a => a.movss(xmm1, xmm2)),
            SseKit.Case("movss xmm1, [rbx]", a => a.movss(xmm1, __dword_ptr[rbx])),
            SseKit.Case("movss [rbx+0x41], xmm1", a => a.movss(__dword_ptr[rbx + 0x41], xmm1)),
            SseKit.Case("movss xmm1, xmm2 (11 form)", SseKit.Emit(Instruction.Create(Code.Movss_xmmm32_xmm, Register.XMM1, Register.XMM2))),
            SseKit.Case("movsd xmm1, xmm2", a => a.movsd(xmm1, xmm2)),
            SseKit.Case("movsd xmm1, [rbx+0x18]", a => a.movsd(xmm1, __qword_ptr[rbx + 0x18])),
            SseKit.Case("movsd [rbx+0x49], xmm10", a => a.movsd(__qword_ptr[rbx + 0x49], xmm10)),
            SseKit.Case("movsd xmm1, xmm2 (11 form)", SseKit.Emit(Instruction.Create(Code.Movsd_xmmm64_xmm, Register.XMM1, Register.XMM2))),
            SseKit.Case("movhps xmm1, [rbx+8]", a => a.movhps(xmm1, __qword_ptr[rbx + 8])),
            SseKit.Case("movhps [rbx+0x50], xmm1", a => a.movhps(__qword_ptr[rbx + 0x50], xmm1)),
            SseKit.Case("movlps xmm1, [rbx+8]", a => a.movlps(xmm1, __qword_ptr[rbx + 8])),
            SseKit.Case("movlps [rbx+0x50], xmm1", a => a.movlps(__qword_ptr[rbx + 0x50], xmm1)),
            SseKit.Case("movhpd xmm11, [rbx+0x28]", a => a.movhpd(xmm11, __qword_ptr[rbx + 0x28])),
            SseKit.Case("movhpd [rbx+0x57], xmm11", a => a.movhpd(__qword_ptr[rbx + 0x57], xmm11)),
            SseKit.Case("movlpd xmm11, [rbx+0x28]", a => a.movlpd(xmm11, __qword_ptr[rbx + 0x28])),
            SseKit.Case("movlpd [rbx+0x57], xmm11", a => a.movlpd(__qword_ptr[rbx + 0x57], xmm11)),
            SseKit.Case("movhlps xmm1, xmm7", a => a.movhlps(xmm1, xmm7)),
            SseKit.Case("movlhps xmm1, xmm7", a => a.movlhps(xmm1, xmm7)),
        ]);
    }

    [Test]
    public void SignMasks()
    {
        var cases = new List<DiffCase>();
        var values = new[]
        {
            SseKit.X(0, 0), SseKit.X(ulong.MaxValue, ulong.MaxValue), SseKit.X(0x8000_0000_0000_0000, 0x0000_0000_8000_0000),
            SseKit.X(0x0000_0000_8000_0000, 0x8000_0000_0000_0000), SseKit.X(0x7FFF_FFFF_FFFF_FFFF, 0x8080_8080_0101_0101),
        };
        foreach (var v in values)
        {
            cases.Add(SseKit.Case($"movmskps {v:X}", a => a.movmskps(eax, xmm4), xmm: [(4, v)]));
            cases.Add(SseKit.Case($"movmskps r64 {v:X}", SseKit.Emit(Instruction.Create(Code.Movmskps_r64_xmm, Register.R10, Register.XMM4)), xmm: [(4, v)]));
            cases.Add(SseKit.Case($"movmskpd {v:X}", a => a.movmskpd(r13d, xmm4), xmm: [(4, v)]));
            cases.Add(SseKit.Case($"pmovmskb {v:X}", a => a.pmovmskb(edx, xmm4), xmm: [(4, v)]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Fxsave_Fxrstor()
    {
        // The host's MXCSR_MASK may advertise more bits than ours (AMD: MM); blank that field in both runs.
        // Bytes 416-463 are reserved: AMD leaves them alone, as we do; elsewhere they are put back.
        var pattern = CaseKit.PatternScratch(0x1000);
        var round = SseKit.ScratchWith(0x1F80);
        AssertSameAsHost([
            SseKit.Case("fxsave", a =>
            {
                a.fxsave(__[rbx + 0x200]);
                a.mov(__dword_ptr[rbx + 0x200 + 28], 0);
                RestoreReserved(a, 0x200, pattern);
            }, mxcsr: 0x3FA1),
            SseKit.Case("fxsave64", a =>
            {
                a.fxsave64(__[rbx + 0x400]);
                a.mov(__dword_ptr[rbx + 0x400 + 28], 0);
                RestoreReserved(a, 0x400, pattern);
            }),
            SseKit.Case("fxrstor from a prepared image", a =>
            {
                a.fxsave(__[rbx + 0x200]);
                a.mov(__dword_ptr[rbx + 0x200 + 24], 0x5FC0);
                for (var i = 0; i < 16; i++)
                {
                    a.mov(__qword_ptr[rbx + 0x200 + 160 + (16 * i)], (int)(0x1000 + i));
                }

                a.fxrstor(__[rbx + 0x200]);
                a.mov(__dword_ptr[rbx + 0x200 + 28], 0);
                RestoreReserved(a, 0x200, pattern);
            }),
            SseKit.Case("fxrstor64 round trip", a =>
            {
                a.fxsave64(__[rbx + 0x200]);
                a.pxor(xmm3, xmm3);
                a.ldmxcsr(__dword_ptr[rbx]);
                a.fxrstor64(__[rbx + 0x200]);
                a.mov(__dword_ptr[rbx + 0x200 + 28], 0);
                RestoreReserved(a, 0x200, round);
            }, scratch: round),
        ]);
    }

    /// <summary>
    /// Writes the initial scratch bytes back over the reserved bytes 416-463 of an FXSAVE image
    /// at <paramref name="offset"/>, unless the host is AMD (which never writes them). The SDM
    /// does not say whether FXSAVE writes them.
    /// </summary>
    private static void RestoreReserved(Assembler a, int offset, byte[] scratch)
    {
        if (HostCpu.IsAmd)
        {
            return;
        }

        for (var i = 416; i < 464; i += 4)
        {
            a.mov(__dword_ptr[rbx + offset + i], BitConverter.ToInt32(scratch, offset + i));
        }
    }
}
