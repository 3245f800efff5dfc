using System.Buffers.Binary;
using System.Text;
using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;
using static UserModeOS.Cpu.Tests.X87Kit;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// The transcendental instructions against the host. The hardware's results are not always
/// correctly rounded and ours are (to ~125 bits), so a register result may differ from the
/// host's by one unit in the last place (and C1, its rounding direction, with it); everything
/// else (special values, exceptions, the stack, the argument reduction) must match exactly.
/// Most results are bit-exact, which each test also checks.
/// </summary>
[TestFixture]
public sealed class X87TranscendentalTests
{
    private static readonly (string Name, int Operands, Action<Assembler> Op)[] Ops =
    [
        ("f2xm1", 1, a => a.f2xm1()),
        ("fyl2x", 2, a => a.fyl2x()),
        ("fyl2xp1", 2, a => a.fyl2xp1()),
        ("fpatan", 2, a => a.fpatan()),
        ("fsin", 1, a => a.fsin()),
        ("fcos", 1, a => a.fcos()),
        ("fsincos", 1, a => a.fsincos()),
        ("fptan", 1, a => a.fptan()),
    ];

    /// <summary>Runs the cases and checks them: state identical except ST registers within one ulp. Returns the bit-exact fraction.</summary>
    private static double AssertWithinOneUlp(List<DiffCase> cases)
    {
        var results = RunBoth(cases);
        var exact = 0;
        var failures = new StringBuilder();
        var failed = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var (n, e) = results[i];
            var why = Compare(n, e, out var identical);
            if (identical)
            {
                exact++;
            }

            if (why is not null && ++failed <= 400)
            {
                failures.Append($"case '{cases[i].Name}': {why}\n");
            }
        }

        if (failed > 0)
        {
            Assert.Fail($"{failed} of {cases.Count} cases differ beyond one ulp:\n{failures}");
        }

