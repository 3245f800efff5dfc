using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// Shifts and rotates against the host CPU. The main tests compare exactly what the SDM
/// defines (see <see cref="DefinedFlags"/>), so they hold on any vendor's CPU. The
/// <c>*_UndefinedFlags_MatchAmd</c> tests compare, for the cases where the SDM leaves state
/// undefined, what AMD hardware does (OF for counts other than 1, CF of SHL/SHR by the operand
/// width or more): guest code can observe it, and the executor models AMD. They run on AMD hosts
/// only. AF after a shift is never compared.
/// </summary>
[TestFixture]
public sealed class ShiftTests
{
    /// <summary>Every flag but AF.</summary>
    private const ulong NoAf = 0x8C5;

    private const ulong Cf = 0x1, Af = 0x10, Of = 0x800;

    private static readonly string[] Ops = ["Shl", "Sal", "Shr", "Sar", "Rol", "Ror", "Rcl", "Rcr"];

    private static readonly (Register Reg, int Bits)[] Dests =
    [
        (Register.AL, 8), (Register.AH, 8), (Register.R8L, 8), (Register.AX, 16), (Register.EAX, 32), (Register.R9D, 32), (Register.RAX, 64),
    ];

    /// <summary>
    /// The flags the SDM defines after a shift or rotate by <paramref name="count"/>: a masked
    /// count of 0 changes nothing; OF only for a count of 1; AF never after a shift (rotates
    /// leave SF, ZF, AF and PF alone); CF not after SHL/SHR by the operand width or more.
    /// </summary>
    internal static ulong DefinedFlags(string mnemonic, int bits, int count)
    {
        var masked = count & (bits == 64 ? 63 : 31);
        if (masked == 0)
        {
            return ArithmeticFlags;
        }

        var defined = ArithmeticFlags;
        if (masked != 1)
        {
            defined &= ~Of;
        }

        if (mnemonic is "Shl" or "Sal" or "Shr" or "Sar" or "Shld" or "Shrd")
        {
            defined &= ~Af;
        }

        if (mnemonic is "Shl" or "Sal" or "Shr" && masked >= bits)
        {
            defined &= ~Cf;
        }

        return defined;
    }

    /// <summary>
    /// The cases whose comparison leaves out SDM-undefined flags (other than AF), now comparing
    /// them too: what the AMD-only tests check.
    /// </summary>
    private static List<DiffCase> WithUndefinedFlags(IEnumerable<DiffCase> cases) =>
        cases.Where(c => (c.FlagsMask | NoAf) != c.FlagsMask).Select(c => DiffCases.WithFlagsMask(c, c.FlagsMask | NoAf)).ToList();

    private static int[] Counts(int bits) =>
        new[] { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0x9F, 0xFF, bits - 1, bits, bits + 1 }.Distinct().ToArray();

    [TestCaseSource(nameof(Ops))]
    public void RegisterByCl(string mnemonic) => AssertSameAsHost(RegisterByClCases(mnemonic));

    [TestCaseSource(nameof(Ops))]
    public void RegisterByImmediate(string mnemonic) => AssertSameAsHost(RegisterByImmediateCases(mnemonic));

    [TestCaseSource(nameof(Ops))]
    public void Memory(string mnemonic) => AssertSameAsHost(MemoryCases(mnemonic));

    /// <summary>OF for counts other than 1 and CF of SHL/SHR by the width or more, as AMD hardware sets them.</summary>
    [TestCaseSource(nameof(Ops))]
    public void UndefinedFlags_MatchAmd(string mnemonic)
    {
        Assume.That(HostCpu.IsAmd, HostCpu.AmdOnly);
        var cases = WithUndefinedFlags(RegisterByClCases(mnemonic).Concat(RegisterByImmediateCases(mnemonic)).Concat(MemoryCases(mnemonic)));
        Assert.That(cases, Is.Not.Empty);
        AssertSameAsHost(cases);
    }

