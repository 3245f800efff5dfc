using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class FlagOpTests
{
    private const ulong WithDf = ArithmeticFlags | CpuState.DF;

    /// <summary>The cases below end with AND/XOR, after which AF is undefined (SDM): compare the rest.</summary>
    private const ulong Af = 0x10;

    private static IEnumerable<ulong> FlagValues() =>
        [0, 0x1, 0x4, 0x10, 0x40, 0x80, 0x800, 0x8D5, 0x841, 0x094, 0x400, 0xCD5];

    [Test]
    public void Pushfq_Pushf_SeeTheLoadedFlags()
    {
        var cases = new List<DiffCase>();
        foreach (var f in FlagValues())
        {
            // The pushed image includes IF and bit 1; mask to the bits we model.
            cases.Add(Cases.Make($"pushfq {f:X}", a => { a.pushfq(); a.pop(rdx); a.and(rdx, 0x2C0FD7); }, flags: f, flagsMask: WithDf & ~Af));
            cases.Add(Cases.Make($"pushf {f:X}", a => { a.pushf(); a.pop(dx); a.and(edx, 0x0FD7); }, flags: f, flagsMask: WithDf & ~Af));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Pushfq_AfterArithmetic_MaterializesLazyFlags()
    {
        AssertSameAsHost([
            Cases.Make("add overflow", a => { a.add(eax, ecx); a.pushfq(); a.pop(rdx); a.and(edx, 0x8D5); }, flagsMask: ArithmeticFlags & ~Af, regs: [(Reg.Rax, 0x7FFF_FFFF), (Reg.Rcx, 1)]),
            Cases.Make("sub borrow", a => { a.sub(al, cl); a.pushfq(); a.pop(rdx); a.and(edx, 0x8D5); }, flagsMask: ArithmeticFlags & ~Af, regs: [(Reg.Rax, 0), (Reg.Rcx, 1)]),
            Cases.Make("inc keeps CF", a => { a.stc(); a.inc(rax); a.pushfq(); a.pop(rdx); a.and(edx, 0x8D5); }, flagsMask: ArithmeticFlags & ~Af, regs: (Reg.Rax, ulong.MaxValue)),
        ]);
    }

    [Test]
    public void Popfq_Popf_LoadTheWritableFlags()
    {
        var cases = new List<DiffCase>();
        foreach (var f in FlagValues())
        {
            // Bits outside the writable set (IF, IOPL, reserved) must be ignored or kept.
            var image = f | 0x3000 | 0x8;
            cases.Add(Cases.Make($"popfq {f:X}", a => { a.push(rdx); a.popfq(); a.pushfq(); a.pop(rsi); a.and(rsi, 0x0FD7); }, flagsMask: WithDf & ~Af, regs: (Reg.Rdx, image)));
            cases.Add(Cases.Make($"popf {f:X}", a => { a.push(dx); a.popf(); a.pushfq(); a.pop(rsi); a.and(rsi, 0x0FD7); }, flags: 0x8D5, flagsMask: WithDf & ~Af, regs: (Reg.Rdx, image)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Popfq_IdBitToggles_AsTheCpuidProbeExpects()
    {
        AssertSameAsHost([
            Cases.Make("toggle ID", a =>
            {
                a.pushfq();
                a.pop(rax);
                a.mov(rcx, rax);
                a.xor(rax, 0x200000);
                a.push(rax);
                a.popfq();
                a.pushfq();
                a.pop(rax);
                a.xor(rax, rcx);
                a.and(eax, 0x200000);
                a.push(rcx);
                a.popfq();
                a.xor(ecx, ecx);
            }, flagsMask: ArithmeticFlags & ~Af),
        ]);
    }

    [Test]
    public void Lahf_Sahf_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var f in FlagValues())
        {
            cases.Add(Cases.Make($"lahf {f:X}", a => a.lahf(), flags: f));
            foreach (var ah in new ulong[] { 0x00, 0xFF, 0xD5, 0x2A, 0x41, 0x80 })
            {
                // SAHF leaves OF alone.
                cases.Add(Cases.Make($"sahf {ah:X} over {f:X}", a => a.sahf(), flags: f, regs: (Reg.Rax, 0x1111_2222_3333_0044UL | (ah << 8))));
            }
        }

        cases.Add(Cases.Make("lahf after cmp", a => { a.cmp(ecx, edx); a.lahf(); }, regs: [(Reg.Rcx, 1), (Reg.Rdx, 2)]));
        AssertSameAsHost(cases);
    }

    [Test]
    public void CarryAndDirectionInstructions_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var f in FlagValues())
        {
            cases.Add(Cases.Make($"clc {f:X}", a => a.clc(), flags: f, flagsMask: WithDf));
            cases.Add(Cases.Make($"stc {f:X}", a => a.stc(), flags: f, flagsMask: WithDf));
            cases.Add(Cases.Make($"cmc {f:X}", a => a.cmc(), flags: f, flagsMask: WithDf));
            cases.Add(Cases.Make($"cld {f:X}", a => a.cld(), flags: f, flagsMask: WithDf));
            cases.Add(Cases.Make($"std;cld {f:X}", a => { a.std(); a.cld(); }, flags: f, flagsMask: WithDf));
            cases.Add(Cases.Make($"std {f:X}", a => { a.std(); a.pushfq(); a.pop(rax); a.cld(); }, flags: f, flagsMask: WithDf));
        }

        cases.Add(Cases.Make("cmc after sub", a => { a.sub(eax, ecx); a.cmc(); }, regs: [(Reg.Rax, 0), (Reg.Rcx, 1)]));
        cases.Add(Cases.Make("stc after add", a => { a.add(eax, ecx); a.stc(); }, regs: [(Reg.Rax, 0x7FFF_FFFF), (Reg.Rcx, 1)]));
        AssertSameAsHost(cases);
    }
}
