using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.CaseKit;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// The flags an ALU instruction leaves are recorded lazily; these read them back the ways
/// guest code does (PUSHFQ, every Jcc condition, a carry chain) rather than through the harness.
/// </summary>
[TestFixture]
public sealed class LazyFlagsTests
{
    [Test]
    public void Pushfq_AfterEveryAluKind_SeesTheFlagsItSet([Values] AluKind kind, [Values(8, 16, 32, 64)] int bits)
    {
        var cases = new List<DiffCase>();
        foreach (var (a, b) in Pairs(bits))
        {
            foreach (var flags in new[] { ArithmeticFlags & ~1UL, 1UL })
            {
                cases.Add(Case(kind, bits, a, b, flags, "pushfq; pop rdx", asm =>
                {
                    asm.pushfq();
                    asm.pop(rdx);
                    if (IsLogic(kind))
                    {
                        asm.and(rdx, ~0x10); // AF is undefined after logic ops
                    }
                }));
            }
        }

        AssertSameAsHost(cases);
    }

    /// <summary>All 16 conditions, each recorded as a bit of RDX by a Jcc over a flag-neutral LEA.</summary>
    [Test]
    public void EveryJccCondition_AfterEveryAluKind([Values] AluKind kind, [Values(8, 16, 32, 64)] int bits)
    {
        var cases = new List<DiffCase>();
        foreach (var (a, b) in Pairs(bits))
        {
            foreach (var flags in new[] { ArithmeticFlags & ~1UL, 1UL })
            {
                cases.Add(Case(kind, bits, a, b, flags, "jcc x16", asm =>
                {
                    for (var cc = 0; cc < 16; cc++)
                    {
                        var skip = asm.CreateLabel();
                        JumpUnless(asm, cc, skip);
                        asm.lea(rdx, __[rdx + (1 << cc)]);
                        asm.Label(ref skip);
                    }
                }));
            }
        }

        AssertSameAsHost(cases);
    }

    /// <summary>ADC/SBB reading the carry of each ALU kind: a 128-bit add or subtract after it.</summary>
    [Test]
    public void CarryChain_AdcAndSbbAfterEveryAluKind([Values] AluKind kind, [Values] bool subtract)
    {
        var cases = new List<DiffCase>();
        foreach (var (a, b) in Pairs(64))
        {
            cases.Add(Case(kind, 64, a, b, 0, subtract ? "sbb rdx,rbx; sbb rsi,rdi" : "adc rdx,rbx; adc rsi,rdi", asm =>
            {
                if (subtract)
                {
                    asm.sbb(rdx, rbx);
                    asm.sbb(rsi, rdi);
                }
                else
                {
                    asm.adc(rdx, rbx);
                    asm.adc(rsi, rdi);
                }
            }));
        }

        AssertSameAsHost(cases);
    }

    private static bool IsLogic(AluKind kind) => kind is AluKind.And or AluKind.Or or AluKind.Xor or AluKind.Test;

    private static IEnumerable<(ulong A, ulong B)> Pairs(int bits)
    {
        var values = EdgeValues(bits);
        foreach (var a in values)
        {
            foreach (var b in values)
            {
                yield return (a, b);
            }
        }
    }

    /// <summary><c>kind dst,src</c> on RAX/RCX of the given size, then <paramref name="after"/>.</summary>
    private static DiffCase Case(AluKind kind, int bits, ulong a, ulong b, ulong flags, string afterText, Action<Assembler> after)
    {
        var (dst, src) = bits switch
        {
            8 => (Register.AL, Register.CL),
            16 => (Register.AX, Register.CX),
            32 => (Register.EAX, Register.ECX),
            _ => (Register.RAX, Register.RCX),
        };
        var mnemonic = Enum.Parse<Mnemonic>(kind.ToString());
        var insn = Instruction.Create(AluTests.RegisterForm(kind, bits), dst, src);

        var gpr = BackgroundGpr();
        Put(gpr, dst, a);
        Put(gpr, src, b);
        gpr[(int)Reg.Rdx] = 0;
        return new DiffCase
        {
            Name = $"{mnemonic.ToString().ToLowerInvariant()} {dst},{src}; {afterText} a=0x{a:X} b=0x{b:X} flags=0x{flags:X}",
            Code = asm =>
            {
                asm.AddInstruction(insn);
                after(asm);
            },
            Gpr = gpr,
            Flags = flags,
            FlagsMask = IsLogic(kind) ? ArithmeticFlags & ~0x10UL : ArithmeticFlags,
        };
    }

    /// <summary>Jumps to <paramref name="target"/> when condition <paramref name="cc"/> (0 = O ... 15 = G) is false.</summary>
    private static void JumpUnless(Assembler asm, int cc, Label target)
    {
        switch (cc ^ 1)
        {
            case 0: asm.jo(target); break;
            case 1: asm.jno(target); break;
            case 2: asm.jb(target); break;
            case 3: asm.jae(target); break;
            case 4: asm.je(target); break;
            case 5: asm.jne(target); break;
            case 6: asm.jbe(target); break;
            case 7: asm.ja(target); break;
            case 8: asm.js(target); break;
            case 9: asm.jns(target); break;
            case 10: asm.jp(target); break;
            case 11: asm.jnp(target); break;
            case 12: asm.jl(target); break;
            case 13: asm.jge(target); break;
            case 14: asm.jle(target); break;
            default: asm.jg(target); break;
        }
    }
}
