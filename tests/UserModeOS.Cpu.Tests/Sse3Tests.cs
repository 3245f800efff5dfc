using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>Floating-point operands for the SSE3/SSE4.1 fixtures: edge values and random ones across the exponent range.</summary>
internal static class FpKit
{
    /// <summary>Round to nearest, down, up, toward zero; then DAZ, FTZ, and both with rounding down.</summary>
    public static readonly uint[] Modes = [0x1F80, 0x3F80, 0x5F80, 0x7F80, 0x1FC0, 0x9F80, 0xBFC0];

    /// <summary>±0, ±1, inexact fractions, denormals, the normal limits, ±inf, quiet and signalling NaNs.</summary>
    public static readonly uint[] Singles =
    [
        0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x3FC0_0000, 0x4040_0000, 0x3EAA_AAAB, 0x3DCC_CCCD,
        0x0000_0001, 0x807F_FFFF, 0x0080_0000, 0x80FF_FFFF, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x7F80_0000, 0xFF80_0000,
        0x7FC0_0000, 0xFFC1_2345, 0x7FA0_0001, 0xFF80_0001, 0x3F7F_FFFF, 0x1F80_0000, 0x5F80_0000, 0x4B80_0001,
    ];

    public static readonly ulong[] Doubles =
    [
        0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0xBFF0_0000_0000_0000, 0x3FF8_0000_0000_0000,
        0x4008_0000_0000_0000, 0x3FD5_5555_5555_5555, 0x3FB9_9999_9999_999A, 0x0000_0000_0000_0001, 0x800F_FFFF_FFFF_FFFF,
        0x0010_0000_0000_0000, 0x801F_FFFF_FFFF_FFFF, 0x7FEF_FFFF_FFFF_FFFF, 0xFFEF_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0000,
        0xFFF0_0000_0000_0000, 0x7FF8_0000_0000_0000, 0xFFF8_1234_5678_9ABC, 0x7FF4_0000_0000_0001, 0xFFF0_0000_0000_0001,
        0x3FEF_FFFF_FFFF_FFFF, 0x1FF0_0000_0000_0000, 0x5FF0_0000_0000_0000, 0x4340_0000_0000_0001,
    ];

    public static ulong[] Edges(bool dbl) => dbl ? Doubles : [.. Singles.Select(x => (ulong)x)];

    /// <summary>Every edge pair, then random operands across the exponent range (including results that underflow).</summary>
    public static List<(ulong A, ulong B)> Pairs(bool dbl, int random = 256)
    {
        var pairs = new List<(ulong, ulong)>();
        var edges = Edges(dbl);
        foreach (var a in edges)
        {
            foreach (var b in edges)
            {
                pairs.Add((a, b));
            }
        }

        var rng = new Random(dbl ? 641 : 321);
        for (var i = 0; i < random; i++)
        {
            pairs.Add((RandomFloat(rng, dbl), RandomFloat(rng, dbl)));
        }

        return pairs;
    }

    public static ulong RandomFloat(Random rng, bool dbl)
    {
        var bits = (ulong)rng.NextInt64();
        if (dbl)
        {
            var exp = (ulong)(rng.Next(4) switch { 0 => rng.Next(0, 60), 1 => rng.Next(2000, 2047), _ => rng.Next(900, 1150) });
            return (bits & 0x800F_FFFF_FFFF_FFFF) | (exp << 52);
        }

        var e = (ulong)(rng.Next(4) switch { 0 => rng.Next(0, 30), 1 => rng.Next(225, 255), _ => rng.Next(100, 155) });
        return (bits & 0x807F_FFFF) | (e << 23);
    }

