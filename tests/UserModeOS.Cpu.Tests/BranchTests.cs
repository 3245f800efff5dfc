using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class BranchTests
{
    /// <summary>For cases that end with XOR, after which AF is undefined.</summary>
    private const ulong NoAf = ArithmeticFlags & ~0x10UL;

    /// <summary>A branch that records in R10 whether it was taken (1) or fell through (2).</summary>
    private static Action<Assembler> Taken(Action<Assembler, Label> branch) => a =>
    {
        var yes = a.CreateLabel();
        var done = a.CreateLabel();
        branch(a, yes);
        a.mov(r10d, 2);
        a.jmp(done);
        a.Label(ref yes);
        a.mov(r10d, 1);
        a.Label(ref done);
    };

    [Test]
    public void Jrcxz_Jecxz_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var rcx in new ulong[] { 0, 1, 0x1_0000_0000, 0xFFFF_FFFF_0000_0000, ulong.MaxValue })
        {
            cases.Add(Cases.Make($"jrcxz {rcx:X}", Taken((a, l) => a.jrcxz(l)), regs: (Reg.Rcx, rcx)));

            // 67 E3: JECXZ tests only ECX.
            // (The assembler refuses JECXZ in 64-bit mode: jecxz +8; mov r10d,2; jmp +6; mov r10d,1.)
            cases.Add(Cases.Make($"jecxz {rcx:X}", a => a.db([0x67, 0xE3, 0x08, 0x41, 0xBA, 2, 0, 0, 0, 0xEB, 0x06, 0x41, 0xBA, 1, 0, 0, 0]), regs: (Reg.Rcx, rcx)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Loop_Loope_Loopne_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var count in new ulong[] { 1, 2, 5, 9 })
        {
            cases.Add(Cases.Make($"loop {count:X}", a =>
            {
                var top = a.CreateLabel();
                a.xor(eax, eax);
                a.Label(ref top);
                a.inc(eax);
                a.cmp(eax, 7);
                a.loop(top);
            }, regs: (Reg.Rcx, count)));

            // LOOPE stops on the first mismatch, LOOPNE on the first match (scratch bytes drive ZF).
            cases.Add(Cases.Make($"loope {count:X}", a =>
            {
                var top = a.CreateLabel();
                a.mov(rsi, rbx);
                a.Label(ref top);
                a.inc(rsi);
                a.cmp(__byte_ptr[rsi], 0);
                a.loope(top);
            }, scratch: [0, 0, 0, 0, 1, 0, 0], regs: (Reg.Rcx, count)));
            cases.Add(Cases.Make($"loopne {count:X}", a =>
            {
                var top = a.CreateLabel();
                a.mov(rsi, rbx);
                a.Label(ref top);
                a.inc(rsi);
                a.cmp(__byte_ptr[rsi], 9);
                a.loopne(top);
            }, scratch: [1, 2, 3, 9, 1], regs: (Reg.Rcx, count)));
        }

        // 67 E2: LOOP on ECX (RCX's upper half is cleared by the 32-bit write).
        cases.Add(Cases.Make("loop ecx", a =>
        {
            var top = a.CreateLabel();
            a.xor(eax, eax);
            a.Label(ref top);
            a.inc(eax);
            a.db(0x67, 0xE2, 0xFB);
        }, regs: (Reg.Rcx, 0x5_0000_0003)));
        cases.Add(Cases.Make("loop rcx=0 wraps once", a =>
        {
            var top = a.CreateLabel();
            var done = a.CreateLabel();
            a.Label(ref top);
            a.inc(eax);
            a.cmp(eax, 3);
            a.je(done);
            a.loop(top);
            a.Label(ref done);
        }, regs: [(Reg.Rcx, 0), (Reg.Rax, 0)]));
        AssertSameAsHost(cases);
    }

    [Test]
    public void JmpCallRet_AllForms_MatchHost()
    {
        AssertSameAsHost([
            Cases.Make("call/ret", a =>
            {
                var f = a.CreateLabel();
                var done = a.CreateLabel();
                a.call(f);
                a.jmp(done);
                a.Label(ref f);
                a.mov(rax, __qword_ptr[rsp]);
                a.mov(ecx, 7);
                a.ret();
                a.Label(ref done);
                a.sub(rax, rsp);
            }),
            Cases.Make("call r/ret imm16", a =>
            {
                var f = a.CreateLabel();
                var done = a.CreateLabel();
                a.lea(rdx, __[f]);
                a.push(1);
                a.push(2);
                a.call(rdx);
                a.jmp(done);
                a.Label(ref f);
                a.ret(16);
                a.Label(ref done);
            }),
            Cases.Make("call m/jmp r/jmp m", a =>
            {
                var f = a.CreateLabel();
                var g = a.CreateLabel();
                var done = a.CreateLabel();
                a.lea(rdx, __[f]);
                a.mov(__qword_ptr[rbx], rdx);
                a.call(__qword_ptr[rbx]);
                a.lea(rdx, __[g]);
                a.mov(__qword_ptr[rbx + 8], rdx);
                a.jmp(__qword_ptr[rbx + 8]);
                a.Label(ref f);
                a.inc(r11);
                a.ret();
                a.Label(ref g);
                a.lea(rdx, __[done]);
                a.jmp(rdx);
                a.ud2();
                a.Label(ref done);
                a.xor(edx, edx);
                a.mov(__qword_ptr[rbx], rdx);
                a.mov(__qword_ptr[rbx + 8], rdx);
            }, flagsMask: NoAf),
            Cases.Make("call rsp-relative memory", a =>
            {
                var f = a.CreateLabel();
                var done = a.CreateLabel();
                a.lea(rdx, __[f]);
                a.push(rdx);
                a.call(__qword_ptr[rsp]);
                a.pop(rdx);
                a.jmp(done);
                a.Label(ref f);
                a.inc(r11);
                a.ret();
                a.Label(ref done);
                a.xor(edx, edx);
            }, flagsMask: NoAf),
        ]);
    }
}
