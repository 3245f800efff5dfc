using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;
using static UserModeOS.Cpu.Tests.X87Kit;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class X87MoveTests
{
    private static readonly uint[] Singles =
    [
        0x0000_0000, 0x8000_0000, 0x3F80_0000, 0xC040_0000, 0x0000_0001, 0x807F_FFFF, 0x0080_0000, 0x7F7F_FFFF,
        0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0xFFC1_2345, 0x7FA0_0001, 0xFF80_0001, 0x3EAA_AAAB,
    ];

    private static readonly ulong[] Doubles =
    [
        0, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0x4009_21FB_5444_2D18, 0x0000_0000_0000_0001, 0x800F_FFFF_FFFF_FFFF,
        0x0010_0000_0000_0000, 0x7FEF_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0000, 0xFFF0_0000_0000_0000, 0x7FF8_0000_0000_0000,
        0xFFF8_1234_5678_9ABC, 0x7FF4_0000_0000_0001, 0xFFF0_0000_0000_0001, 0x3FD5_5555_5555_5555,
    ];

    [Test]
    public void LoadFloat()
    {
        var cases = new List<DiffCase>();
        foreach (var cw in new ushort[] { 0x037F, 0x037E, 0x037D })
        {
            foreach (var s in Singles)
            {
                cases.Add(Case($"fld m32 {s:X8} cw={cw:X4}", a => { a.fldcw(__word_ptr[rbx + CW]); a.fld(__dword_ptr[rbx + M]); }, Scratch(default, default, cw, s, 4)));
            }

            foreach (var d in Doubles)
            {
                cases.Add(Case($"fld m64 {d:X16} cw={cw:X4}", a => { a.fldcw(__word_ptr[rbx + CW]); a.fld(__qword_ptr[rbx + M]); }, Scratch(default, default, cw, d)));
            }
        }

        foreach (var v in Edges)
        {
            cases.Add(Case($"fld m80 {Show(v)}", a => a.fld(__tword_ptr[rbx + A]), Scratch(v, default)));
            cases.Add(Case($"fld st1 {Show(v)}", a => { a.fld(__tword_ptr[rbx + A]); a.fldz(); a.fld(st1); }, Scratch(v, default)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void StoreFloat()
    {
        var rng = new Random(90);
        var values = Edges.Concat(Enumerable.Range(0, 80).Select(_ => Random(rng))).Concat(Enumerable.Range(0, 40).Select(_ => RoundingProbe(rng)))
            .Concat([F(0x407E, 0xFFFF_FF80_0000_0000), F(0x407E, 0xFFFF_FF7F_FFFF_FFFF), F(0x3F81, 0xFFFF_FF80_0000_0000), F(0x3F80, 0xFFFF_FF00_0000_0000), F(0x3F6A, 0x8000_0000_0000_0000), F(0x3F69, 0x8000_0000_0000_0001),
                F(0x43FE, 0xFFFF_FFFF_FFFF_FC00), F(0x3C01, 0xFFFF_FFFF_FFFF_FC00), F(0x3BCD, 0x8000_0000_0000_0000), F(0x3BCC, 0xC000_0000_0000_0000)]);
        var cases = new List<DiffCase>();
        foreach (var v in values)
        {
            foreach (var cw in new ushort[] { 0x037F, 0x077F, 0x0B7F, 0x0F7F })
            {
                cases.Add(Case($"fst m32 {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fst(__dword_ptr[rbx + Out]); }, Scratch(v, default, cw)));
                cases.Add(Case($"fstp m64 {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fstp(__qword_ptr[rbx + Out]); }, Scratch(v, default, cw)));
            }

            cases.Add(Case($"fstp m80 {Show(v)}", a => { LoadAB(a); a.fstp(__tword_ptr[rbx + Out]); }, Scratch(v, default)));
            cases.Add(Case($"fst st2 {Show(v)}", a => { LoadAB(a); a.fst(st2); }, Scratch(v, default)));
            cases.Add(Case($"fstp st1 {Show(v)}", a => { LoadAB(a); a.fstp(st1); }, Scratch(v, default)));
        }

        // Unmasked overflow, underflow and invalid: nothing is stored and nothing popped.
        foreach (var cw in new ushort[] { 0x0377, 0x036F, 0x037E, 0x035F })
        {
            foreach (var v in new[] { F(0x7FF0, 0x8000_0000_0000_0000), F(0x0100, 0x8000_0000_0000_0000), F(0x7FFF, 0x8000_0000_0000_0001), F(0x3FFF, 0xC000_0000_0000_0001) })
            {
                cases.Add(Case($"fstp m64 {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fstp(__qword_ptr[rbx + Out]); a.fnstenv(__[rbx + Out + 0x10]); }, Scratch(v, default, cw)));
                cases.Add(Case($"fstp m32 {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fstp(__dword_ptr[rbx + Out]); a.fnstenv(__[rbx + Out + 0x10]); }, Scratch(v, default, cw)));
            }
        }

        // Underflow of an empty stack.
        cases.Add(Case("fst m32 empty", a => a.fst(__dword_ptr[rbx + Out]), Scratch(default, default)));
        cases.Add(Case("fstp m64 empty", a => a.fstp(__qword_ptr[rbx + Out]), Scratch(default, default)));
        cases.Add(Case("fstp m80 empty", a => a.fstp(__tword_ptr[rbx + Out]), Scratch(default, default)));
        cases.Add(Case("fstp st3 empty", a => a.fstp(st3), Scratch(default, default)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void IntegerLoadsAndStores()
    {
        var rng = new Random(91);
        var cases = new List<DiffCase>();
        foreach (var v in new ulong[] { 0, 1, 0xFFFF, 0x8000, 0x7FFF, 0x8000_0000, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0x1234_5678_9ABC_DEF0 })
        {
            cases.Add(Case($"fild m16 {v:X}", a => a.fild(__word_ptr[rbx + M]), Scratch(default, default, mem: v)));
            cases.Add(Case($"fild m32 {v:X}", a => a.fild(__dword_ptr[rbx + M]), Scratch(default, default, mem: v)));
            cases.Add(Case($"fild m64 {v:X}", a => a.fild(__qword_ptr[rbx + M]), Scratch(default, default, mem: v)));
        }

        var values = Edges.Concat(Enumerable.Range(0, 40).Select(_ => Random(rng)))
            .Concat([F(0x400D, 0xFFFE_0000_0000_0000), F(0x400D, 0xFFFF_0000_0000_0000), F(0xC00E, 0x8000_0000_0000_0000), F(0xC00E, 0x8000_8000_0000_0000), F(0x400D, 0xFFFF_8000_0000_0000),
                F(0x401D, 0xFFFF_FFFF_0000_0000), F(0xC01E, 0x8000_0000_0000_0000), F(0x401E, 0x8000_0000_0000_0000), F(0x403D, 0xFFFF_FFFF_FFFF_FFFF), F(0xC03E, 0x8000_0000_0000_0000),
                F(0x403E, 0x8000_0000_0000_0000), F(0x3FFE, 0x8000_0000_0000_0000), F(0xBFFE, 0x8000_0000_0000_0001), F(0x3FFF, 0xC000_0000_0000_0000), F(0x4000, 0xA000_0000_0000_0000), F(0x3FFD, 0x8000_0000_0000_0000)]);
        foreach (var v in values)
        {
            foreach (var cw in RoundingModes)
            {
                cases.Add(Case($"fist m16 {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fist(__word_ptr[rbx + Out]); }, Scratch(v, default, cw)));
                cases.Add(Case($"fistp m32 {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fistp(__dword_ptr[rbx + Out]); }, Scratch(v, default, cw)));
                cases.Add(Case($"fistp m64 {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fistp(__qword_ptr[rbx + Out]); }, Scratch(v, default, cw)));
            }

            cases.Add(Case($"fisttp m16 {Show(v)}", a => { LoadAB(a); a.fisttp(__word_ptr[rbx + Out]); }, Scratch(v, default)));
            cases.Add(Case($"fisttp m32 {Show(v)}", a => { LoadAB(a); a.fisttp(__dword_ptr[rbx + Out]); }, Scratch(v, default)));
            cases.Add(Case($"fisttp m64 {Show(v)}", a => { LoadAB(a); a.fisttp(__qword_ptr[rbx + Out]); }, Scratch(v, default)));
        }

        cases.Add(Case("fistp m32 empty", a => a.fistp(__dword_ptr[rbx + Out]), Scratch(default, default)));
        cases.Add(Case("fist m16 unmasked invalid", a => { LoadAB(a); a.fist(__word_ptr[rbx + Out]); a.fnstenv(__[rbx + Out + 0x10]); }, Scratch(F(0x7FFF, 0xC000_0000_0000_0000), default, 0x037E)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Bcd()
    {
        var rng = new Random(92);
        var cases = new List<DiffCase>();
        foreach (var (lo, hi) in new (ulong, ulong)[] { (0, 0), (0x1234_5678_9012_3456, 0x78), (0x9999_9999_9999_9999, 0x8099), (0, 0x8000), (0x0000_0000_0000_0001, 0), (0x1A2B_3C4D_5E6F_7F8F, 0x9F) })
        {
            var s = Scratch(default, default);
            CaseKit.Store(s, M, 8, lo);
            CaseKit.Store(s, M + 8, 2, hi);
            cases.Add(Case($"fbld {hi:X4}{lo:X16}", a => a.fbld(__tword_ptr[rbx + M]), s));
        }

        var values = Edges.Concat(Enumerable.Range(0, 30).Select(_ => Random(rng)))
            .Concat([F(0x4039, 0xDE0B_6B3A_763F_FFF0), F(0x4039, 0xDE0B_6B3A_7640_0000), F(0xC039, 0xDE0B_6B3A_763F_FFF0), F(0x4039, 0xDE0B_6B3A_763F_FFF8), F(0x4039, 0xDE0B_6B3A_763F_FFFC), F(0x4030, 0x8765_4321_0000_0001), F(0x3FFE, 0xC000_0000_0000_0000)]);
        foreach (var v in values)
        {
            foreach (var cw in RoundingModes)
            {
                cases.Add(Case($"fbstp {Show(v)} cw={cw:X4}", a => { LoadAB(a); a.fbstp(__tword_ptr[rbx + Out]); }, Scratch(v, default, cw)));
            }
        }

        cases.Add(Case("fbstp empty", a => a.fbstp(__tword_ptr[rbx + Out]), Scratch(default, default)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Constants()
    {
        var loads = new (string, Action<Assembler>)[]
        {
            ("fld1", a => a.fld1()), ("fldz", a => a.fldz()), ("fldpi", a => a.fldpi()), ("fldl2e", a => a.fldl2e()),
            ("fldl2t", a => a.fldl2t()), ("fldlg2", a => a.fldlg2()), ("fldln2", a => a.fldln2()),
        };
        var cases = new List<DiffCase>();
        foreach (var (name, load) in loads)
        {
            foreach (var cw in ControlWords)
            {
                cases.Add(Case($"{name} cw={cw:X4}", a => { a.fldcw(__word_ptr[rbx + CW]); load(a); }, Scratch(default, default, cw)));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void StackOverflowAndUnderflow()
    {
        var cases = new List<DiffCase>();
        foreach (var cw in new ushort[] { 0x037F, 0x037E })
        {
            cases.Add(Case($"nine pushes cw={cw:X4}", a =>
            {
                a.fldcw(__word_ptr[rbx + CW]);
                for (var i = 0; i < 9; i++)
                {
                    a.fld(__tword_ptr[rbx + A]);
                }

                a.fnstenv(__[rbx + Out]);
            }, Scratch(F(0x4000, 0xC000_0000_0000_0000), default, cw)));
            cases.Add(Case($"fild on a full stack cw={cw:X4}", a =>
            {
                a.fldcw(__word_ptr[rbx + CW]);
                a.fdecstp();
                a.fld(__tword_ptr[rbx + A]);
                a.fincstp();
                a.fincstp();
                a.fild(__word_ptr[rbx + M]);
            }, Scratch(F(0x4000, 0xC000_0000_0000_0000), default, cw, 7)));
            cases.Add(Case($"fld st3 of empty cw={cw:X4}", a => { a.fldcw(__word_ptr[rbx + CW]); a.fld(st3); }, Scratch(default, default, cw)));
            cases.Add(Case($"fxch empty cw={cw:X4}", a => { a.fldcw(__word_ptr[rbx + CW]); a.fld1(); a.fxch(st0, st3); }, Scratch(default, default, cw)));
            cases.Add(Case($"fldpi full cw={cw:X4}", a =>
            {
                a.fldcw(__word_ptr[rbx + CW]);
                for (var i = 0; i < 8; i++)
                {
                    a.fldz();
                }

                a.fldpi();
            }, Scratch(default, default, cw)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void ExchangeFreeAndTop()
    {
        var x = F(0x4000, 0xC000_0000_0000_0000);
        var y = F(0xBFFE, 0x8000_0000_0000_0000);
        AssertSameAsHost([
            Case("fxch st1", a => { LoadAB(a); a.fxch(st0, st1); }, Scratch(x, y)),
            Case("fxch st0", a => { LoadAB(a); a.fxch(st0, st0); }, Scratch(x, y)),
            Case("fxch st7", a => { LoadAB(a); a.fxch(st0, st7); }, Scratch(x, y)),
            Case("ffree st1", a => { LoadAB(a); a.ffree(st1); }, Scratch(x, y)),
            Case("ffreep st0", a => { LoadAB(a); a.ffreep(st0); }, Scratch(x, y)),
            Case("fincstp", a => { LoadAB(a); a.fincstp(); }, Scratch(x, y)),
            Case("fdecstp x3", a => { LoadAB(a); a.fdecstp(); a.fdecstp(); a.fdecstp(); }, Scratch(x, y)),
            Case("fnop", a => { LoadAB(a); a.fnop(); }, Scratch(x, y)),
            Case("fstp st0", a => { LoadAB(a); a.fstp(st0); }, Scratch(x, y)),
        ]);
    }

    [Test]
    public void ConditionalMoves()
    {
        var x = F(0x4000, 0xC000_0000_0000_0000);
        var y = F(0xBFFE, 0x8000_0000_0000_0000);
        var moves = new (string, Action<Assembler>)[]
        {
            ("fcmovb", a => a.fcmovb(st0, st1)), ("fcmovnb", a => a.fcmovnb(st0, st1)), ("fcmove", a => a.fcmove(st0, st1)), ("fcmovne", a => a.fcmovne(st0, st1)),
            ("fcmovbe", a => a.fcmovbe(st0, st1)), ("fcmovnbe", a => a.fcmovnbe(st0, st1)), ("fcmovu", a => a.fcmovu(st0, st1)), ("fcmovnu", a => a.fcmovnu(st0, st1)),
        };
        var cases = new List<DiffCase>();
        foreach (var (name, mov) in moves)
        {
            foreach (var flags in new ulong[] { 0, 0x1, 0x40, 0x4, 0x45 })
            {
                cases.Add(Case($"{name} flags={flags:X}", a => { LoadAB(a); mov(a); }, Scratch(x, y), flags));
            }

            cases.Add(Case($"{name} empty", a => { a.fld1(); mov(a); a.fnstenv(__[rbx + Out]); }, Scratch(x, y), 0x45));
            cases.Add(Case($"{name} empty false", a => { a.fld1(); mov(a); a.fnstenv(__[rbx + Out]); }, Scratch(x, y), 0));
        }

        AssertSameAsHost(cases);
    }
}
