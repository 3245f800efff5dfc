using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class Sse41Tests
{
    private static readonly string[] BinaryOps =
    [
        "Pminsb", "Pminsd", "Pminuw", "Pminud", "Pmaxsb", "Pmaxsd", "Pmaxuw", "Pmaxud",
        "Pmulld", "Pmuldq", "Pcmpeqq", "Packusdw", "Phminposuw",
    ];

    private static readonly string[] Extensions =
    [
        "Pmovsxbw", "Pmovsxbd", "Pmovsxbq", "Pmovsxwd", "Pmovsxwq", "Pmovsxdq",
        "Pmovzxbw", "Pmovzxbd", "Pmovzxbq", "Pmovzxwd", "Pmovzxwq", "Pmovzxdq",
    ];

    /// <summary>Lane edge values: the signed and unsigned limits at every width, equal quadwords, mixtures.</summary>
    private static readonly UInt128[] Vectors =
    [
        SseKit.X(0, 0),
        SseKit.X(ulong.MaxValue, ulong.MaxValue),
        SseKit.X(0x7F7F_7F7F_7F7F_7F7F, 0x8080_8080_8080_8080),
        SseKit.X(0x7FFF_8000_7FFF_8000, 0x8000_7FFF_FFFF_0001),
        SseKit.X(0x8000_0000_7FFF_FFFF, 0x7FFF_FFFF_8000_0000),
        SseKit.X(0x0000_FFFF_0001_0000, 0xFFFF_0000_0001_FFFF),
        SseKit.X(0x00FF_00FF_FF00_FF00, 0x0102_0304_FEFD_FCFB),
        SseKit.X(0x0001_0001_0001_0001, 0x0001_0001_0001_0001),
        SseKit.X(0x1234_5678_9ABC_DEF0, 0x0FED_CBA9_8765_4321),
        SseKit.X(0x1234_5678_9ABC_DEF0, 0x0000_0000_0000_0011),
        SseKit.X(0xFFFF_0003_FFFF_0007, 0x0003_FFFF_0003_FFFF),
        SseKit.X(0x8000_0000_8000_0000, 0xFFFF_FFFF_0000_0001),
    ];

    [Test]
    public void BinaryOps_RegisterAndMemory([ValueSource(nameof(BinaryOps))] string op)
    {
        var code = SseKit.CodeOf($"{op}_xmm_xmmm128");
        var rng = new Random(41);
        var vectors = Vectors.Concat(Enumerable.Range(0, 6).Select(_ => new UInt128((ulong)rng.NextInt64(), (ulong)rng.NextInt64()))).ToList();
        var cases = new List<DiffCase>();
        foreach (var a in vectors)
        {
            foreach (var b in vectors)
            {
                cases.Add(SseKit.Case($"{op} {a:X32}, {b:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM2, Register.XMM11)), xmm: [(2, a), (11, b)]));
            }
        }

        cases.Add(SseKit.Case($"{op} xmm6, xmm6", SseKit.Emit(Instruction.Create(code, Register.XMM6, Register.XMM6))));
        cases.Add(SseKit.Case($"{op} xmm9, [rbx+0x30]", SseKit.Emit(Instruction.Create(code, Register.XMM9, new MemoryOperand(Register.RBX, 0x30)))));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Phminposuw_Ties()
    {
        var cases = new List<DiffCase>();
        foreach (var v in new[]
        {
            SseKit.X(0x0005_0005_0005_0005, 0x0005_0005_0005_0005),
            SseKit.X(0x0000_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF),
            SseKit.X(0x0001_0002_0001_0003, 0x0004_0001_0009_0008),
            SseKit.X(ulong.MaxValue, ulong.MaxValue),
            SseKit.X(0x8000_7FFF_8000_7FFF, 0x8001_8000_7FFF_8000),
        })
        {
            cases.Add(SseKit.Case($"phminposuw {v:X32}", a => a.phminposuw(xmm1, xmm2), xmm: [(2, v)]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Ptest_Flags([Values(0UL, 0x8D5UL)] ulong flags)
    {
        var cases = new List<DiffCase>();
        foreach (var a in Vectors)
        {
            foreach (var b in Vectors)
            {
                cases.Add(SseKit.Case($"ptest {a:X32}, {b:X32}", a1 => a1.ptest(xmm3, xmm4), xmm: [(3, a), (4, b)], flags: flags));
            }
        }

        cases.Add(SseKit.Case("ptest xmm3, [rbx+0x10]", a => a.ptest(xmm3, __xmmword_ptr[rbx + 0x10]), flags: flags));
        cases.Add(SseKit.Case("ptest then setcc/jcc-consumers", a =>
        {
            a.ptest(xmm3, xmm4);
            a.setz(al);
            a.setc(cl);
            a.seta(dl);
        }, xmm: [(3, SseKit.X(0, 0xF0)), (4, SseKit.X(0, 0x0F))], flags: flags));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Extensions_AllForms([ValueSource(nameof(Extensions))] string op)
    {
        var size = op[^2..] switch { "bw" or "wd" or "dq" => 8, "bd" or "wq" => 4, _ => 2 };
        var code = SseKit.CodeOf($"{op}_xmm_xmmm{size * 8}");
        var cases = new List<DiffCase>();
        foreach (var v in Vectors)
        {
            cases.Add(SseKit.Case($"{op} {v:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM1, Register.XMM8)), xmm: [(8, v)]));
        }

        cases.Add(SseKit.Case($"{op} xmm8, xmm8", SseKit.Emit(Instruction.Create(code, Register.XMM8, Register.XMM8))));

        // The narrow memory operands need no alignment; the bytes past them must not be read into the result.
        foreach (var mode in CaseKit.MemoryModes)
        {
            var c = SseKit.Case($"{op} xmm12, {mode}", SseKit.Emit(Instruction.Create(code, Register.XMM12, mode.Operand)));
            mode.Apply(c.Gpr);
            cases.Add(c);
        }

        cases.Add(SseKit.Case($"{op} at page end", SseKit.Emit(Instruction.Create(code, Register.XMM12, new MemoryOperand(Register.RBX, 0x1000 - size)))));
        AssertSameAsHost(cases);
    }

    /// <summary>Values where every rounding direction differs: halves, just-below-halves, the integer limits of the formats, denormals, NaNs, infinities.</summary>
    private static readonly double[] RoundValues =
    [
        0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0.49999997, 0.3, -0.3, 0.7, -0.7, 1.0, -1.0, 3.0, 123.456, -987.25,
        8388607.5, -8388607.5, 8388608.0, 16777215.0, 4503599627370495.5, -4503599627370495.5, 4503599627370496.0, 1e300, -1e-300,
    ];

    private static List<UInt128> RoundVectors(bool dbl)
    {
        var values = FpKit.Edges(dbl).Concat(RoundValues.Select(d => dbl ? BitConverter.DoubleToUInt64Bits(d) : BitConverter.SingleToUInt32Bits((float)d)));
        var rng = new Random(7);
        values = values.Concat(Enumerable.Range(0, 16).Select(_ => FpKit.RandomFloat(rng, dbl)));
        return FpKit.Pack(values, dbl);
    }

    [Test]
    public void Round_AllImmediates([Values("Roundps", "Roundpd", "Roundss", "Roundsd")] string op, [ValueSource(typeof(FpKit), nameof(FpKit.Modes))] uint mxcsr)
    {
        var dbl = op.EndsWith('d');
        var code = SseKit.CodeOf(op switch
        {
            "Roundss" => "Roundss_xmm_xmmm32_imm8",
            "Roundsd" => "Roundsd_xmm_xmmm64_imm8",
            _ => $"{op}_xmm_xmmm128_imm8",
        });
        var scalar = op[^2] == 's';
        var vectors = RoundVectors(dbl);
        var cases = new List<DiffCase>();
        foreach (var imm in Enumerable.Range(0, 16).Concat([0xF0, 0xFB]))
        {
            foreach (var v in vectors)
            {
                cases.Add(SseKit.Case($"{op} imm={imm:X2} mxcsr={mxcsr:X4} {v:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM3, Register.XMM7, imm)), xmm: [(7, v)], mxcsr: mxcsr));
                if (scalar)
                {
                    // Every lane of the source in the low lane in turn.
                    for (var lane = 1; lane < (dbl ? 2 : 4); lane++)
                    {
                        var shifted = v >> (lane * (dbl ? 64 : 32));
                        cases.Add(SseKit.Case($"{op} imm={imm:X2} mxcsr={mxcsr:X4} {shifted:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM3, Register.XMM7, imm)), xmm: [(7, shifted)], mxcsr: mxcsr));
                    }
                }
            }
        }

        cases.Add(SseKit.Case($"{op} xmm3, [rbx+0x20], 4", SseKit.Emit(Instruction.Create(code, Register.XMM3, new MemoryOperand(Register.RBX, 0x20), 4)), mxcsr: mxcsr, scratch: SseKit.ScratchWith(0, 0, vectors[9])));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Blends_AllImmediates()
    {
        var d = SseKit.X(0x1F1E_1D1C_1B1A_1918, 0x1716_1514_1312_1110);
        var s = SseKit.X(0x0F0E_0D0C_0B0A_0908, 0x0706_0504_0302_0100);
        var cases = new List<DiffCase>();
        for (var imm = 0; imm < 256; imm++)
        {
            var i = imm;
            cases.Add(SseKit.Case($"pblendw {i:X2}", a => a.pblendw(xmm3, xmm4, (byte)i), xmm: [(3, d), (4, s)]));
            if (i < 16 || i % 37 == 0)
            {
                cases.Add(SseKit.Case($"blendps {i:X2}", a => a.blendps(xmm3, xmm4, (byte)i), xmm: [(3, d), (4, s)]));
                cases.Add(SseKit.Case($"blendpd {i:X2}", a => a.blendpd(xmm3, xmm4, (byte)i), xmm: [(3, d), (4, s)]));
            }
        }

        cases.Add(SseKit.Case("pblendw mem", a => a.pblendw(xmm3, __xmmword_ptr[rbx + 0x30], 0x5A)));
        cases.Add(SseKit.Case("blendps mem", a => a.blendps(xmm3, __xmmword_ptr[rbx + 0x30], 0x6)));
        cases.Add(SseKit.Case("blendpd mem", a => a.blendpd(xmm3, __xmmword_ptr[rbx + 0x30], 0x2)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void VariableBlends_UseXmm0()
    {
        var d = SseKit.X(0x1F1E_1D1C_1B1A_1918, 0x1716_1514_1312_1110);
        var s = SseKit.X(0x0F0E_0D0C_0B0A_0908, 0x0706_0504_0302_0100);
        var masks = new[]
        {
            SseKit.X(0, 0), SseKit.X(ulong.MaxValue, ulong.MaxValue), SseKit.X(0x8000_0000_0000_0000, 0x0000_0000_8000_0000),
            SseKit.X(0x7FFF_FFFF_FFFF_FFFF, 0x8080_8080_7F7F_7F7F), SseKit.X(0x0080_8000_0080_0080, 0x8000_0000_0000_0080),
            SseKit.X(0x8123_4567_89AB_CDEF, 0xF00F_0FF0_55AA_AA55),
        };
        var cases = new List<DiffCase>();
        foreach (var m in masks)
        {
            cases.Add(SseKit.Case($"pblendvb {m:X32}", a => a.pblendvb(xmm3, xmm4), xmm: [(0, m), (3, d), (4, s)]));
            cases.Add(SseKit.Case($"blendvps {m:X32}", a => a.blendvps(xmm3, xmm4), xmm: [(0, m), (3, d), (4, s)]));
            cases.Add(SseKit.Case($"blendvpd {m:X32}", a => a.blendvpd(xmm3, xmm4), xmm: [(0, m), (3, d), (4, s)]));
            cases.Add(SseKit.Case($"pblendvb xmm0 dst {m:X32}", a => a.pblendvb(xmm0, xmm4), xmm: [(0, m), (4, s)]));
            cases.Add(SseKit.Case($"blendvps xmm0 src {m:X32}", a => a.blendvps(xmm3, xmm0), xmm: [(0, m), (3, d)]));
            cases.Add(SseKit.Case($"pblendvb mem {m:X32}", a => a.pblendvb(xmm3, __xmmword_ptr[rbx + 0x50]), xmm: [(0, m), (3, d)]));
            cases.Add(SseKit.Case($"blendvps mem {m:X32}", a => a.blendvps(xmm3, __xmmword_ptr[rbx + 0x50]), xmm: [(0, m), (3, d)]));
            cases.Add(SseKit.Case($"blendvpd mem {m:X32}", a => a.blendvpd(xmm3, __xmmword_ptr[rbx + 0x50]), xmm: [(0, m), (3, d)]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Insertps_AllImmediates()
    {
        var d = SseKit.X(0x4444_4444_3333_3333, 0x2222_2222_1111_1111);
        var s = SseKit.X(0xDDDD_DDDD_CCCC_CCCC, 0xBBBB_BBBB_AAAA_AAAA);
        var cases = new List<DiffCase>();
        for (var imm = 0; imm < 256; imm++)
        {
            var i = imm;
            cases.Add(SseKit.Case($"insertps {i:X2}", a => a.insertps(xmm3, xmm4, (byte)i), xmm: [(3, d), (4, s)]));
            if (i % 5 == 0)
            {
                cases.Add(SseKit.Case($"insertps mem {i:X2}", a => a.insertps(xmm3, __dword_ptr[rbx + 0x13], (byte)i), xmm: [(3, d)]));
            }
        }

        cases.Add(SseKit.Case("insertps self", a => a.insertps(xmm3, xmm3, 0x9C), xmm: [(3, d)]));
        AssertSameAsHost(cases);
    }

    [Test]
    public void InsertExtract_AllForms()
    {
        var v = SseKit.X(0xF0E1_D2C3_B4A5_9687, 0x7869_5A4B_3C2D_1E0F);
        var x = new[] { (5, v) };
        var cases = new List<DiffCase>();
        foreach (var i in new[] { 0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 0x80, 0xFF })
        {
            var b = (byte)i;
            cases.Add(SseKit.Case($"pextrb eax, {i}", a => a.pextrb(eax, xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"pextrb r9, {i}", a => a.pextrb(r9, xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"pextrb mem, {i}", a => a.pextrb(__byte_ptr[rbx + 0x21], xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"pextrw r32 (3A 15), {i}", SseKit.Emit(Instruction.Create(Code.Pextrw_r32m16_xmm_imm8, Register.ECX, Register.XMM5, i)), xmm: x));
            cases.Add(SseKit.Case($"pextrw r64 (3A 15), {i}", SseKit.Emit(Instruction.Create(Code.Pextrw_r64m16_xmm_imm8, Register.R11, Register.XMM5, i)), xmm: x));
            cases.Add(SseKit.Case($"pextrw mem, {i}", a => a.pextrw(__word_ptr[rbx + 0x23], xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"pextrd edx, {i}", a => a.pextrd(edx, xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"pextrd mem, {i}", a => a.pextrd(__dword_ptr[rbx + 0x25], xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"pextrq r12, {i}", a => a.pextrq(r12, xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"pextrq mem, {i}", a => a.pextrq(__qword_ptr[rbx + 0x29], xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"extractps esi, {i}", a => a.extractps(esi, xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"extractps rdi, {i}", a => a.extractps(rdi, xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"extractps mem, {i}", a => a.extractps(__dword_ptr[rbx + 0x2F], xmm5, b), xmm: x));
            cases.Add(SseKit.Case($"extractps mem (W), {i}", SseKit.Emit(Instruction.Create(Code.Extractps_r64m32_xmm_imm8, new MemoryOperand(Register.RBX, 0x31), Register.XMM5, i)), xmm: x));

            cases.Add(SseKit.Case($"pinsrb ecx, {i}", a => a.pinsrb(xmm5, ecx, b), xmm: x));
            cases.Add(SseKit.Case($"pinsrb r10, {i}", a => a.pinsrb(xmm5, r10, b), xmm: x));
            cases.Add(SseKit.Case($"pinsrb mem, {i}", a => a.pinsrb(xmm5, __byte_ptr[rbx + 0x33], b), xmm: x));
            cases.Add(SseKit.Case($"pinsrb mem (W), {i}", SseKit.Emit(Instruction.Create(Code.Pinsrb_xmm_r64m8_imm8, Register.XMM5, new MemoryOperand(Register.RBX, 0x34), i)), xmm: x));
            cases.Add(SseKit.Case($"pinsrd r8d, {i}", a => a.pinsrd(xmm5, r8d, b), xmm: x));
            cases.Add(SseKit.Case($"pinsrd mem, {i}", a => a.pinsrd(xmm5, __dword_ptr[rbx + 0x35], b), xmm: x));
            cases.Add(SseKit.Case($"pinsrq r13, {i}", a => a.pinsrq(xmm5, r13, b), xmm: x));
            cases.Add(SseKit.Case($"pinsrq mem, {i}", a => a.pinsrq(xmm5, __qword_ptr[rbx + 0x37], b), xmm: x));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void DotProducts_AllImmediates()
    {
        // Magnitudes chosen so the order of the additions and the rounding of each step show.
        var a = SseKit.X(0x3F80_0001_4B80_0000, 0xCB80_0000_3F80_0000);
        var b = SseKit.X(0x3F80_0001_3F80_0001, 0x3F80_0001_3F80_0003);
        var ad = SseKit.X(0x4340_0000_0000_0000, 0x3FF0_0000_0000_0001);
        var bd = SseKit.X(0x3FF0_0000_0000_0001, 0x3FF8_0000_0000_0000);
        var cases = new List<DiffCase>();
        for (var imm = 0; imm < 256; imm++)
        {
            var i = (byte)imm;
            cases.Add(SseKit.Case($"dpps {i:X2}", x => x.dpps(xmm3, xmm4, i), xmm: [(3, a), (4, b)]));
            cases.Add(SseKit.Case($"dppd {i:X2}", x => x.dppd(xmm3, xmm4, i), xmm: [(3, ad), (4, bd)]));
        }

        cases.Add(SseKit.Case("dpps mem", x => x.dpps(xmm3, __xmmword_ptr[rbx + 0x10], 0xFF)));
        cases.Add(SseKit.Case("dppd mem", x => x.dppd(xmm3, __xmmword_ptr[rbx + 0x10], 0x33)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void DotProducts_EdgeValues([ValueSource(typeof(FpKit), nameof(FpKit.Modes))] uint mxcsr)
    {
        var cases = new List<DiffCase>();
        foreach (var dbl in new[] { false, true })
        {
            var pairs = FpKit.Pairs(dbl);
            var av = FpKit.Pack(pairs.Select(p => p.A), dbl);
            var bv = FpKit.Pack(pairs.Select(p => p.B), dbl);
            for (var k = 0; k < av.Count; k++)
            {
                var (x, y) = (av[k], bv[k]);
                foreach (var imm in dbl ? new byte[] { 0x33, 0x31, 0x12, 0x23 } : [0xFF, 0xF1, 0x5A, 0xA5, 0x3C, 0x8F])
                {
                    var name = $"{(dbl ? "dppd" : "dpps")} {imm:X2} mxcsr={mxcsr:X4} {x:X32} {y:X32}";
                    cases.Add(SseKit.Case(name, dbl ? a => a.dppd(xmm1, xmm2, imm) : a => a.dpps(xmm1, xmm2, imm), xmm: [(1, x), (2, y)], mxcsr: mxcsr));
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Mpsadbw_AllImmediates()
    {
        var cases = new List<DiffCase>();
        var rng = new Random(5);
        var vectors = new[] { SseKit.X(0xFF00_FF00_FF00_FF00, 0x00FF_00FF_00FF_00FF), SseKit.X(ulong.MaxValue, 0) }
            .Concat(Enumerable.Range(0, 4).Select(_ => new UInt128((ulong)rng.NextInt64(), (ulong)rng.NextInt64()))).ToArray();
        foreach (var imm in Enumerable.Range(0, 8).Concat([0x08, 0x1F, 0xF5, 0xFF]))
        {
            var i = (byte)imm;
            for (var k = 0; k + 1 < vectors.Length; k++)
            {
                cases.Add(SseKit.Case($"mpsadbw {i:X2} {k}", a => a.mpsadbw(xmm3, xmm4, i), xmm: [(3, vectors[k]), (4, vectors[k + 1])]));
            }

            cases.Add(SseKit.Case($"mpsadbw mem {i:X2}", a => a.mpsadbw(xmm3, __xmmword_ptr[rbx + 0x40], i)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Movntdqa_Loads()
    {
        AssertSameAsHost([
            SseKit.Case("movntdqa xmm1, [rbx+0x40]", a => a.movntdqa(xmm1, __xmmword_ptr[rbx + 0x40])),
            SseKit.Case("movntdqa xmm14, [rip]", SseKit.Emit(Instruction.Create(Code.Movntdqa_xmm_m128, Register.XMM14, new MemoryOperand(Register.RIP, (long)ScratchAddress + 0x300)))),
        ]);
    }

    [Test]
    public void Misaligned_M128_IsGeneralProtection()
    {
        SseKit.AssertGeneralProtection(SseKit.Case("movntdqa misaligned", a => a.movntdqa(xmm0, __xmmword_ptr[rbx + 8])));
        SseKit.AssertGeneralProtection(SseKit.Case("ptest misaligned", a => a.ptest(xmm0, __xmmword_ptr[rbx + 4])));
        SseKit.AssertGeneralProtection(SseKit.Case("pminsb misaligned", a => a.pminsb(xmm0, __xmmword_ptr[rbx + 1])));
        SseKit.AssertGeneralProtection(SseKit.Case("roundps misaligned", a => a.roundps(xmm0, __xmmword_ptr[rbx + 2], 0)));
        SseKit.AssertGeneralProtection(SseKit.Case("dpps misaligned", a => a.dpps(xmm0, __xmmword_ptr[rbx + 0x18], 0xFF)));
        SseKit.AssertGeneralProtection(SseKit.Case("pblendvb misaligned", a => a.pblendvb(xmm0, __xmmword_ptr[rbx + 0x1F])));
        SseKit.AssertGeneralProtection(SseKit.Case("mpsadbw misaligned", a => a.mpsadbw(xmm0, __xmmword_ptr[rbx + 3], 1)));
    }
}
