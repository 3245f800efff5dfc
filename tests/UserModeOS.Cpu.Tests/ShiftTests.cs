using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// Shifts and rotates against the host CPU. OF is compared for every count: the SDM defines
/// it only for count 1, but guest code can observe what hardware does for other counts.
/// AF is undefined for non-zero counts and masked.
/// </summary>
[TestFixture]
public sealed class ShiftTests
{
    /// <summary>Every flag but AF.</summary>
    private const ulong NoAf = 0x8C5;

    private static readonly string[] Ops = ["Shl", "Sal", "Shr", "Sar", "Rol", "Ror", "Rcl", "Rcr"];

    private static readonly (Register Reg, int Bits)[] Dests =
    [
        (Register.AL, 8), (Register.AH, 8), (Register.R8L, 8), (Register.AX, 16), (Register.EAX, 32), (Register.R9D, 32), (Register.RAX, 64),
    ];

    private static int[] Counts(int bits) =>
        new[] { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 0x9F, 0xFF, bits - 1, bits, bits + 1 }.Distinct().ToArray();

    [TestCaseSource(nameof(Ops))]
    public void RegisterByCl(string mnemonic)
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
                            FlagsMask = NoAf,
                        });
                    }
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [TestCaseSource(nameof(Ops))]
    public void RegisterByImmediate(string mnemonic)
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
                    var forms = new List<(string, Instruction)> { ("1", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_1"), reg, 1)) };
                    foreach (var n in new[] { 0, 1, 2, bits - 1, bits, 31, 32, 63, 64, 65, 0xFF })
                    {
                        forms.Add(($"imm {n}", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_imm8"), reg, n)));
                    }

                    foreach (var (form, insn) in forms)
                    {
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} {reg}={v:X}, {form} flags={flags:X}",
                            Code = DiffCases.Emit(insn),
                            Gpr = gpr,
                            Flags = flags,
                            FlagsMask = NoAf,
                        });
                    }
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [TestCaseSource(nameof(Ops))]
    public void Memory(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var bits in new[] { 8, 16, 32, 64 })
        {
            foreach (var v in DiffCases.EdgeValues(bits))
            {
                foreach (var flags in DiffCases.InitialFlags)
                {
                    var m = new MemoryOperand(Register.RBX, 8);
                    var forms = new List<(string Form, Instruction Insn, int Cl)> { ("1", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_1"), m, 1), 0) };
                    foreach (var n in new[] { 0, 3, bits - 1, 33 })
                    {
                        forms.Add(($"imm {n}", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_imm8"), m, n), 0));
                    }

                    foreach (var n in new[] { 0, 1, 5, bits - 1, bits, 0x7F })
                    {
                        forms.Add(($"cl={n}", Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_CL"), m, Register.CL), n));
                    }

                    foreach (var (form, insn, cl) in forms)
                    {
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} m{bits}={v:X}, {form} flags={flags:X}",
                            Code = DiffCases.Emit(insn),
                            Gpr = DiffCases.Gpr((1, (ulong)cl)),
                            Flags = flags,
                            FlagsMask = NoAf,
                            Scratch = DiffCases.ScratchWith(8, v),
                        });
                    }
                }
            }
        }

        AssertSameAsHost(cases);
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
                FlagsMask = NoAf,
            },
        ]);
    }

    [TestCase("Shld")]
    [TestCase("Shrd")]
    public void DoubleShift(string mnemonic)
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
                                    FlagsMask = NoAf,
                                    Scratch = scratch,
                                });
                            }
                        }
                    }
                }
            }
        }

        AssertSameAsHost(cases);
    }

    /// <summary>
    /// 16-bit SHLD/SHRD by 17..31: the SDM leaves result and flags undefined. We follow the AMD
    /// Zen host (Intel may differ, in which case this test documents the difference).
    /// </summary>
    [TestCase("Shld")]
    [TestCase("Shrd")]
    public void DoubleShift16_CountAboveWidth(string mnemonic)
    {
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
