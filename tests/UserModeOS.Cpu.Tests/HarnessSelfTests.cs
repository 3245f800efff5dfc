using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static UserModeOS.Cpu.Tests.Differential.Differential;
using static Iced.Intel.AssemblerRegisters;

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
        ]);
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
            Mxcsr = 0x9FC0,
        };
    }
}
