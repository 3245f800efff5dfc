using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class SseFloatTests
{
    /// <summary>Round to nearest, down, up, toward zero; then DAZ, FTZ, and both with rounding down.</summary>
    private static readonly uint[] Modes = [0x1F80, 0x3F80, 0x5F80, 0x7F80, 0x1FC0, 0x9F80, 0xBFC0];

    private static readonly uint[] Singles =
    [
        0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xBF80_0000, 0x3FC0_0000, 0x4040_0000, 0x3EAA_AAAB, 0x3DCC_CCCD,
        0x0000_0001, 0x807F_FFFF, 0x0080_0000, 0x80FF_FFFF, 0x7F7F_FFFF, 0xFF7F_FFFF, 0x7F80_0000, 0xFF80_0000,
        0x7FC0_0000, 0xFFC1_2345, 0x7FA0_0001, 0xFF80_0001, 0x3F7F_FFFF, 0x1F80_0000, 0x5F80_0000, 0x4B80_0001,
    ];

    private static readonly ulong[] Doubles =
    [
        0x0000_0000_0000_0000, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0xBFF0_0000_0000_0000, 0x3FF8_0000_0000_0000,
        0x4008_0000_0000_0000, 0x3FD5_5555_5555_5555, 0x3FB9_9999_9999_999A, 0x0000_0000_0000_0001, 0x800F_FFFF_FFFF_FFFF,
        0x0010_0000_0000_0000, 0x801F_FFFF_FFFF_FFFF, 0x7FEF_FFFF_FFFF_FFFF, 0xFFEF_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0000,
        0xFFF0_0000_0000_0000, 0x7FF8_0000_0000_0000, 0xFFF8_1234_5678_9ABC, 0x7FF4_0000_0000_0001, 0xFFF0_0000_0000_0001,
        0x3FEF_FFFF_FFFF_FFFF, 0x1FF0_0000_0000_0000, 0x5FF0_0000_0000_0000, 0x4340_0000_0000_0001,
    ];

    private static readonly string[] PackedOps =
    [
        "Addps", "Subps", "Mulps", "Divps", "Sqrtps", "Minps", "Maxps",
        "Addpd", "Subpd", "Mulpd", "Divpd", "Sqrtpd", "Minpd", "Maxpd",
    ];

    private static readonly string[] ScalarOps =
    [
        "Addss", "Subss", "Mulss", "Divss", "Sqrtss", "Minss", "Maxss",
        "Addsd", "Subsd", "Mulsd", "Divsd", "Sqrtsd", "Minsd", "Maxsd",
    ];

    /// <summary>Every edge pair, then random operands across the exponent range (including products that underflow).</summary>
    private static List<(ulong A, ulong B)> Pairs(bool dbl)
    {
        var pairs = new List<(ulong, ulong)>();
        var edges = dbl ? Doubles : Singles.Select(x => (ulong)x).ToArray();
        foreach (var a in edges)
        {
            foreach (var b in edges)
            {
                pairs.Add((a, b));
            }
        }

        var rng = new Random(dbl ? 64 : 32);
        for (var i = 0; i < 256; i++)
        {
            pairs.Add((RandomFloat(rng, dbl), RandomFloat(rng, dbl)));
        }

        return pairs;
    }

    private static ulong RandomFloat(Random rng, bool dbl)
    {
        var bits = (ulong)rng.NextInt64();
        if (dbl)
        {
            // Bias the exponent towards the middle and the extremes alike.
            var exp = (ulong)(rng.Next(4) switch { 0 => rng.Next(0, 60), 1 => rng.Next(2000, 2047), _ => rng.Next(900, 1150) });
            return (bits & 0x800F_FFFF_FFFF_FFFF) | (exp << 52);
        }

        var e = (ulong)(rng.Next(4) switch { 0 => rng.Next(0, 30), 1 => rng.Next(225, 255), _ => rng.Next(100, 155) });
        return (bits & 0x807F_FFFF) | (e << 23);
    }

    private static IEnumerable<UInt128> Pack(List<(ulong A, ulong B)> pairs, bool dbl, bool first)
    {
        var lanes = dbl ? 2 : 4;
        for (var i = 0; i < pairs.Count; i += lanes)
        {
            UInt128 v = 0;
            for (var l = 0; l < lanes && i + l < pairs.Count; l++)
            {
                var x = first ? pairs[i + l].A : pairs[i + l].B;
                v |= (UInt128)x << (l * (dbl ? 64 : 32));
            }

            yield return v;
        }
    }

    private static List<DiffCase> PackedCases(string name, Code code, bool dbl, uint mxcsr, int? imm = null, Register src = Register.XMM7)
    {
        var pairs = Pairs(dbl);
        var a = Pack(pairs, dbl, true).ToList();
        var b = Pack(pairs, dbl, false).ToList();
        var cases = new List<DiffCase>();
        for (var i = 0; i < a.Count; i++)
        {
            var insn = imm is { } k ? Instruction.Create(code, Register.XMM3, src, k) : Instruction.Create(code, Register.XMM3, src);
            cases.Add(SseKit.Case($"{name} mxcsr={mxcsr:X4} {a[i]:X32} {b[i]:X32}", SseKit.Emit(insn), xmm: [(3, a[i]), (7, b[i])], mxcsr: mxcsr));
        }

        return cases;
    }

    [Test]
    public void Packed_Arithmetic([ValueSource(nameof(PackedOps))] string op, [ValueSource(nameof(Modes))] uint mxcsr)
    {
        AssertSameAsHost(PackedCases(op, SseKit.CodeOf($"{op}_xmm_xmmm128"), op.EndsWith('d'), mxcsr));
    }

    [Test]
    public void Scalar_Arithmetic([ValueSource(nameof(ScalarOps))] string op, [Values(0x1F80u, 0x5F80u, 0x9FC0u)] uint mxcsr)
    {
        var dbl = op.EndsWith('d');
        var code = SseKit.CodeOf(dbl ? $"{op}_xmm_xmmm64" : $"{op}_xmm_xmmm32");

        // Scalar ops use the low lanes of the packed operands; the upper lanes must survive.
        var cases = PackedCases(op, code, dbl, mxcsr);
        cases.Add(SseKit.Case($"{op} xmm3, [rbx+0x24]", SseKit.Emit(Instruction.Create(code, Register.XMM3, new MemoryOperand(Register.RBX, 0x24))), scratch: SseKit.ScratchWith(0, 0, SseKit.X(0x4000_0000_4000_0000, 0x3FF8_0000_3FC0_0000)), mxcsr: mxcsr));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Compares([Values("Cmpps", "Cmppd", "Cmpss", "Cmpsd")] string op, [Values(0, 1, 2, 3, 4, 5, 6, 7, 9)] int predicate)
    {
        var dbl = op.EndsWith('d');
        var code = SseKit.CodeOf(op switch
        {
            "Cmpps" or "Cmppd" => $"{op}_xmm_xmmm128_imm8",
            "Cmpss" => "Cmpss_xmm_xmmm32_imm8",
            _ => "Cmpsd_xmm_xmmm64_imm8",
        });
        var cases = PackedCases($"{op} {predicate}", code, dbl, 0x1F80, predicate);
        cases.AddRange(PackedCases($"{op} {predicate} DAZ", code, dbl, 0x1FC0, predicate).Take(40));
        AssertSameAsHost(cases);
    }

    [Test]
    public void OrderedCompares_SetFlags([Values("Comiss", "Ucomiss", "Comisd", "Ucomisd")] string op)
    {
        var dbl = op.EndsWith('d');
        var code = SseKit.CodeOf(dbl ? $"{op}_xmm_xmmm64" : $"{op}_xmm_xmmm32");
        var cases = new List<DiffCase>();
        foreach (var (a, b) in Pairs(dbl))
        {
            foreach (var flags in new ulong[] { 0, 0x8D5 })
            {
                cases.Add(SseKit.Case($"{op} {a:X} {b:X} flags={flags:X}", SseKit.Emit(Instruction.Create(code, Register.XMM3, Register.XMM7)), xmm: [(3, a), (7, b)], flags: flags));
            }
        }

        cases.Add(SseKit.Case($"{op} mem", SseKit.Emit(Instruction.Create(code, Register.XMM3, new MemoryOperand(Register.RBX, 8))), xmm: [(3, dbl ? 0x3FF0_0000_0000_0000UL : 0x3F80_0000UL)]));
        cases.Add(SseKit.Case($"{op} DAZ", SseKit.Emit(Instruction.Create(code, Register.XMM3, Register.XMM7)), xmm: [(3, 1), (7, 0)], mxcsr: 0x1FC0));
        AssertSameAsHost(cases);
    }

    private static readonly long[] Ints =
    [
        0, 1, -1, 2, 3, 0x7FFF_FFFF, -0x8000_0000, 0x100_0001, 0x100_0003, -0x100_0001, 0xFFFF_FFFF, 0x20_0000_0000_0001,
        0x20_0000_0000_0003, long.MaxValue, long.MinValue, long.MinValue + 1, 0x7FFF_FFC0_0000_0000, 0x1234_5678_9ABC_DEF1, -0x1234_5678_9ABC_DEF1,
    ];

    [Test]
    public void IntToFloat([Values(0x1F80u, 0x3F80u, 0x5F80u, 0x7F80u)] uint mxcsr)
    {
        var cases = new List<DiffCase>();
        foreach (var v in Ints)
        {
            var gpr = new[] { (Register.R9, (ulong)v) };
            cases.Add(SseKit.Case($"cvtsi2ss xmm4, r9d {v:X}", a => a.cvtsi2ss(xmm4, r9d), mxcsr: mxcsr, gpr: gpr));
            cases.Add(SseKit.Case($"cvtsi2ss xmm4, r9 {v:X}", a => a.cvtsi2ss(xmm4, r9), mxcsr: mxcsr, gpr: gpr));
            cases.Add(SseKit.Case($"cvtsi2sd xmm4, r9d {v:X}", a => a.cvtsi2sd(xmm4, r9d), mxcsr: mxcsr, gpr: gpr));
            cases.Add(SseKit.Case($"cvtsi2sd xmm4, r9 {v:X}", a => a.cvtsi2sd(xmm4, r9), mxcsr: mxcsr, gpr: gpr));
        }

        var s = CaseKit.PatternScratch(0x1000);
        CaseKit.Store(s, 0x10, 8, 0x8765_4321_0FED_CBA9);
        cases.Add(SseKit.Case("cvtsi2ss xmm4, dword [rbx+0x10]", a => a.cvtsi2ss(xmm4, __dword_ptr[rbx + 0x10]), mxcsr: mxcsr, scratch: s));
        cases.Add(SseKit.Case("cvtsi2ss xmm4, qword [rbx+0x10]", a => a.cvtsi2ss(xmm4, __qword_ptr[rbx + 0x10]), mxcsr: mxcsr, scratch: s));
        cases.Add(SseKit.Case("cvtsi2sd xmm4, dword [rbx+0x10]", a => a.cvtsi2sd(xmm4, __dword_ptr[rbx + 0x10]), mxcsr: mxcsr, scratch: s));
        cases.Add(SseKit.Case("cvtsi2sd xmm4, qword [rbx+0x10]", a => a.cvtsi2sd(xmm4, __qword_ptr[rbx + 0x10]), mxcsr: mxcsr, scratch: s));
        AssertSameAsHost(cases);
    }

    private static readonly double[] ToIntValues =
    [
        0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, 1e-310, -1e-310, 2147483647.0, 2147483647.5, 2147483648.0,
        -2147483648.0, -2147483648.5, -2147483649.0, 4294967296.0, 9.2233720368547748e18, 9223372036854774784.0, -9.2233720368547758e18,
        -9.2233720368547779e18, 1e30, -1e30, double.PositiveInfinity, double.NegativeInfinity, double.NaN, 123456.789, -987654.321, 16777217.0,
    ];

    [Test]
    public void FloatToInt([Values(0x1F80u, 0x3F80u, 0x5F80u, 0x7F80u, 0x1FC0u)] uint mxcsr)
    {
        var cases = new List<DiffCase>();
        var values = ToIntValues.Select(BitConverter.DoubleToUInt64Bits).Concat(Doubles).ToList();
        foreach (var d in values)
        {
            var f = (ulong)BitConverter.SingleToUInt32Bits((float)BitConverter.UInt64BitsToDouble(d));
            var xs = new[] { (6, (UInt128)d) };
            var xf = new[] { (6, (UInt128)f) };
            cases.Add(SseKit.Case($"cvtsd2si eax {d:X}", a => a.cvtsd2si(eax, xmm6), xmm: xs, mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtsd2si rax {d:X}", a => a.cvtsd2si(rax, xmm6), xmm: xs, mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvttsd2si eax {d:X}", a => a.cvttsd2si(eax, xmm6), xmm: xs, mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvttsd2si rax {d:X}", a => a.cvttsd2si(rax, xmm6), xmm: xs, mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtss2si eax {f:X}", a => a.cvtss2si(eax, xmm6), xmm: xf, mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtss2si rax {f:X}", a => a.cvtss2si(rax, xmm6), xmm: xf, mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvttss2si eax {f:X}", a => a.cvttss2si(eax, xmm6), xmm: xf, mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvttss2si rax {f:X}", a => a.cvttss2si(rax, xmm6), xmm: xf, mxcsr: mxcsr));
        }

        foreach (var f in Singles)
        {
            cases.Add(SseKit.Case($"cvtss2si r10 {f:X}", a => a.cvtss2si(r10, xmm6), xmm: [(6, f)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvttss2si r10d {f:X}", a => a.cvttss2si(r10d, xmm6), xmm: [(6, f)], mxcsr: mxcsr));
        }

        var s = SseKit.ScratchWith(SseKit.X(0, 0x41E0_0000_0000_0000), SseKit.X(0, 0xC2C8_0001));
        cases.Add(SseKit.Case("cvtsd2si rdx, [rbx]", a => a.cvtsd2si(rdx, __qword_ptr[rbx]), scratch: s, mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvttsd2si edx, [rbx]", a => a.cvttsd2si(edx, __qword_ptr[rbx]), scratch: s, mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvtss2si edx, [rbx+0x10]", a => a.cvtss2si(edx, __dword_ptr[rbx + 0x10]), scratch: s, mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvttss2si rdx, [rbx+0x10]", a => a.cvttss2si(rdx, __dword_ptr[rbx + 0x10]), scratch: s, mxcsr: mxcsr));
        AssertSameAsHost(cases);
    }

    [Test]
    public void FormatConversions([ValueSource(nameof(Modes))] uint mxcsr)
    {
        var cases = new List<DiffCase>();
        var singles = Pack(Pairs(false), false, true).Concat(Pack(Pairs(false), false, false)).ToList();
        var doubles = Pack(Pairs(true), true, true).Concat(Pack(Pairs(true), true, false)).ToList();

        // Doubles near the single-precision limits: overflow, underflow and ties.
        doubles.Add(SseKit.X(0x47EF_FFFF_F000_0000, 0x47EF_FFFF_E000_0001));
        doubles.Add(SseKit.X(0x3810_0000_0000_0000, 0x380F_FFFF_F000_0000));
        doubles.Add(SseKit.X(0x36A0_0000_0000_0000, 0x3690_0000_0000_0001));
        doubles.Add(SseKit.X(0xB690_0000_0000_0000, 0x3FF0_0000_1000_0000));
        doubles.Add(SseKit.X(0x3FF0_0000_3000_0000, 0xC7F0_0000_0000_0000));
        foreach (var v in singles)
        {
            cases.Add(SseKit.Case($"cvtps2pd {v:X32}", a => a.cvtps2pd(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtss2sd {v:X32}", a => a.cvtss2sd(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtps2dq {v:X32}", a => a.cvtps2dq(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvttps2dq {v:X32}", a => a.cvttps2dq(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtdq2ps {v:X32}", a => a.cvtdq2ps(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtdq2pd {v:X32}", a => a.cvtdq2pd(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
        }

        foreach (var v in doubles)
        {
            cases.Add(SseKit.Case($"cvtpd2ps {v:X32}", a => a.cvtpd2ps(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtsd2ss {v:X32}", a => a.cvtsd2ss(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvtpd2dq {v:X32}", a => a.cvtpd2dq(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
            cases.Add(SseKit.Case($"cvttpd2dq {v:X32}", a => a.cvttpd2dq(xmm1, xmm2), xmm: [(2, v)], mxcsr: mxcsr));
        }

        cases.Add(SseKit.Case("cvtps2pd xmm1, [rbx+8]", a => a.cvtps2pd(xmm1, __qword_ptr[rbx + 8]), mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvtdq2pd xmm1, [rbx+8]", a => a.cvtdq2pd(xmm1, __qword_ptr[rbx + 8]), mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvtss2sd xmm1, [rbx+4]", a => a.cvtss2sd(xmm1, __dword_ptr[rbx + 4]), mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvtsd2ss xmm1, [rbx+4]", a => a.cvtsd2ss(xmm1, __qword_ptr[rbx + 4]), mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvtpd2ps xmm1, [rbx+0x10]", a => a.cvtpd2ps(xmm1, __xmmword_ptr[rbx + 0x10]), mxcsr: mxcsr));
        cases.Add(SseKit.Case("cvtdq2ps xmm1, [rbx+0x10]", a => a.cvtdq2ps(xmm1, __xmmword_ptr[rbx + 0x10]), mxcsr: mxcsr));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Arithmetic_AccumulatesStickyFlags()
    {
        // Flags already set stay set; a chain of operations ORs its flags together.
        AssertSameAsHost([
            SseKit.Case("sticky", a =>
            {
                a.addss(xmm0, xmm1);
                a.divsd(xmm2, xmm3);
                a.sqrtps(xmm4, xmm5);
            }, mxcsr: 0x1F81),
            SseKit.Case("1/0 then inexact", a =>
            {
                a.divss(xmm0, xmm1);
                a.mulsd(xmm2, xmm3);
            }, xmm: [(0, 0x3F80_0000), (1, 0), (2, 0x3FB9_9999_9999_999A), (3, 0x3FB9_9999_9999_999A)]),
        ]);
    }
}
