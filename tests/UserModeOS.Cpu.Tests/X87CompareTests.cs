using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;
using static UserModeOS.Cpu.Tests.X87Kit;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class X87CompareTests
{
    [Test]
    public void RegisterCompares()
    {
        var forms = new (string, Action<Assembler>)[]
        {
            ("fcom st1", a => a.fcom(st0, st1)), ("fcomp st1", a => a.fcomp(st0, st1)), ("fcompp", a => a.fcompp()),
            ("fucom st1", a => a.fucom(st0, st1)), ("fucomp st1", a => a.fucomp(st0, st1)), ("fucompp", a => a.fucompp()),
            ("fcomi st1", a => a.fcomi(st0, st1)), ("fcomip st1", a => a.fcomip(st0, st1)),
            ("fucomi st1", a => a.fucomi(st0, st1)), ("fucomip st1", a => a.fucomip(st0, st1)),
        };
        var cases = new List<DiffCase>();
        var values = Edges.Where((_, i) => i % 2 == 0 || i > 16).ToArray();
        foreach (var x in values)
        {
            foreach (var y in values)
            {
                foreach (var (name, op) in forms)
                {
                    cases.Add(Case($"{name} {Show(x)} {Show(y)}", a => { LoadAB(a); op(a); }, Scratch(x, y), CaseKit.Mask(12) & 0x8D5, 0x8D5));
                }
            }
        }

        foreach (var (name, op) in forms)
        {
            cases.Add(Case($"{name} empty", a => { a.fld1(); op(a); a.fnstenv(__[rbx + Out]); }, Scratch(default, default)));
            cases.Add(Case($"{name} empty unmasked", a => { a.fldcw(__word_ptr[rbx + CW]); a.fld1(); op(a); a.fnstenv(__[rbx + Out]); }, Scratch(default, default, 0x037E)));
            cases.Add(Case($"{name} snan unmasked", a => { LoadAB(a); op(a); a.fnstenv(__[rbx + Out]); }, Scratch(F(0x7FFF, 0x8000_0000_0000_0001), F(0, 0), 0x037E), 0x8D5));
            cases.Add(Case($"{name} qnan unmasked", a => { LoadAB(a); op(a); a.fnstenv(__[rbx + Out]); }, Scratch(F(0x7FFF, 0xC000_0000_0000_0001), F(0, 0), 0x037E), 0x8D5));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void MemoryCompares()
    {
        var mems = new (int Bytes, ulong Value)[] { (4, 0x3F80_0000), (4, 0x7FC0_0000), (4, 0x7F80_0001), (4, 0x0000_0001), (8, 0x3FF0_0000_0000_0000), (8, 0xFFF0_0000_0000_0000), (8, 0x8000_0000_0000_0001), (2, 1), (2, 0x8000), (3, 0x7FFF_FFFF) };
        var cases = new List<DiffCase>();
        foreach (var x in new[] { F(0x3FFF, 0x8000_0000_0000_0000), F(0xBFFF, 0x8000_0000_0000_0000), F(0, 0), F(0x7FFF, 0xC000_0000_0000_0000), F(0x0000, 0x0000_0000_0000_0001), F(0x401D, 0xFFFF_FFFE_0000_0000) })
        {
            foreach (var (bytes, value) in mems)
            {
                foreach (var pop in new[] { false, true })
                {
                    cases.Add(Case($"fcom{(pop ? "p" : "")} m{bytes} {value:X} {Show(x)}", a =>
                    {
                        LoadAB(a);
                        switch (bytes, pop)
                        {
                            case (4, false): a.fcom(__dword_ptr[rbx + M]); break;
                            case (4, true): a.fcomp(__dword_ptr[rbx + M]); break;
                            case (8, false): a.fcom(__qword_ptr[rbx + M]); break;
                            case (8, true): a.fcomp(__qword_ptr[rbx + M]); break;
                            case (2, false): a.ficom(__word_ptr[rbx + M]); break;
                            case (2, true): a.ficomp(__word_ptr[rbx + M]); break;
                            case (_, false): a.ficom(__dword_ptr[rbx + M]); break;
                            default: a.ficomp(__dword_ptr[rbx + M]); break;
                        }
                    }, Scratch(x, default, mem: value, memBytes: bytes == 3 ? 4 : bytes)));
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void TestAndExamine()
    {
        var cases = new List<DiffCase>();
        foreach (var v in Edges)
        {
            cases.Add(Case($"ftst {Show(v)}", a => { LoadAB(a); a.ftst(); }, Scratch(v, default)));
            cases.Add(Case($"fxam {Show(v)}", a => { LoadAB(a); a.fxam(); }, Scratch(v, default)));
        }

        cases.Add(Case("fxam empty", a => a.fxam(), Scratch(default, default)));
        cases.Add(Case("fxam empty negative register", a => { a.fld(__tword_ptr[rbx + A]); a.ffreep(st0); a.fdecstp(); a.fxam(); }, Scratch(F(0xC000, 1UL << 63), default)));
        cases.Add(Case("ftst empty", a => a.ftst(), Scratch(default, default)));
        AssertSameAsHost(cases);
    }
}
