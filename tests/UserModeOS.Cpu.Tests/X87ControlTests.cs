using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;
using static UserModeOS.Cpu.Tests.X87Kit;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class X87ControlTests
{
    [Test]
    public void ControlAndStatusWords()
    {
        var cases = new List<DiffCase>();
        foreach (var cw in new ushort[] { 0x0000, 0xFFFF, 0x037F, 0x1F7F, 0x0C3F, 0x027F, 0x0140 })
        {
            cases.Add(Case($"fldcw {cw:X4} / fnstcw", a => { a.fldcw(__word_ptr[rbx + CW]); a.fnstcw(__word_ptr[rbx + Out]); a.fninit(); }, Scratch(default, default, cw)));
            cases.Add(Case($"fldcw {cw:X4} / fstcw", a => { a.fldcw(__word_ptr[rbx + CW]); a.fstcw(__word_ptr[rbx + Out]); a.fldcw(__word_ptr[rbx + CW + 2]); }, Scratch(default, default, cw)));
        }

        var s = Scratch(F(0x7FFF, 0x8000_0000_0000_0001), F(0, 0));
        cases.Add(Case("fnstsw ax after invalid", a => { LoadAB(a); a.fadd(st0, st1); a.fnstsw(ax); a.fnstsw(__word_ptr[rbx + Out]); }, s));
        cases.Add(Case("fstsw ax", a => { LoadAB(a); a.fadd(st0, st1); a.fstsw(ax); a.fstsw(__word_ptr[rbx + Out]); }, s));
        cases.Add(Case("fnclex", a => { LoadAB(a); a.fadd(st0, st1); a.fld1(); a.fcom(st0, st1); a.fnclex(); a.fnstsw(ax); }, s));
        cases.Add(Case("fclex", a => { LoadAB(a); a.fadd(st0, st1); a.fclex(); }, s));
        cases.Add(Case("fninit", a => { LoadAB(a); a.fadd(st0, st1); a.fninit(); a.fnstenv(__[rbx + Out]); }, s));
        cases.Add(Case("finit", a => { LoadAB(a); a.fadd(st0, st1); a.finit(); a.fnstenv(__[rbx + Out]); }, s));
        cases.Add(Case("fwait", a => { LoadAB(a); a.fadd(st0, st1); a.wait(); }, s));

        // Unmasking a pending exception sets ES and B; FNCLEX clears them.
        cases.Add(Case("fldcw unmasks a pending exception", a =>
        {
            LoadAB(a);
            a.fadd(st0, st1);
            a.fldcw(__word_ptr[rbx + Out + 0x40]);
            a.fnstsw(__word_ptr[rbx + Out]);
            a.fnstenv(__[rbx + Out + 0x10]);
            a.fnclex();
        }, With(s, Out + 0x40, 0x037E)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Cpuid_AdvertisesTheFpu()
    {
        Assert.That(CpuFeatures.Missing(Iced.Intel.CpuidFeature.FPU), Is.Empty);
        Assert.That(CpuFeatures.Query(1, 0).Edx & 1, Is.EqualTo(1u), "CPUID.1:EDX.FPU");

        // The 387 and 287 additions (FSIN, FCOS, FSINCOS, FPREM1, FUCOMPP, 32-bit FNSTENV/FNSAVE, FNSTSW AX, FSETPM) and the
        // P6 ones (FCMOVcc, FCOMI) are all there too, and FISTTP.
        foreach (var code in Enum.GetValues<Iced.Intel.Code>())
        {
            var features = code.CpuidFeatures();
            if (code.ToOpCode().Mode64 && (features.Contains(Iced.Intel.CpuidFeature.FPU387) || features.Contains(Iced.Intel.CpuidFeature.FPU287) || features.Contains(Iced.Intel.CpuidFeature.FPU)))
            {
                Assert.That(UserModeOS.Cpu.Decoding.OpTable.IsImplemented(code), Is.True, code.ToString());
            }
        }
    }

    private static byte[] With(byte[] s, int at, ushort v)
    {
        var c = (byte[])s.Clone();
        CaseKit.Store(c, at, 2, v);
        return c;
    }

    [Test]
    public void EnvironmentAndSave()
    {
        var x = F(0x4000, 0xC000_0000_0000_0000);
        var y = F(0x7FFF, 0x8000_0000_0000_0001);
        var cases = new List<DiffCase>
        {
            Case("fnstenv after arithmetic", a => { LoadAB(a); a.fadd(st0, st1); a.fnstenv(__[rbx + Out]); }, Scratch(x, y)),
            Case("fnstenv after fninit", a => { a.fnstenv(__[rbx + Out]); }, Scratch(x, y)),
            Case("fstenv + fldenv round trip", a =>
            {
                LoadAB(a);
                a.fdiv(__dword_ptr[rbx + M]);
                a.fstenv(__[rbx + Out]);
                a.fninit();
                a.fldenv(__[rbx + Out]);
                a.fnstenv(__[rbx + Out + 0x40]);
            }, Scratch(x, y)),
            Case("fldenv of a prepared environment", a =>
            {
                LoadAB(a);
                a.fnstenv(__[rbx + Out]);
                a.mov(__word_ptr[rbx + Out + 4], 0x4700);
                a.mov(__word_ptr[rbx + Out + 8], 0x1FFF);
                a.mov(__word_ptr[rbx + Out], 0x0F7F);
                a.fldenv(__[rbx + Out]);
                a.fnstenv(__[rbx + Out + 0x40]);
            }, Scratch(x, y)),
            Case("fnsave + frstor", a =>
            {
                LoadAB(a);
                a.fldpi();
                a.fadd(st0, st2);
                a.fnsave(__[rbx + Out]);
                a.fld1();
                a.frstor(__[rbx + Out]);
                a.fsave(__[rbx + Out + 0x80]);
                a.frstor(__[rbx + Out + 0x80]);
            }, Scratch(x, y)),
            Case("frstor of a modified image", a =>
            {
                LoadAB(a);
                a.fnsave(__[rbx + Out]);
                a.mov(__dword_ptr[rbx + Out + 28], 0x1234);
                a.mov(__word_ptr[rbx + Out + 4], 0x2000);
                a.frstor(__[rbx + Out]);
            }, Scratch(x, y)),
            Case("fxsave64 with a pending exception", a =>
            {
                a.fldcw(__word_ptr[rbx + CW]);
                a.fld(__tword_ptr[rbx + A]);
                a.fdiv(__qword_ptr[rbx + M]);
                a.fxsave64(__[rbx + 0x200]);
                a.mov(__dword_ptr[rbx + 0x200 + 28], 0);
                a.fnstenv(__[rbx + Out]);
                a.fninit();
            }, Scratch(x, y, 0x037B)),
            Case("16-bit fnstenv, fldenv, fnsave, frstor", a =>
            {
                LoadAB(a);
                a.fadd(__dword_ptr[rbx + M]);
                a.AddInstruction(Instruction.Create(Code.Fnstenv_m14byte, new MemoryOperand(Register.RBX, Out)));
                a.AddInstruction(Instruction.Create(Code.Fldenv_m14byte, new MemoryOperand(Register.RBX, Out)));
                a.AddInstruction(Instruction.Create(Code.Fnsave_m94byte, new MemoryOperand(Register.RBX, Out + 0x20)));
                a.AddInstruction(Instruction.Create(Code.Frstor_m94byte, new MemoryOperand(Register.RBX, Out + 0x20)));
            }, Scratch(x, y)),
            Case("fxrstor64 x87 state", a =>
            {
                LoadAB(a);
                a.fldpi();
                a.fxsave64(__[rbx + 0x200]);
                a.mov(__dword_ptr[rbx + 0x200 + 28], 0);
                a.fninit();
                a.fxrstor64(__[rbx + 0x200]);
            }, Scratch(x, y)),
        };
        AssertSameAsHost(cases);
    }
}