    /// <summary>Packs values into vectors lane by lane (4 singles or 2 doubles each).</summary>
    public static List<UInt128> Pack(IEnumerable<ulong> values, bool dbl)
    {
        var lanes = dbl ? 2 : 4;
        var bits = dbl ? 64 : 32;
        var list = values.ToList();
        var result = new List<UInt128>();
        for (var i = 0; i < list.Count; i += lanes)
        {
            UInt128 v = 0;
            for (var l = 0; l < lanes && i + l < list.Count; l++)
            {
                v |= (UInt128)list[i + l] << (l * bits);
            }

            result.Add(v);
        }

        return result;
    }
}

[TestFixture]
public sealed class Sse3Tests
{
    private static readonly string[] VerticalOps = ["Addsubps", "Addsubpd"];
    private static readonly string[] HorizontalOps = ["Haddps", "Haddpd", "Hsubps", "Hsubpd"];

    /// <summary>ADDSUBPS/PD: lane i of the destination with lane i of the source, every edge pair in every lane position.</summary>
    [Test]
    public void AddSub([ValueSource(nameof(VerticalOps))] string op, [ValueSource(typeof(FpKit), nameof(FpKit.Modes))] uint mxcsr)
    {
        var dbl = op.EndsWith('d');
        var pairs = FpKit.Pairs(dbl);

        // Shifted by one lane too, so every pair meets both the subtracting and the adding lanes.
        var a = FpKit.Pack(pairs.Select(p => p.A), dbl).Concat(FpKit.Pack(pairs.Skip(1).Select(p => p.A), dbl)).ToList();
        var b = FpKit.Pack(pairs.Select(p => p.B), dbl).Concat(FpKit.Pack(pairs.Skip(1).Select(p => p.B), dbl)).ToList();
        var code = SseKit.CodeOf($"{op}_xmm_xmmm128");
        var cases = new List<DiffCase>();
        for (var i = 0; i < a.Count; i++)
        {
            cases.Add(SseKit.Case($"{op} mxcsr={mxcsr:X4} {a[i]:X32} {b[i]:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM3, Register.XMM7)), xmm: [(3, a[i]), (7, b[i])], mxcsr: mxcsr));
        }

        AssertSameAsHost(cases);
    }

    /// <summary>HADD/HSUB: each edge pair as two adjacent lanes, in the destination and in the source.</summary>
    [Test]
    public void Horizontal([ValueSource(nameof(HorizontalOps))] string op, [ValueSource(typeof(FpKit), nameof(FpKit.Modes))] uint mxcsr)
    {
        var dbl = op.EndsWith('d');
        var flat = FpKit.Pairs(dbl).SelectMany(p => new[] { p.A, p.B }).ToList();
        var vectors = FpKit.Pack(flat, dbl);
        var code = SseKit.CodeOf($"{op}_xmm_xmmm128");
        var cases = new List<DiffCase>();
        for (var i = 0; i + 1 < vectors.Count; i += 2)
        {
            var (a, b) = (vectors[i], vectors[i + 1]);
            cases.Add(SseKit.Case($"{op} mxcsr={mxcsr:X4} {a:X32} {b:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM3, Register.XMM7)), xmm: [(3, a), (7, b)], mxcsr: mxcsr));
        }

        cases.Add(SseKit.Case($"{op} xmm5, xmm5", SseKit.Emit(Instruction.Create(code, Register.XMM5, Register.XMM5)), xmm: [(5, vectors[7])], mxcsr: mxcsr));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Arithmetic_MemoryForms()
    {
        var s = SseKit.ScratchWith(0, SseKit.X(0x4000_0000_3F80_0000, 0x7FC0_0000_BF80_0001), SseKit.X(0x3FF0_0000_0000_0000, 0xC008_0000_0000_0000));
        var cases = new List<DiffCase>();
        foreach (var op in VerticalOps.Concat(HorizontalOps))
        {
            var code = SseKit.CodeOf($"{op}_xmm_xmmm128");
            cases.Add(SseKit.Case($"{op} xmm9, [rbx+0x10]", SseKit.Emit(Instruction.Create(code, Register.XMM9, new MemoryOperand(Register.RBX, 0x10))), scratch: s));
            cases.Add(SseKit.Case($"{op} xmm9, [rbx+0x20]", SseKit.Emit(Instruction.Create(code, Register.XMM9, new MemoryOperand(Register.RBX, 0x20))), scratch: s, xmm: [(9, SseKit.X(0x4010_0000_0000_0000, 0x3FE0_0000_0000_0001))]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Duplicates_And_Lddqu()
    {
        var vectors = new[]
        {
            SseKit.X(0x1111_1111_2222_2222, 0x3333_3333_4444_4444),
            SseKit.X(0xFFFF_FFFF_8000_0000, 0x7FC0_0000_0000_0001),
            SseKit.X(0, ulong.MaxValue),
        };
        var cases = new List<DiffCase>();
        foreach (var v in vectors)
        {
            cases.Add(SseKit.Case($"movsldup {v:X32}", a => a.movsldup(xmm1, xmm2), xmm: [(2, v)]));
            cases.Add(SseKit.Case($"movshdup {v:X32}", a => a.movshdup(xmm1, xmm2), xmm: [(2, v)]));
            cases.Add(SseKit.Case($"movddup {v:X32}", a => a.movddup(xmm1, xmm2), xmm: [(2, v)]));
            cases.Add(SseKit.Case($"movsldup self {v:X32}", a => a.movsldup(xmm12, xmm12), xmm: [(12, v)]));
            cases.Add(SseKit.Case($"movshdup self {v:X32}", a => a.movshdup(xmm12, xmm12), xmm: [(12, v)]));
            cases.Add(SseKit.Case($"movddup self {v:X32}", a => a.movddup(xmm12, xmm12), xmm: [(12, v)]));
        }

        cases.Add(SseKit.Case("movsldup xmm3, [rbx+0x30]", a => a.movsldup(xmm3, __xmmword_ptr[rbx + 0x30])));
        cases.Add(SseKit.Case("movshdup xmm3, [rbx+0x30]", a => a.movshdup(xmm3, __xmmword_ptr[rbx + 0x30])));

        // MOVDDUP's m64 and LDDQU's m128 need no alignment.
        foreach (var mode in CaseKit.MemoryModes)
        {
            var c = SseKit.Case($"movddup/lddqu {mode}", SseKit.Emit(
                Instruction.Create(Code.Movddup_xmm_xmmm64, Register.XMM0, mode.Operand),
                Instruction.Create(Code.Lddqu_xmm_m128, Register.XMM15, mode.Operand)));
            mode.Apply(c.Gpr);
            cases.Add(c);
        }

        cases.Add(SseKit.Case("lddqu xmm2, [rbx+0xFF0]", a => a.lddqu(xmm2, __[rbx + 0xFF0])));
        cases.Add(SseKit.Case("movddup xmm2, [rbx+0xFF8]", a => a.movddup(xmm2, __qword_ptr[rbx + 0xFF8])));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Misaligned_M128_IsGeneralProtection()
    {
        SseKit.AssertGeneralProtection(SseKit.Case("movsldup misaligned", a => a.movsldup(xmm0, __xmmword_ptr[rbx + 8])));
        SseKit.AssertGeneralProtection(SseKit.Case("movshdup misaligned", a => a.movshdup(xmm0, __xmmword_ptr[rbx + 4])));
        SseKit.AssertGeneralProtection(SseKit.Case("haddps misaligned", a => a.haddps(xmm0, __xmmword_ptr[rbx + 1])));
        SseKit.AssertGeneralProtection(SseKit.Case("hsubpd misaligned", a => a.hsubpd(xmm0, __xmmword_ptr[rbx + 0x18])));
        SseKit.AssertGeneralProtection(SseKit.Case("addsubps misaligned", a => a.addsubps(xmm0, __xmmword_ptr[rbx + 2])));
    }
}