        return (double)exact / cases.Count;
    }

    private static string? Compare(CpuSnapshot n, CpuSnapshot e, out bool identical)
    {
        identical = false;
        if (!e.Finished)
        {
            return $"emulated run stopped: {e.Exit}";
        }

        var nf = n.Fx.AsSpan(0, 160).ToArray();
        var ef = e.Fx.AsSpan(0, 160).ToArray();
        nf.AsSpan(24, 8).Clear();
        ef.AsSpan(24, 8).Clear();
        if (nf.AsSpan().SequenceEqual(ef) && n.Rflags == e.Rflags)
        {
            identical = true;
            return null;
        }

        var anyUlp = false;
        for (var i = 0; i < 8; i++)
        {
            var at = 32 + (16 * i);
            var a = ToInt(nf, at);
            var b = ToInt(ef, at);
            if (a == b)
            {
                continue;
            }

            if (BigDiff(a, b) > 1)
            {
                return $"ST{i}: native {ShowFx(nf, at)}, emulated {ShowFx(ef, at)}";
            }

            anyUlp = true;
            nf.AsSpan(at, 16).Clear();
            ef.AsSpan(at, 16).Clear();
        }

        // C1 says which way the result was rounded: it may differ with the last bit, or when the
        // exact value is so close to a representable one that the two sides disagree on the side.
        _ = anyUlp;
        nf[3] &= 0xFD;
        ef[3] &= 0xFD;

        for (var b = 0; b < 160; b++)
        {
            if (nf[b] != ef[b])
            {
                return $"FXSAVE byte {b}: native 0x{nf[b]:X2}, emulated 0x{ef[b]:X2} (FSW native 0x{BinaryPrimitives.ReadUInt16LittleEndian(n.Fx.AsSpan(2)):X4}, emulated 0x{BinaryPrimitives.ReadUInt16LittleEndian(e.Fx.AsSpan(2)):X4})";
            }
        }

        return null;
    }

    /// <summary>An 80-bit value as an ordered integer (sign-magnitude over exponent:significand).</summary>
    private static (bool Neg, UInt128 Mag) ToInt(byte[] fx, int at)
    {
        var m = BinaryPrimitives.ReadUInt64LittleEndian(fx.AsSpan(at));
        var se = BinaryPrimitives.ReadUInt16LittleEndian(fx.AsSpan(at + 8));
        var exp = (uint)(se & 0x7FFF);

        // Consecutive values differ by one: exponent steps are 2^63 significand units apart.
        return ((se & 0x8000) != 0, exp == 0 ? m : ((UInt128)exp << 63) + (m & 0x7FFF_FFFF_FFFF_FFFF));
    }

    private static UInt128 BigDiff((bool Neg, UInt128 Mag) a, (bool Neg, UInt128 Mag) b)
    {
        if (a.Neg != b.Neg)
        {
            return a.Mag == 0 && b.Mag == 0 ? 0 : UInt128.MaxValue;
        }

        var d = a.Mag > b.Mag ? a.Mag - b.Mag : b.Mag - a.Mag;
        return d;
    }

    private static string ShowFx(byte[] fx, int at) =>
        $"{BinaryPrimitives.ReadUInt16LittleEndian(fx.AsSpan(at + 8)):X4}:{BinaryPrimitives.ReadUInt64LittleEndian(fx.AsSpan(at)):X16}";

    private static DiffCase OpCase(string name, int operands, Action<Assembler> op, Float80 x, Float80 y, ushort cw = 0x037F) =>
        Case($"{name} x={Show(x)} y={Show(y)} cw={cw:X4}", a =>
        {
            a.fldcw(__word_ptr[rbx + CW]);
            if (operands == 2)
            {
                a.fld(__tword_ptr[rbx + B]);
            }

            a.fld(__tword_ptr[rbx + A]);
            op(a);
        }, Scratch(x, y, cw));

    [Test]
    public void SpecialOperands()
    {
        var cases = new List<DiffCase>();
        foreach (var (name, operands, op) in Ops)
        {
            foreach (var x in Edges)
            {
                if (operands == 1)
                {
                    cases.Add(OpCase(name, 1, op, x, default));
                    continue;
                }

                foreach (var y in Edges)
                {
                    cases.Add(OpCase(name, 2, op, x, y));
                }
            }

            cases.Add(Case($"{name} empty", a => op(a), Scratch(default, default)));
            cases.Add(Case($"{name} one operand", a => { a.fld1(); op(a); }, Scratch(default, default)));
        }

        var exact = AssertWithinOneUlp(cases);
        TestContext.Out.WriteLine($"bit-exact: {exact:P1} of {cases.Count}");
    }

    [Test]
    public void RandomArguments()
    {
        var rng = new Random(95);
        var cases = new List<DiffCase>();
        foreach (var cw in new ushort[] { 0x037F, 0x077F, 0x0B7F, 0x0F7F, 0x007F })
        {
            for (var i = 0; i < 120; i++)
            {
                var unit = F((ushort)((rng.Next(2) == 0 ? 0 : 0x8000) | rng.Next(0x3FFF - 70, 0x3FFF)), (ulong)rng.NextInt64() | (1UL << 63));
                var positive = F((ushort)rng.Next(0x3FFF - 200, 0x3FFF + 200), (ulong)rng.NextInt64() | (1UL << 63));
                var small = F((ushort)((rng.Next(2) == 0 ? 0 : 0x8000) | rng.Next(0x3FFF - 70, 0x3FFD)), (ulong)rng.NextInt64() | (1UL << 63));
                var any = F((ushort)((rng.Next(2) == 0 ? 0 : 0x8000) | rng.Next(0x3FFF - 100, 0x3FFF + 100)), (ulong)rng.NextInt64() | (1UL << 63));
                var trig = F((ushort)((rng.Next(2) == 0 ? 0 : 0x8000) | rng.Next(0x3FFF - 20, 0x3FFF + 64)), (ulong)rng.NextInt64() | (1UL << 63));
                cases.Add(OpCase("f2xm1", 1, a => a.f2xm1(), unit, default, cw));
                cases.Add(OpCase("fyl2x", 2, a => a.fyl2x(), positive, any, cw));
                cases.Add(OpCase("fyl2xp1", 2, a => a.fyl2xp1(), small, any, cw));
                cases.Add(OpCase("fpatan", 2, a => a.fpatan(), any, Random(rng), cw));
                cases.Add(OpCase("fsin", 1, a => a.fsin(), trig, default, cw));
                cases.Add(OpCase("fcos", 1, a => a.fcos(), trig, default, cw));
                cases.Add(OpCase("fsincos", 1, a => a.fsincos(), trig, default, cw));
                cases.Add(OpCase("fptan", 1, a => a.fptan(), trig, default, cw));
            }
        }

        var exact = AssertWithinOneUlp(cases);
        TestContext.Out.WriteLine($"bit-exact: {exact:P1} of {cases.Count}");
        Assert.That(exact, Is.GreaterThan(0.9), "most results should be bit-exact");
    }

    [Test]
    public void ExactCasesAreExact()
    {
        // Powers of two in FYL2X, the ends of F2XM1's range, multiples of the reduction constant.
        var cases = new List<DiffCase>();
        foreach (var cw in RoundingModes)
        {
            foreach (var e in new[] { 0x3FFF, 0x4005, 0x3F00, 0x7FFE, 0x0001 })
            {
                cases.Add(OpCase("fyl2x", 2, a => a.fyl2x(), F((ushort)e, 1UL << 63), F(0x4000, 0xC000_0000_0000_0000), cw));
            }

            cases.Add(OpCase("f2xm1 1", 1, a => a.f2xm1(), F(0x3FFF, 1UL << 63), default, cw));
            cases.Add(OpCase("f2xm1 -1", 1, a => a.f2xm1(), F(0xBFFF, 1UL << 63), default, cw));
            cases.Add(OpCase("fsin tiny", 1, a => a.fsin(), F(0x3F00, 0x8000_0000_0000_0001), default, cw));
            cases.Add(OpCase("fcos tiny", 1, a => a.fcos(), F(0x3F00, 0x8000_0000_0000_0001), default, cw));
            cases.Add(OpCase("fpatan tiny", 2, a => a.fpatan(), F(0x3FFF, 1UL << 63), F(0x3F00, 0x8000_0000_0000_0001), cw));
            cases.Add(OpCase("fsin 2^63", 1, a => a.fsin(), F(0x403E, 1UL << 63), default, cw));
            cases.Add(OpCase("fptan 2^63", 1, a => a.fptan(), F(0xC03E, 0x8000_0000_0000_0001), default, cw));
        }

        AssertSameAsHost(cases);
    }
}