    private static List<DiffCase> RegisterByClCases(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var (reg, bits) in Dests)
        {
            var code = DiffCases.CodeOf($"{mnemonic}_rm{bits}_CL");
            foreach (var v in DiffCases.EdgeValues(bits))
            {
                foreach (var n in Counts(bits))
                {
                    foreach (var flags in DiffCases.InitialFlags)
                    {
                        // Only CL counts: the rest of RCX is noise.
                        var gpr = DiffCases.Gpr((1, 0xDEAD_BEEF_0000_0000UL | 0x1200 | (uint)n));
                        DiffCases.SetReg(gpr, reg, v);
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} {reg}={v:X}, cl={n} flags={flags:X}",
                            Code = DiffCases.Emit(Instruction.Create(code, reg, Register.CL)),
                            Gpr = gpr,
                            Flags = flags,
                            FlagsMask = DefinedFlags(mnemonic, bits, n),
                        });
                    }
                }
            }
        }

        return cases;
    }

    private static List<DiffCase> RegisterByImmediateCases(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var (reg, bits) in Dests)
        {
            foreach (var v in DiffCases.EdgeValues(bits))
            {
                foreach (var flags in DiffCases.InitialFlags)
                {
                    var gpr = DiffCases.Gpr();
                    DiffCases.SetReg(gpr, reg, v);

                    // D0/D1 (implied 1) and C0/C1 with an imm8, including counts the mask folds to 0.
                    var forms = new List<(string, Instruction, int Count)> { ("1", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_1"), reg, 1), 1) };
                    foreach (var n in new[] { 0, 1, 2, bits - 1, bits, 31, 32, 63, 64, 65, 0xFF })
                    {
                        forms.Add(($"imm {n}", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_imm8"), reg, n), n));
                    }

                    foreach (var (form, insn, count) in forms)
                    {
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} {reg}={v:X}, {form} flags={flags:X}",
                            Code = DiffCases.Emit(insn),
                            Gpr = gpr,
                            Flags = flags,
                            FlagsMask = DefinedFlags(mnemonic, bits, count),
                        });
                    }
                }
            }
        }

        return cases;
    }

    private static List<DiffCase> MemoryCases(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var bits in new[] { 8, 16, 32, 64 })
        {
            foreach (var v in DiffCases.EdgeValues(bits))
            {
                foreach (var flags in DiffCases.InitialFlags)
                {
                    var m = new MemoryOperand(Register.RBX, 8);
                    var forms = new List<(string Form, Instruction Insn, int Cl, int Count)> { ("1", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_1"), m, 1), 0, 1) };
                    foreach (var n in new[] { 0, 3, bits - 1, 33 })
                    {
                        forms.Add(($"imm {n}", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_imm8"), m, n), 0, n));
                    }

                    foreach (var n in new[] { 0, 1, 5, bits - 1, bits, 0x7F })
                    {
                        forms.Add(($"cl={n}", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_CL"), m, Register.CL), n, n));
                    }

                    foreach (var (form, insn, cl, count) in forms)
                    {
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} m{bits}={v:X}, {form} flags={flags:X}",
                            Code = DiffCases.Emit(insn),
                            Gpr = DiffCases.Gpr((1, (ulong)cl)),
                            Flags = flags,
                            FlagsMask = DefinedFlags(mnemonic, bits, count),
                            Scratch = DiffCases.ScratchWith(8, v),
                        });
                    }
                }
            }
        }

        return cases;
    }

    [Test]
    public void ShiftThenAdc_SeesTheShiftedOutCarry()
    {
        // A shift's CF must reach a later flag consumer (rotates and ADC read it back).
        AssertSameAsHost([
            new DiffCase
            {
                Name = "shr/adc/rcl",
                Code = DiffCases.Emit(
                    Instruction.Create(Code.Shr_rm64_imm8, Register.RAX, 3),
                    Instruction.Create(Code.Adc_rm32_imm8, Register.EDX, 0),
                    Instruction.Create(Code.Rcl_rm16_1, Register.SI, 1),
                    Instruction.Create(Code.Rcr_rm8_CL, Register.BH, Register.CL)),
                Gpr = DiffCases.Gpr((0, 0x4), (1, 3), (2, 7)),

                // RCR by 3 leaves OF undefined; AF comes from the ADC (rotates keep it).
                FlagsMask = ArithmeticFlags & ~Of,
            },
        ]);
    }

    [TestCase("Shld")]
    [TestCase("Shrd")]
    public void DoubleShift(string mnemonic) => AssertSameAsHost(DoubleShiftCases(mnemonic));

    /// <summary>SHLD/SHRD: OF for counts other than 1, as AMD hardware sets it.</summary>
    [TestCase("Shld")]
    [TestCase("Shrd")]
    public void DoubleShift_UndefinedFlags_MatchAmd(string mnemonic)
    {
        Assume.That(HostCpu.IsAmd, HostCpu.AmdOnly);
        var cases = WithUndefinedFlags(DoubleShiftCases(mnemonic));
        Assert.That(cases, Is.Not.Empty);
        AssertSameAsHost(cases);
    }

    private static List<DiffCase> DoubleShiftCases(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var bits in new[] { 16, 32, 64 })
        {
            var dst = bits switch { 16 => Register.AX, 32 => Register.EAX, _ => Register.RAX };
            var src = bits switch { 16 => Register.DX, 32 => Register.EDX, _ => Register.RDX };
            var values = DiffCases.EdgeValues(bits);
            foreach (var v in values)
            {
                foreach (var s in new ulong[] { 0UL, DiffCases.Mask(bits), 1UL << (bits - 1), 1, 0x5A5A_5A5A_5A5A_5A5A & DiffCases.Mask(bits) })
                {
                    // Counts above 16 on 16-bit operands are undefined: see DoubleShift16_CountAboveWidth.
                    foreach (var n in new[] { 0, 1, 2, 4, 8, 15, 16, 31, 32, 63, 64, 65 }.Where(n => bits != 16 || (n & 31) <= 16))
                    {
                        foreach (var flags in DiffCases.InitialFlags)
                        {
                            var gpr = DiffCases.Gpr((1, 0x5500 | (uint)n));
                            DiffCases.SetReg(gpr, dst, v);
                            DiffCases.SetReg(gpr, src, s);
                            var mem = new MemoryOperand(Register.RBX, 16);
                            foreach (var (form, insn, scratch) in new[]
                            {
                                ("r,r,cl", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_r{bits}_CL"), dst, src, Register.CL), null),
                                ("r,r,imm", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_r{bits}_imm8"), dst, src, n), null),
                                ("m,r,cl", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_r{bits}_CL"), mem, src, Register.CL), DiffCases.ScratchWith(16, v)),
                                ("m,r,imm", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_r{bits}_imm8"), mem, src, n), DiffCases.ScratchWith(16, v)),
                            })
                            {
                                cases.Add(new DiffCase
                                {
                                    Name = $"{mnemonic} {form} dst={v:X} src={s:X} n={n} flags={flags:X}",
                                    Code = DiffCases.Emit(insn),
                                    Gpr = gpr,
                                    Flags = flags,
                                    FlagsMask = DefinedFlags(mnemonic, bits, n),
                                    Scratch = scratch,
                                });
                            }
                        }
                    }
                }
            }
        }

        return cases;
    }

    /// <summary>
    /// 16-bit SHLD/SHRD by 17..31: the SDM leaves result and flags undefined. We follow the AMD
    /// Zen host; Intel differs, so this runs on AMD hosts only.
    /// </summary>
    [TestCase("Shld")]
    [TestCase("Shrd")]
    public void DoubleShift16_CountAboveWidth(string mnemonic)
    {
        Assume.That(HostCpu.IsAmd, HostCpu.AmdOnly);
        var cases = new List<DiffCase>();
        foreach (var v in DiffCases.EdgeValues(16))
        {
            foreach (var s in new ulong[] { 0x1234UL, 0x8001, 0xFFFF, 0 })
            {
                for (var n = 16; n < 32; n++)
                {
                    var gpr = DiffCases.Gpr((0, 0x7777_0000 | v), (2, 0x6666_0000 | s), (1, (ulong)n));
                    cases.Add(new DiffCase
                    {
                        Name = $"{mnemonic} ax={v:X}, dx={s:X}, cl={n}",
                        Code = DiffCases.Emit(Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm16_r16_CL"), Register.AX, Register.DX, Register.CL)),
                        Gpr = gpr,
                        FlagsMask = NoAf,
                    });
                }
            }
        }

        AssertSameAsHost(cases);
    }
}
