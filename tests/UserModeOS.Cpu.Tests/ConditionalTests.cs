using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class ConditionalTests
{
    private const ulong NoAf = ArithmeticFlags & ~0x10UL;

    private static readonly AssemblerRegister64[] Regs64 = [rax, rcx, rdx];

    /// <summary>All 16 SETcc into scratch bytes 0..15 and all 16 CMOVcc (32-bit, so zero-extension shows) into scratch qwords 16..31.</summary>
    private static void EveryCondition(Assembler a)
    {
        for (var cc = 0; cc < 16; cc++)
        {
            a.AddInstruction(Instruction.Create(Code.Seto_rm8 + cc, new MemoryOperand(Register.RBX, cc)));
        }

        for (var cc = 0; cc < 16; cc++)
        {
            // MOV does not touch the flags: reload the destination, conditionally move, store.
            a.mov(r8, 0x7777_7777_7777_7777);
            a.AddInstruction(Instruction.Create(Code.Cmovo_r32_rm32 + (3 * cc), Register.R8D, Register.R9D));
            a.mov(__qword_ptr[rbx + (128 + (8 * cc))], r8);
        }
    }

    private static IEnumerable<(int Size, ulong A, ulong B)> Pairs()
    {
        foreach (var (size, edges) in new[] { (1, Cases.Edge8), (2, Cases.Edge16), (4, Cases.Edge32), (8, Cases.Edge64) })
        {
            foreach (var x in edges)
            {
                foreach (var y in edges)
                {
                    yield return (size, x, y);
                }
            }
        }
    }

    private static void Emit(Assembler a, string op, int size)
    {
        switch (op, size)
        {
            case ("cmp", 1): a.cmp(al, cl); break;
            case ("cmp", 2): a.cmp(ax, cx); break;
            case ("cmp", 4): a.cmp(eax, ecx); break;
            case ("cmp", 8): a.cmp(rax, rcx); break;
            case ("sub", 1): a.sub(al, cl); break;
            case ("sub", 2): a.sub(ax, cx); break;
            case ("sub", 4): a.sub(eax, ecx); break;
            case ("sub", 8): a.sub(rax, rcx); break;
            case ("add", 1): a.add(al, cl); break;
            case ("add", 2): a.add(ax, cx); break;
            case ("add", 4): a.add(eax, ecx); break;
            case ("add", 8): a.add(rax, rcx); break;
            case ("test", 1): a.test(al, cl); break;
            case ("test", 2): a.test(ax, cx); break;
            case ("test", 4): a.test(eax, ecx); break;
            default: a.test(rax, rcx); break;
        }
    }

    [TestCase("cmp")]
    [TestCase("sub")]
    [TestCase("add")]
    [TestCase("test")]
    public void EveryConditionAfter_MatchesHost(string op)
    {
        var cases = new List<DiffCase>();
        foreach (var (size, x, y) in Pairs())
        {
            cases.Add(Cases.Make(
                $"{op}{size * 8} {x:X},{y:X}",
                a =>
                {
                    Emit(a, op, size);
                    EveryCondition(a);
                },
                flagsMask: op == "test" ? NoAf : ArithmeticFlags, // AF is undefined after TEST
                regs: [(Reg.Rax, 0xABCD_0000_0000_0000UL | x), (Reg.Rcx, 0x1234_0000_0000_0000UL | y), (Reg.R9, 0x9999_AAAA_BBBB_CCCC)]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void EveryConditionFromLoadedFlags_AllCombinations_MatchHost()
    {
        var cases = new List<DiffCase>();
        for (var bits = 0; bits < 64; bits++)
        {
            ulong flags = 0;
            var i = 0;
            foreach (var f in new ulong[] { 0x1, 0x4, 0x10, 0x40, 0x80, 0x800 })
            {
                if ((bits & (1 << i++)) != 0)
                {
                    flags |= f;
                }
            }

            cases.Add(Cases.Make($"flags {flags:X}", EveryCondition, flags: flags, regs: (Reg.R9, 0x9999_AAAA_BBBB_CCCC)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void SetccToRegisters_IncludingHighBytes_MatchHost()
    {
        AssertSameAsHost([
            Cases.Make("sete al (ZF)", a => a.sete(al), flags: 0x40),
            Cases.Make("setne ah (ZF)", a => a.setne(ah), flags: 0x40),
            Cases.Make("setb bh", a => a.setb(bh), flags: 0x1),
            Cases.Make("setl sil", a => a.setl(sil), flags: 0x80),
            Cases.Make("setg r15b", a => a.setg(r15b), flags: 0),
            Cases.Make("setp [rbx+7]", a => a.setp(__byte_ptr[rbx + 7]), flags: 0x4),
        ]);
    }

    [Test]
    public void Cmov_AllSizesRegisterAndMemory_TrueAndFalse_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var zf in new ulong[] { 0, 0x40 })
        {
            cases.Add(Cases.Make($"cmove cx,dx zf={zf}", a => a.cmove(cx, dx), flags: zf));
            cases.Add(Cases.Make($"cmove ecx,edx zf={zf}", a => a.cmove(ecx, edx), flags: zf));
            cases.Add(Cases.Make($"cmove rcx,rdx zf={zf}", a => a.cmove(rcx, rdx), flags: zf));
            cases.Add(Cases.Make($"cmovne cx,[rbx] zf={zf}", a => a.cmovne(cx, __word_ptr[rbx + 2]), flags: zf));
            cases.Add(Cases.Make($"cmovne ecx,[rbx] zf={zf}", a => a.cmovne(ecx, __dword_ptr[rbx + 2]), flags: zf));
            cases.Add(Cases.Make($"cmovne rcx,[rbx] zf={zf}", a => a.cmovne(rcx, __qword_ptr[rbx + 2]), flags: zf));
            cases.Add(Cases.Make($"cmove ecx,ecx zf={zf}", a => a.cmove(ecx, ecx), flags: zf));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void CmovFromUnmappedMemory_FaultsEvenWhenFalse()
    {
        // ZF clear, so CMOVE does not move, but the load still happens and faults.
        var (signal, emulated, offset) = RunFaulting(Cases.Make(
            "cmove from unmapped",
            a => a.cmove(rax, __qword_ptr[rbx + 0x1000]),
            flags: 0));
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(11), "native SIGSEGV");
            Assert.That(emulated, Is.EqualTo(ExitReason.PageFault));
            Assert.That(offset, Is.EqualTo(0UL));
        });
    }
}
