using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class StackTests
{
    [Test]
    public void PushPop_AllForms_MatchHost()
    {
        var scratch = Cases.ScratchWith(0x1111_2222_3333_4444, 0x5555_6666_7777_8888);
        AssertSameAsHost([
            Cases.Make("push/pop r64", a => { a.push(rcx); a.push(r12); a.pop(rdx); a.pop(r13); }),
            Cases.Make("push/pop r16", a => { a.push(cx); a.push(r9w); a.pop(dx); a.pop(si); }),
            Cases.Make("push imm8/imm32", a => { a.push(-5); a.push(0x1234_5678); a.pop(rax); a.pop(rcx); }),
            Cases.Make("push imm16 (66)", a => { a.db(0x66, 0x68, 0x34, 0x12); a.pop(ax); }),
            Cases.Make("push m64/pop m64", a => { a.push(__qword_ptr[rbx]); a.pop(__qword_ptr[rbx + 16]); }, scratch: scratch),
            Cases.Make("push m16/pop m16", a => { a.push(__word_ptr[rbx + 8]); a.pop(__word_ptr[rbx + 3]); }, scratch: scratch),
            Cases.Make("push rsp", a => { a.push(rsp); a.pop(rax); a.sub(rax, rsp); }),
            Cases.Make("pop rsp", a => { a.push(rsp); a.pop(rsp); }),
            Cases.Make("pop [rsp+8] uses the incremented rsp", a =>
            {
                a.push(rcx);
                a.push(rdx);
                a.pop(__qword_ptr[rsp + 0]);
                a.pop(rsi);
            }),
        ]);
    }

    [Test]
    public void Leave_BothSizes_MatchHost()
    {
        AssertSameAsHost([
            Cases.Make("leave", a =>
            {
                a.push(rbp);
                a.mov(rbp, rsp);
                a.sub(rsp, 64);
                a.leave();
            }),
            Cases.Make("leave 16", a =>
            {
                a.push(rbp);
                a.mov(rbp, rsp);
                a.sub(rsp, 32);
                a.db(0x66, 0xC9);
                a.pop(cx);
                a.pop(dx);
                a.pop(si);
            }),
        ]);
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(5)]
    [TestCase(33)]
    public void Enter_NestingLevels_MatchHost(int level)
    {
        AssertSameAsHost([
            Cases.Make($"enter 24,{level}", a =>
            {
                // RBP points into the scratch page so the copied outer frame pointers are known data.
                a.mov(rbp, ScratchAddress + 0x100);
                a.enter(24, (byte)level);

                // Read the new frame back into registers (the stack itself is not compared).
                a.mov(rax, __qword_ptr[rbp]);
                a.mov(rcx, __qword_ptr[rbp - 8]);
                a.mov(rdx, __qword_ptr[rbp - 16]);
                a.mov(rsi, __qword_ptr[rbp - 24]);
                a.mov(rdi, __qword_ptr[rbp - 32]);
                a.mov(r8, rbp);
                a.sub(r8, rsp);
                a.leave();
            }),
            Cases.Make($"enter16 8,{level}", a =>
            {
                // Only BP changes, so RBP is not a usable pointer afterwards: read the frame via R12.
                a.mov(rbp, ScratchAddress + 0x100);
                a.mov(r12, rsp);
                a.db(0x66, 0xC8, 8, 0, (byte)level);
                a.mov(rax, __qword_ptr[r12 - 8]);
                a.mov(rcx, __qword_ptr[r12 - 16]);
                a.mov(rdx, __qword_ptr[r12 - 24]);
                a.mov(r8, r12);
                a.sub(r8, rsp);
                a.mov(rsp, r12);
            }),
        ]);
    }
}
