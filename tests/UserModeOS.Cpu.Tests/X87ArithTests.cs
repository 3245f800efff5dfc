using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;
using static UserModeOS.Cpu.Tests.X87Kit;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class X87ArithTests
{
    /// <summary>ST0 = ST0 op ST1 for the six basic operations.</summary>
    private static readonly (string Name, Action<Assembler> Op)[] Ops =
    [
        ("fadd", a => a.fadd(st0, st1)),
        ("fsub", a => a.fsub(st0, st1)),
        ("fsubr", a => a.fsubr(st0, st1)),
        ("fmul", a => a.fmul(st0, st1)),
        ("fdiv", a => a.fdiv(st0, st1)),
        ("fdivr", a => a.fdivr(st0, st1)),
    ];

    private static IEnumerable<DiffCase> PairCases(IEnumerable<(Float80 A, Float80 B)> pairs, ushort[] cws)
    {
        foreach (var (x, y) in pairs)
        {
            foreach (var cw in cws)
            {
                foreach (var (name, op) in Ops)
                {
                    yield return Case($"{name} {Show(x)} {Show(y)} cw={cw:X4}", a =>
                    {
                        LoadAB(a);
                        op(a);
                    }, Scratch(x, y, cw));
                }
            }
        }
    }

    [Test]
    public void Basic_EdgePairs()
    {
        var pairs = Edges.SelectMany(x => Edges.Select(y => (x, y)));
        AssertSameAsHost(PairCases(pairs, [0x037F]));
    }

    [Test]
    public void Basic_RoundingAndPrecision()
    {
        var rng = new Random(80);
        var pairs = Enumerable.Range(0, 60).Select(_ => (RoundingProbe(rng), RoundingProbe(rng))).ToList();
        AssertSameAsHost(PairCases(pairs, ControlWords));
    }

    [Test]
    public void Basic_RandomRanges()
    {
        var rng = new Random(81);
        var pairs = Enumerable.Range(0, 300).Select(_ => (Random(rng), Random(rng))).ToList();
        AssertSameAsHost(PairCases(pairs, [0x037F, 0x0F7F, 0x067F, 0x087F]));
    }

    [Test]
    public void Basic_EdgesUnderModes()
    {
        var rng = new Random(82);
        var pairs = Enumerable.Range(0, 80).Select(_ => (Edges[rng.Next(Edges.Length)], Random(rng))).ToList();
        AssertSameAsHost(PairCases(pairs, ControlWords));
    }

    /// <summary>Overflow and underflow with unmasked OE/UE (the result is scaled by 2^∓24576) and unmasked invalid/zero-divide (no result).</summary>
    [Test]
    public void Basic_UnmaskedExceptions()
    {
        var big = F(0x7FF0, 0xC000_0000_0000_0001);
        var tiny = F(0x0010, 0x8000_0000_0000_0003);
        var cases = new List<DiffCase>();
        foreach (var cw in new ushort[] { 0x0377, 0x036F, 0x037E, 0x037B, 0x035F, 0x0360, 0x0F67 })
        {
            foreach (var (x, y) in new[] { (big, big), (tiny, tiny), (F(0x3FFF, 0x8000_0000_0000_0000), F(0, 0)), (Edges[18], Edges[19]), (F(0x3FFF, 0x8000_0000_0000_0001), F(0x3FFE, 0xC000_0000_0000_0001)), (Edges[13], Edges[2]) })
            {
                foreach (var (name, op) in Ops)
                {
                    cases.Add(Case($"{name} {Show(x)} {Show(y)} cw={cw:X4}", a =>
                    {
                        LoadAB(a);
                        op(a);
                        a.fnstenv(__[rbx + Out]);
                    }, Scratch(x, y, cw)));
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void RegisterAndPopForms()
    {
        var x = F(0x4001, 0xA000_0000_0000_0000);
        var y = F(0x3FFF, 0xC000_0000_0000_0000);
        var forms = new (string, Action<Assembler>)[]
        {
            ("fadd st0,st2", a => a.fadd(st0, st2)), ("fadd st2,st0", a => a.fadd(st2, st0)), ("faddp st2", a => a.faddp(st2, st0)),
            ("fsub st0,st2", a => a.fsub(st0, st2)), ("fsub st2,st0", a => a.fsub(st2, st0)), ("fsubp st2", a => a.fsubp(st2, st0)),
            ("fsubr st0,st2", a => a.fsubr(st0, st2)), ("fsubr st2,st0", a => a.fsubr(st2, st0)), ("fsubrp st2", a => a.fsubrp(st2, st0)),
            ("fmul st0,st2", a => a.fmul(st0, st2)), ("fmul st2,st0", a => a.fmul(st2, st0)), ("fmulp st2", a => a.fmulp(st2, st0)),
            ("fdiv st0,st2", a => a.fdiv(st0, st2)), ("fdiv st2,st0", a => a.fdiv(st2, st0)), ("fdivp st2", a => a.fdivp(st2, st0)),
            ("fdivr st0,st2", a => a.fdivr(st0, st2)), ("fdivr st2,st0", a => a.fdivr(st2, st0)), ("fdivrp st2", a => a.fdivrp(st2, st0)),
            ("fadd st0,st0", a => a.fadd(st0, st0)), ("fdivrp st1", a => a.fdivrp(st1, st0)),
        };
        var cases = forms.Select(f => Case(f.Item1, a =>
        {
            a.fld1();
            LoadAB(a);
            f.Item2(a);
        }, Scratch(x, y))).ToList();

        // Empty operands: stack underflow (IE, SF, C1=0), masked (indefinite) and unmasked (nothing written).
        foreach (var cw in new ushort[] { 0x037F, 0x037E })
        {
            cases.AddRange(forms.Select(f => Case(f.Item1 + $" underflow cw={cw:X4}", a =>
            {
                a.fldcw(__word_ptr[rbx + CW]);
                a.fld(__tword_ptr[rbx + A]);
                f.Item2(a);
                a.fnstenv(__[rbx + Out]);
            }, Scratch(x, y, cw))));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void MemoryForms()
    {
        var cases = new List<DiffCase>();
        var rng = new Random(83);
        var mems = new (string Name, int Bytes, ulong Value)[]
        {
            ("m32 1.5", 4, 0x3FC0_0000), ("m32 denormal", 4, 0x0000_0001), ("m32 snan", 4, 0x7F80_0001), ("m32 qnan", 4, 0xFFC0_1234),
            ("m32 inf", 4, 0xFF80_0000), ("m32 -0", 4, 0x8000_0000), ("m32 max", 4, 0x7F7F_FFFF),
            ("m64 pi", 8, 0x4009_21FB_5444_2D18), ("m64 denormal", 8, 0x800F_FFFF_FFFF_FFFF), ("m64 snan", 8, 0x7FF0_0000_0000_0001),
            ("m64 qnan", 8, 0xFFF8_0000_0000_1234), ("m64 inf", 8, 0x7FF0_0000_0000_0000), ("m64 0", 8, 0),
            ("m16 -7", 2, 0xFFF9), ("m16 min", 2, 0x8000), ("m16 0", 2, 0), ("m32int 123456789", 4, 123456789), ("m32int min", 4, 0x8000_0000),
        };
        var ops = new (string Name, Action<Assembler, int, AssemblerMemoryOperand> Op)[]
        {
            ("add", (a, n, m) => { if (n == 2) { a.fiadd(__word_ptr[m]); } else if (n == 4) { a.fadd(__dword_ptr[m]); } else { a.fadd(__qword_ptr[m]); } }),
            ("sub", (a, n, m) => { if (n == 2) { a.fisub(__word_ptr[m]); } else if (n == 4) { a.fsub(__dword_ptr[m]); } else { a.fsub(__qword_ptr[m]); } }),
            ("subr", (a, n, m) => { if (n == 2) { a.fisubr(__word_ptr[m]); } else if (n == 4) { a.fsubr(__dword_ptr[m]); } else { a.fsubr(__qword_ptr[m]); } }),
            ("mul", (a, n, m) => { if (n == 2) { a.fimul(__word_ptr[m]); } else if (n == 4) { a.fmul(__dword_ptr[m]); } else { a.fmul(__qword_ptr[m]); } }),
            ("div", (a, n, m) => { if (n == 2) { a.fidiv(__word_ptr[m]); } else if (n == 4) { a.fdiv(__dword_ptr[m]); } else { a.fdiv(__qword_ptr[m]); } }),
            ("divr", (a, n, m) => { if (n == 2) { a.fidivr(__word_ptr[m]); } else if (n == 4) { a.fdivr(__dword_ptr[m]); } else { a.fdivr(__qword_ptr[m]); } }),
            ("iadd32", (a, n, m) => a.fiadd(__dword_ptr[m])),
            ("isub32", (a, n, m) => a.fisub(__dword_ptr[m])),
            ("isubr32", (a, n, m) => a.fisubr(__dword_ptr[m])),
            ("imul32", (a, n, m) => a.fimul(__dword_ptr[m])),
            ("idiv32", (a, n, m) => a.fidiv(__dword_ptr[m])),
            ("idivr32", (a, n, m) => a.fidivr(__dword_ptr[m])),
        };
        var sts = new[] { F(0x4000, 0xD555_5555_5555_5555), F(0x7FFF, 0xC000_0000_0000_0001), F(0x0000, 0x0000_0000_0000_0010), F(0x8000, 0) };
        foreach (var (mName, bytes, value) in mems)
        {
            foreach (var (oName, op) in ops)
            {
                if (oName.EndsWith("32", StringComparison.Ordinal) != mName.StartsWith("m32int", StringComparison.Ordinal))
                {
                    continue;
                }

                foreach (var st in sts)
                {
                    cases.Add(Case($"f{oName} {mName} st0={Show(st)}", a =>
                    {
                        LoadAB(a);
                        op(a, mName.StartsWith("m32int", StringComparison.Ordinal) ? 0 : bytes, rbx + M);
                    }, Scratch(st, F(0, 0), mem: value, memBytes: bytes)));
                }
            }
        }

        // Every addressing form on one operation.
        foreach (var mode in CaseKit.MemoryModes)
        {
            var s = CaseKit.PatternScratch(0x800);
            CaseKit.Store(s, mode.Offset, 8, 0x4009_21FB_5444_2D18);
            var g = CaseKit.BackgroundGpr();
            mode.Apply(g);
            cases.Add(new DiffCase
            {
                Name = $"fmul qword {mode}",
                Code = a =>
                {
                    a.fld1();
                    a.AddInstruction(Instruction.Create(Code.Fmul_m64fp, mode.Operand));
                },
                Gpr = g,
                Scratch = s,
            });
        }

        _ = rng;
        AssertSameAsHost(cases);
    }

    [Test]
    public void Sqrt()
    {
        var rng = new Random(84);
        var values = Edges.Concat(Enumerable.Range(0, 100).Select(_ => Random(rng))).Concat(Enumerable.Range(0, 40).Select(_ => RoundingProbe(rng)));
        var cases = new List<DiffCase>();
        foreach (var v in values)
        {
            foreach (var cw in new ushort[] { 0x037F, 0x077F, 0x0B7F, 0x0F7F, 0x027F, 0x007F, 0x0A7F })
            {
                cases.Add(Case($"fsqrt {Show(v)} cw={cw:X4}", a =>
                {
                    LoadAB(a);
                    a.fsqrt();
                }, Scratch(v, F(0, 0), cw)));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void ChsAbsRndint()
    {
        var rng = new Random(85);
        var values = Edges.Concat(Enumerable.Range(0, 60).Select(_ => Random(rng)))
            .Concat([F(0x3FFE, 0x8000_0000_0000_0000), F(0xBFFE, 0x8000_0000_0000_0000), F(0x3FFF, 0xC000_0000_0000_0000), F(0x4000, 0xA000_0000_0000_0000), F(0x403D, 0xFFFF_FFFF_FFFF_FFFF), F(0x403E, 0x8000_0000_0000_0001), F(0x3FFD, 0xFFFF_FFFF_FFFF_FFFF)]);
        var cases = new List<DiffCase>();
        foreach (var v in values)
        {
            cases.Add(Case($"fchs {Show(v)}", a => { LoadAB(a); a.fchs(); }, Scratch(v, F(0, 0))));
            cases.Add(Case($"fabs {Show(v)}", a => { LoadAB(a); a.fabs(); }, Scratch(v, F(0, 0))));
            foreach (var cw in RoundingModes)
            {
                cases.Add(Case($"frndint {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.frndint(); }, Scratch(v, F(0, 0), cw)));
            }
        }

        cases.Add(Case("fchs empty", a => a.fchs(), Scratch(F(0, 0), F(0, 0))));
        cases.Add(Case("fabs empty", a => a.fabs(), Scratch(F(0, 0), F(0, 0))));
        AssertSameAsHost(cases);
    }

    [Test]
    public void PremScaleXtract()
    {
        var rng = new Random(86);
        var pairs = Edges.SelectMany(x => new[] { (x, F(0x4000, 0xC90F_DAA2_2168_C235)), (F(0x4010, 0xF123_4567_89AB_CDEF), x), (x, x) })
            .Concat(Enumerable.Range(0, 150).Select(_ => (Random(rng), Random(rng))))
            .Concat(Enumerable.Range(0, 60).Select(_ => (F((ushort)(0x3FFF + rng.Next(0, 200)), (ulong)rng.NextInt64() | (1UL << 63)), F((ushort)(0x3FFF - rng.Next(0, 40)), (ulong)rng.NextInt64() | (1UL << 63)))))
            .ToList();
        var cases = new List<DiffCase>();
        foreach (var (x, y) in pairs)
        {
            cases.Add(Case($"fprem {Show(x)} {Show(y)}", a => { LoadAB(a); a.fprem(); }, Scratch(x, y)));
            cases.Add(Case($"fprem1 {Show(x)} {Show(y)}", a => { LoadAB(a); a.fprem1(); }, Scratch(x, y)));
            cases.Add(Case($"fscale {Show(x)} {Show(y)}", a => { LoadAB(a); a.fscale(); }, Scratch(x, y)));
        }

        foreach (var x in Edges.Concat(Enumerable.Range(0, 30).Select(_ => Random(rng))))
        {
            cases.Add(Case($"fxtract {Show(x)}", a => { LoadAB(a); a.fxtract(); }, Scratch(x, F(0x3FFF, 1UL << 63))));
        }

        // fscale by exponents that overflow and underflow, in every rounding mode.
        foreach (var cw in RoundingModes)
        {
            foreach (var n in new long[] { 16383, 16384, -16382, -16400, -16445, -16446, -20000, 40000, 64, -64 })
            {
                var x = F(0x3FFF, 0xFFFF_FFFF_FFFF_FFFF);
                cases.Add(Case($"fscale by {n} cw={cw:X4}", a =>
                {
                    a.fldcw(__word_ptr[rbx + CW]);
                    a.fild(__qword_ptr[rbx + M]);
                    a.fld(__tword_ptr[rbx + A]);
                    a.fscale();
                }, Scratch(x, default, cw, (ulong)n)));
            }
        }

        cases.Add(Case("fprem loop to completion", a =>
        {
            LoadAB(a);
            var again = a.CreateLabel();
            a.Label(ref again);
            a.fprem();
            a.fnstsw(ax);
            a.test(ah, 4);
            a.jnz(again);
        }, Scratch(F(0x7FF0, 0xC90F_DAA2_2168_C235), F(0x3FFF, 0xB000_0000_0000_0001))));
        AssertSameAsHost(cases);
    }
}
