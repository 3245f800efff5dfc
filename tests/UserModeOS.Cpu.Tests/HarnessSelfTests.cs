using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>The differential harness itself: state goes in and comes out unchanged, and differences are reported.</summary>
[TestFixture]
public sealed class HarnessSelfTests
{
    [Test]
    public void Nop_LeavesEveryRegisterFlagAndScratchByteAsLoaded()
    {
        AssertSameAsHost([Patterned("nop", a => a.nop())]);
    }

    [Test]
    public void Mov_BetweenRegistersAndScratch_Matches()
    {
        AssertSameAsHost([
            Patterned("mov rax,rcx", a => a.mov(rax, rcx)),
            Patterned("mov [rbx+8],rdx", a => a.mov(__qword_ptr[rbx + 8], rdx)),
            Patterned("mov r15d,[rbx+0x10]", a => a.mov(r15d, __dword_ptr[rbx + 0x10])),
            Patterned("mov ah,ch", a => a.mov(ah, ch)),
            Patterned("mov [abs scratch+0xFF8],rsi", a => a.mov(__qword_ptr[ScratchAddress + 0xFF8], rsi)),
        ]);
    }

    [Test]
    public void StackPointer_IsThePerCaseStackTop_AndPushPopWork()
    {
        AssertSameAsHost([
            Patterned("lea rax,[rsp]", a => a.lea(rax, __[rsp])),
            Patterned("push rax; push rcx; pop rdx", a =>
            {
                a.push(rax);
                a.push(rcx);
                a.pop(rdx);
            }),
        ]);
    }

    [Test]
    public void InitialFlags_IncludingDF_ReadBackByPushfq([Values(0UL, 0x8D5UL, 0x400UL, 0xCD5UL, 0x41UL)] ulong flags)
    {
        AssertSameAsHost([new DiffCase
        {
            Name = $"pushfq; pop rax with flags=0x{flags:X}",
            Code = a =>
            {
                a.pushfq();
                a.pop(rax);
            },
            Flags = flags,
            FlagsMask = 0xCD5,
        }]);
    }

    [Test]
    public void NativeCrash_IsReportedAgainstTheCase()
    {
        var report = Compare([
            Patterned("fine", a => a.nop()),
            Patterned("crashes natively", a => a.mov(rax, __qword_ptr[ScratchAddress + 0x1000])),
        ]);
        Assert.That(report, Does.Contain("case #1 'crashes natively'").And.Contain("signal 11"));
    }

    [Test]
    public void RunFaulting_ReportsSignalExitAndRip()
    {
        Assert.Multiple(() =>
        {
            Assert.That(RunFaulting(new DiffCase { Name = "nop; ud2", Code = a => { a.nop(); a.ud2(); } }), Is.EqualTo((4, ExitReason.InvalidOpcode, 1UL)));
            Assert.That(RunFaulting(new DiffCase { Name = "hlt", Code = a => a.hlt() }), Is.EqualTo((11, ExitReason.GeneralProtection, 0UL)));
            Assert.That(RunFaulting(new DiffCase { Name = "nop (does not fault)", Code = a => a.nop() }), Is.EqualTo((0, ExitReason.None, 1UL)));
        });
    }

    [Test]
    public void LargeBatch_OfThousandsOfCases_Runs()
    {
        var cases = Enumerable.Range(0, 5000).Select(i => new DiffCase
        {
            Name = $"add rax,{i}",
            Code = a => a.add(rax, i),
            Gpr = [(ulong)i * 0x9E37_79B9_7F4A_7C15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        });
        AssertSameAsHost(cases);
    }

    private static DiffCase Patterned(string name, Action<Assembler> code)
    {
        var gpr = new ulong[16];
        for (var i = 0; i < 16; i++)
        {
            gpr[i] = 0x0102_0304_0506_0708UL * (ulong)(i + 1);
        }

        gpr[3] = ScratchAddress;
        var xmm = new UInt128[16];
        for (var i = 0; i < 16; i++)
        {
            xmm[i] = new UInt128(0x1111_1111_1111_1111UL * (ulong)i, ~(ulong)i);
        }

        var scratch = new byte[64];
        for (var i = 0; i < scratch.Length; i++)
        {
            scratch[i] = (byte)(0x40 + i);
        }

        return new DiffCase
        {
            Name = name,
            Code = code,
            Gpr = gpr,
            Xmm = xmm,
            Flags = 0x8D5,
            Scratch = scratch,
            // A non-default MXCSR: rounding toward zero, all exceptions masked, DAZ/FTZ set.
            Mxcsr = 0xFFC0,
        };
    }
}
