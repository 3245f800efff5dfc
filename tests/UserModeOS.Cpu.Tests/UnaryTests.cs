using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>INC, DEC, NEG and NOT against the host CPU: every size, AH..BH, REX byte registers, memory and LOCK.</summary>
[TestFixture]
public sealed class UnaryTests
{
    private static readonly string[] Ops = ["Inc", "Dec", "Neg", "Not"];

    [TestCaseSource(nameof(Ops))]
    public void Registers(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var (reg, bits) in new[]
        {
            (Register.AL, 8), (Register.AH, 8), (Register.BH, 8), (Register.SIL, 8), (Register.R9L, 8),
            (Register.AX, 16), (Register.R10W, 16), (Register.EAX, 32), (Register.R11D, 32), (Register.RAX, 64), (Register.R12, 64),
        })
        {
            var code = DiffCases.CodeOf($"{mnemonic}_rm{bits}");
            foreach (var v in DiffCases.EdgeValues(bits))
            {
                foreach (var flags in DiffCases.InitialFlags)
                {
                    var gpr = DiffCases.Gpr();
                    DiffCases.SetReg(gpr, reg, v);
                    cases.Add(new DiffCase
                    {
                        Name = $"{mnemonic} {reg}={v:X} flags={flags:X}",
                        Code = DiffCases.Emit(Instruction.Create(code, reg)),
                        Gpr = gpr,
                        Flags = flags,
                    });
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [TestCaseSource(nameof(Ops))]
    public void Memory(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var locked in new[] { false, true })
        {
            foreach (var bits in new[] { 8, 16, 32, 64 })
            {
                var code = DiffCases.CodeOf($"{mnemonic}_rm{bits}");
                foreach (var v in DiffCases.EdgeValues(bits))
                {
                    foreach (var flags in DiffCases.InitialFlags)
                    {
                        var insn = Instruction.Create(code, new MemoryOperand(Register.RBX, 8));
                        insn.HasLockPrefix = locked;
                        cases.Add(new DiffCase
                        {
                            Name = $"{(locked ? "lock " : "")}{mnemonic} m{bits}={v:X} flags={flags:X}",
                            Code = DiffCases.Emit(insn),
                            Gpr = DiffCases.Gpr(),
                            Flags = flags,
                            Scratch = DiffCases.ScratchWith(8, v),
                        });
                    }
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void IncDec_ChainPreservesCarryThroughLazyFlags()
    {
        // CF set by an ADD must survive INC/DEC and be visible to ADC afterwards.
        AssertSameAsHost([
            new DiffCase
            {
                Name = "add/inc/dec/adc",
                Code = a =>
                {
                    a.add(rax, rcx);
                    a.inc(edx);
                    a.dec(dh);
                    a.adc(rsi, 0);
                },
                Gpr = DiffCases.Gpr((0, ulong.MaxValue), (1, 2), (2, 0xFFFF_FFFF), (6, 5)),
            },
        ]);
    }
}

/// <summary>Building blocks for the differential instruction tests.</summary>
internal static class DiffCases
{
    /// <summary>Initial arithmetic flags: all clear and all set.</summary>
    public static readonly ulong[] InitialFlags = [0, 0x8D5];

    public static readonly ulong[] Pattern = Enumerable.Range(0, 16).Select(i => 0x0102_0304_0506_0708UL * (ulong)(i + 1)).ToArray();

    /// <summary>The Iced code named <paramref name="name"/> (for example "Shl_rm32_CL").</summary>
    public static Code CodeOf(string name) => Enum.Parse<Code>(name);

    public static Action<Assembler> Emit(params Instruction[] insns) => a =>
    {
        foreach (var i in insns)
        {
            a.AddInstruction(i);
        }
    };

    /// <summary>Patterned registers with RBX pointing at the scratch page, then the given (index, value) overrides.</summary>
    public static ulong[] Gpr(params (int Index, ulong Value)[] set)
    {
        var gpr = (ulong[])Pattern.Clone();
        gpr[3] = ScratchAddress;
        foreach (var (index, value) in set)
        {
            gpr[index] = value;
        }

        return gpr;
    }

    /// <summary>Writes <paramref name="v"/> into the part of the GPR array that <paramref name="reg"/> names, keeping the other bits.</summary>
    public static void SetReg(ulong[] gpr, Register reg, ulong v)
    {
        if (reg is >= Register.AH and <= Register.BH)
        {
            var i = reg - Register.AH;
            gpr[i] = (gpr[i] & ~0xFF00UL) | ((v & 0xFF) << 8);
            return;
        }

        var n = reg.GetFullRegister().GetNumber();
        var mask = reg.GetSize() == 8 ? ulong.MaxValue : (1UL << (reg.GetSize() * 8)) - 1;
        gpr[n] = (gpr[n] & ~mask) | (v & mask);
    }

    /// <summary>A scratch page with a filler pattern and <paramref name="v"/> (8 bytes, little-endian) at <paramref name="offset"/>.</summary>
    public static byte[] ScratchWith(int offset, ulong v)
    {
        var page = new byte[64];
        for (var i = 0; i < page.Length; i++)
        {
            page[i] = (byte)(0xA0 + i);
        }

        BitConverter.GetBytes(v).CopyTo(page, offset);
        return page;
    }

    public static ulong Mask(int bits) => bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>A copy of <paramref name="c"/> comparing the RFLAGS bits in <paramref name="mask"/>.</summary>
    public static DiffCase WithFlagsMask(DiffCase c, ulong mask) => new()
    {
        Name = c.Name,
        Code = c.Code,
        Gpr = c.Gpr,
        Flags = c.Flags,
        Xmm = c.Xmm,
        Scratch = c.Scratch,
        FlagsMask = mask,
        Mxcsr = c.Mxcsr,
    };

    /// <summary>0, 1, -1, the sign boundaries and a few bit patterns, truncated to the width.</summary>
    public static ulong[] EdgeValues(int bits)
    {
        var sign = 1UL << (bits - 1);
        var m = Mask(bits);
        return new ulong[] { 0UL, 1, 2, m, m - 1, sign, sign - 1, sign + 1, sign >> 1, 0x0F, 0x10, 0x1234_5678_9ABC_DEF1 & m, 0xA5A5_A5A5_A5A5_A5A5 & m }
            .Distinct().ToArray();
    }
}
