using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// MUL, IMUL (1, 2 and 3 operands), DIV and IDIV against the host CPU. After a multiply only
/// CF and OF are defined; after a divide no flag is, so those are masked.
/// </summary>
[TestFixture]
public sealed class MulDivTests
{
    private const ulong CfOf = 0x801;
    private const int SigFpe = 8;

    private static readonly (Register Src, int Bits)[] Sources =
    [
        (Register.CL, 8), (Register.CH, 8), (Register.R10L, 8), (Register.CX, 16), (Register.ECX, 32), (Register.R10D, 32), (Register.RCX, 64), (Register.R10, 64),
    ];

    private static Register Acc(int bits) => bits switch { 8 => Register.AL, 16 => Register.AX, 32 => Register.EAX, _ => Register.RAX };

    private static IEnumerable<(ulong A, ulong B)> Pairs(int bits)
    {
        var values = DiffCases.EdgeValues(bits).Append(3UL).Append(DiffCases.Mask(bits) / 3).ToArray();
        foreach (var a in values)
        {
            foreach (var b in values)
            {
                yield return (a, b);
            }
        }
    }

    [TestCase("Mul")]
    [TestCase("Imul")]
    public void OneOperand(string mnemonic)
    {
        var cases = new List<DiffCase>();
        foreach (var (src, bits) in Sources)
        {
            foreach (var (a, b) in Pairs(bits))
            {
                var gpr = DiffCases.Gpr();
                DiffCases.SetReg(gpr, Acc(bits), a);
                DiffCases.SetReg(gpr, src, b);
                var code = DiffCases.CodeOf($"{mnemonic}_rm{bits}");
                cases.Add(new DiffCase
                {
                    Name = $"{mnemonic} {src}={b:X}, acc={a:X}",
                    Code = DiffCases.Emit(Instruction.Create(code, src)),
                    Gpr = gpr,
                    Flags = 0x8D5,
                    FlagsMask = CfOf,
                });

                if (src is Register.CL or Register.CX or Register.ECX or Register.RCX)
                {
                    var memGpr = DiffCases.Gpr();
                    DiffCases.SetReg(memGpr, Acc(bits), a);
                    cases.Add(new DiffCase
                    {
                        Name = $"{mnemonic} m{bits}={b:X}, acc={a:X}",
                        Code = DiffCases.Emit(Instruction.Create(code, new MemoryOperand(Register.RBX, 24))),
                        Gpr = memGpr,
                        FlagsMask = CfOf,
                        Scratch = DiffCases.ScratchWith(24, b),
                    });
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Imul_TwoAndThreeOperands()
    {
        var cases = new List<DiffCase>();
        foreach (var bits in new[] { 16, 32, 64 })
        {
            var dst = bits switch { 16 => Register.SI, 32 => Register.R11D, _ => Register.RSI };
            var src = bits switch { 16 => Register.DX, 32 => Register.EDX, _ => Register.R13 };
            var mem = new MemoryOperand(Register.RBX, 32);
            foreach (var (a, b) in Pairs(bits))
            {
                var gpr = DiffCases.Gpr();
                DiffCases.SetReg(gpr, dst, a);
                DiffCases.SetReg(gpr, src, b);
                cases.Add(new DiffCase
                {
                    Name = $"imul {dst}={a:X}, {src}={b:X}",
                    Code = DiffCases.Emit(Instruction.Create(DiffCases.CodeOf($"Imul_r{bits}_rm{bits}"), dst, src)),
                    Gpr = gpr,
                    FlagsMask = CfOf,
                });
                cases.Add(new DiffCase
                {
                    Name = $"imul {dst}={a:X}, m{bits}={b:X}",
                    Code = DiffCases.Emit(Instruction.Create(DiffCases.CodeOf($"Imul_r{bits}_rm{bits}"), dst, mem)),
                    Gpr = gpr,
                    Flags = 0x8D5,
                    FlagsMask = CfOf,
                    Scratch = DiffCases.ScratchWith(32, b),
                });
            }

            // Three operands: imm8 (sign-extended) and imm16/imm32 forms, register and memory sources.
            var wideImm = bits == 16 ? "imm16" : "imm32";
            foreach (var v in DiffCases.EdgeValues(bits))
            {
                foreach (var imm in new[] { 0, 1, -1, 2, 127, -128, 0x7FFF, -0x8000, 0x1234_5678, int.MinValue, int.MaxValue, 3 })
                {
                    var immCode = imm is >= -128 and <= 127 ? "imm8" : wideImm;
                    if (bits == 16 && immCode == "imm16" && (imm < short.MinValue || imm > ushort.MaxValue))
                    {
                        continue;
                    }

                    var gpr = DiffCases.Gpr();
                    DiffCases.SetReg(gpr, src, v);
                    var code = DiffCases.CodeOf($"Imul_r{bits}_rm{bits}_{immCode}");
                    cases.Add(new DiffCase
                    {
                        Name = $"imul {dst}, {src}={v:X}, {imm}",
                        Code = DiffCases.Emit(Instruction.Create(code, dst, src, imm)),
                        Gpr = gpr,
                        FlagsMask = CfOf,
                    });
                    cases.Add(new DiffCase
                    {
                        Name = $"imul {dst}, m{bits}={v:X}, {imm}",
                        Code = DiffCases.Emit(Instruction.Create(code, dst, mem, imm)),
                        Gpr = DiffCases.Gpr(),
                        FlagsMask = CfOf,
                        Scratch = DiffCases.ScratchWith(32, v),
                    });
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [TestCase("Div")]
    [TestCase("Idiv")]
    public void Divide(string mnemonic)
    {
        var signed = mnemonic == "Idiv";
        var cases = new List<DiffCase>();
        foreach (var (src, bits) in Sources)
        {
            var code = DiffCases.CodeOf($"{mnemonic}_rm{bits}");
            var m = DiffCases.Mask(bits);
            foreach (var d in DiffCases.EdgeValues(bits).Where(d => d != 0).Append(3UL).Append(7UL))
            {
                foreach (var (hi, lo) in Dividends(bits))
                {
                    if (!Fits(signed, bits, hi, lo, d))
                    {
                        continue;
                    }

                    var gpr = DiffCases.Gpr();
                    SetDividend(gpr, bits, hi, lo);
                    DiffCases.SetReg(gpr, src, d);
                    cases.Add(new DiffCase
                    {
                        Name = $"{mnemonic} {src}={d:X}, dividend={hi:X}:{lo:X}",
                        Code = DiffCases.Emit(Instruction.Create(code, src)),
                        Gpr = gpr,
                        Flags = 0x8D5,
                        FlagsMask = 0,
                    });

                    if (src is Register.CL or Register.ECX or Register.RCX)
                    {
                        var memGpr = DiffCases.Gpr();
                        SetDividend(memGpr, bits, hi, lo);
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} m{bits}={d:X}, dividend={hi:X}:{lo:X}",
                            Code = DiffCases.Emit(Instruction.Create(code, new MemoryOperand(Register.RBX, 40))),
                            Gpr = memGpr,
                            FlagsMask = 0,
                            Scratch = DiffCases.ScratchWith(40, d & m),
                        });
                    }
                }
            }
        }

        Assert.That(cases, Has.Count.GreaterThan(200));
        AssertSameAsHost(cases);
    }

    /// <summary>Division by zero and quotient overflow raise #DE (SIGFPE) before any register is written.</summary>
    [Test]
    public void Divide_ZeroAndOverflow_RaiseDivideError()
    {
        var faulting = new List<(string Name, Code Code, Register Src, int Bits, ulong Hi, ulong Lo, ulong Divisor)>();
        foreach (var bits in new[] { 8, 16, 32, 64 })
        {
            var sign = 1UL << (bits - 1);
            var m = DiffCases.Mask(bits);
            var src = bits switch { 8 => Register.BH, 16 => Register.CX, 32 => Register.ECX, _ => Register.RCX };
            foreach (var mnemonic in new[] { "Div", "Idiv" })
            {
                var code = DiffCases.CodeOf($"{mnemonic}_rm{bits}");
                faulting.Add(($"{mnemonic}{bits} by zero", code, src, bits, 0, 5, 0));
                faulting.Add(($"{mnemonic}{bits} zero by zero", code, src, bits, 0, 0, 0));
            }

            faulting.Add(($"div{bits} quotient too wide", DiffCases.CodeOf($"Div_rm{bits}"), src, bits, 1, 0, 1));
            faulting.Add(($"div{bits} hi == divisor", DiffCases.CodeOf($"Div_rm{bits}"), src, bits, 7, 0, 7));
            faulting.Add(($"idiv{bits} MIN / -1", DiffCases.CodeOf($"Idiv_rm{bits}"), src, bits, m, sign, m));
            faulting.Add(($"idiv{bits} +2^(n-1) / 1", DiffCases.CodeOf($"Idiv_rm{bits}"), src, bits, 0, sign, 1));
            faulting.Add(($"idiv{bits} -2^(n-1)-1 / 1", DiffCases.CodeOf($"Idiv_rm{bits}"), src, bits, m, sign - 1, 1));
            faulting.Add(($"idiv{bits} wide / -1", DiffCases.CodeOf($"Idiv_rm{bits}"), src, bits, 1, 0, m));
            faulting.Add(($"idiv{bits} 2^n / 2", DiffCases.CodeOf($"Idiv_rm{bits}"), src, bits, 1, 0, 2));
        }

        foreach (var (name, code, src, bits, hi, lo, d) in faulting)
        {
            var gpr = DiffCases.Gpr();
            SetDividend(gpr, bits, hi, lo);
            DiffCases.SetReg(gpr, src, d);
            var c = new DiffCase
            {
                Name = name,
                Code = DiffCases.Emit(Instruction.Create(Code.Nopd), Instruction.Create(code, src)),
                Gpr = gpr,
            };
            var (signal, reason, offset) = RunFaulting(c);
            Assert.Multiple(() =>
            {
                Assert.That(signal, Is.EqualTo(SigFpe), $"{name}: native signal");
                Assert.That(reason, Is.EqualTo(ExitReason.DivideError), $"{name}: emulated exit");
                Assert.That(offset, Is.EqualTo(1UL), $"{name}: RIP must be the divide itself");
            });
        }
    }

    /// <summary>The largest 64-bit cases: 128-bit dividends whose quotient still fits.</summary>
    [Test]
    public void Divide64_WideDividends()
    {
        var cases = new List<DiffCase>();
        foreach (var (hi, lo, d, signed) in new (ulong, ulong, ulong, bool)[]
        {
            (0xFFFF_FFFF_FFFF_FFFE, 0xFFFF_FFFF_FFFF_FFFF, ulong.MaxValue, false),
            (0x1234_5678, 0x9ABC_DEF0_1234_5678, 0x1_0000_0000, false),
            (0, 0x8000_0000_0000_0000, ulong.MaxValue, true), // 2^63 / -1 = -2^63 fits
            (ulong.MaxValue, 0x8000_0000_0000_0000, 1, true),
            (ulong.MaxValue, 0x8000_0000_0000_0001, ulong.MaxValue, true),
            (0x3FFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, true), // 2^126 - 1 / -2^63
            (0xFFFF_FFFF_C000_0000, 0x0000_0000_0000_0001, 0x7FFF_FFFF_FFFF_FFFF, true),
            (0xFFFF_FFFF_FFFF_FF00, 0x1234, 0x1_0000_0001, true),
        })
        {
            var gpr = DiffCases.Gpr((0, lo), (2, hi), (1, d));
            cases.Add(new DiffCase
            {
                Name = $"{(signed ? "idiv" : "div")} {hi:X}:{lo:X} / {d:X}",
                Code = DiffCases.Emit(Instruction.Create(signed ? Code.Idiv_rm64 : Code.Div_rm64, Register.RCX)),
                Gpr = gpr,
                FlagsMask = 0,
            });
        }

        AssertSameAsHost(cases);
    }

    private static IEnumerable<(ulong Hi, ulong Lo)> Dividends(int bits)
    {
        var m = DiffCases.Mask(bits);
        foreach (var lo in DiffCases.EdgeValues(bits))
        {
            foreach (var hi in new ulong[] { 0UL, 1, 2, m, m - 1, (1UL << (bits - 1)) - 1 })
            {
                yield return (hi, lo);
            }
        }
    }

    /// <summary>Puts hi:lo in AH:AL (8-bit) or rDX:rAX.</summary>
    private static void SetDividend(ulong[] gpr, int bits, ulong hi, ulong lo)
    {
        if (bits == 8)
        {
            DiffCases.SetReg(gpr, Register.AL, lo);
            DiffCases.SetReg(gpr, Register.AH, hi);
            return;
        }

        DiffCases.SetReg(gpr, Acc(bits), lo);
        DiffCases.SetReg(gpr, bits switch { 16 => Register.DX, 32 => Register.EDX, _ => Register.RDX }, hi);
    }

    /// <summary>True when the quotient fits (so the host does not fault).</summary>
    private static bool Fits(bool signed, int bits, ulong hi, ulong lo, ulong d)
    {
        if (!signed)
        {
            return hi < d;
        }

        var n = ((Int128)(long)(hi << (64 - bits)) >> (64 - bits) << bits) | lo;
        var dv = (long)(d << (64 - bits)) >> (64 - bits);
        var q = n / dv;
        var min = -((Int128)1 << (bits - 1));
        return q >= min && q <= -min - 1;
    }
}
