using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static UserModeOS.Cpu.Tests.Differential.CaseKit;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

public enum AluKind
{
    Add,
    Or,
    Adc,
    Sbb,
    And,
    Sub,
    Xor,
    Cmp,
    Test,
}

/// <summary>ADD, OR, ADC, SBB, AND, SUB, XOR, CMP and TEST against the host CPU.</summary>
[TestFixture]
public sealed class AluTests
{
    // Every arithmetic flag but CF, and CF alone: the carry-in for ADC/SBB both ways, and
    // every other flag seen both set and clear before the instruction overwrites it.
    private static readonly ulong[] InitialFlags = [ArithmeticFlags & ~1UL, 1];

    private static readonly Register[] Low8 = [Register.AL, Register.CL, Register.DL, Register.BL, Register.AH, Register.CH, Register.DH, Register.BH];

    [Test]
    public void EdgeValues_RegisterRegister_EverySize([Values] AluKind kind)
    {
        var cases = new List<DiffCase>();
        foreach (var (dst, src) in new[] { (Register.AL, Register.CL), (Register.AX, Register.CX), (Register.EAX, Register.ECX), (Register.RAX, Register.RCX) })
        {
            var bits = dst.GetSize() * 8;
            var code = FindCode(kind, RmOperand(bits), RegOperand(bits));
            foreach (var a in EdgeValues(bits))
            {
                foreach (var b in EdgeValues(bits))
                {
                    cases.AddRange(RegisterCases(kind, Instruction.Create(code, dst, src), dst, a, src, b));
                }
            }
        }

        AssertSameAsHost(cases);
    }

    /// <summary>Every legacy encoding valid in 64-bit mode, with register, memory and LOCK forms.</summary>
    [Test]
    public void EveryEncoding_EveryOperandForm([Values] AluKind kind)
    {
        var cases = new List<DiffCase>();
        foreach (var code in CodesOf(kind))
        {
            cases.AddRange(FormCases(kind, code));
        }

        Assert.That(cases, Is.Not.Empty);
        AssertSameAsHost(cases);
    }

    [Test]
    public void HighAndLowByteRegisters_AllPairs([Values] AluKind kind)
    {
        var cases = new List<DiffCase>();
        var pairs = FormPairs(8);
        foreach (var code in new[] { FindCode(kind, OpCodeOperandKind.r8_or_mem, OpCodeOperandKind.r8_reg), FindCodeOrNone(kind, OpCodeOperandKind.r8_reg, OpCodeOperandKind.r8_or_mem) })
        {
            if (code == Code.INVALID)
            {
                continue;
            }

            foreach (var dst in Low8)
            {
                foreach (var src in Low8)
                {
                    foreach (var (a, b) in pairs[..4])
                    {
                        cases.AddRange(RegisterCases(kind, Instruction.Create(code, dst, src), dst, a, src, b));
                    }
                }
            }
        }

        AssertSameAsHost(cases);
    }

    /// <summary><c>xor eax,eax</c>, <c>sub rax,rax</c>, <c>add ah,ah</c>: the same register as both operands.</summary>
    [Test]
    public void SameRegisterAsBothOperands([Values] AluKind kind)
    {
        var cases = new List<DiffCase>();
        foreach (var reg in new[] { Register.AL, Register.AH, Register.R15L, Register.SIL, Register.CX, Register.R9W, Register.EAX, Register.R12D, Register.RDX, Register.R13 })
        {
            var bits = reg.GetSize() * 8;
            var code = FindCode(kind, RmOperand(bits), RegOperand(bits));
            foreach (var a in EdgeValues(bits))
            {
                cases.AddRange(RegisterCases(kind, Instruction.Create(code, reg, reg), reg, a, reg, a));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Lock_WithCmpOrTest_IsInvalidOpcode([Values(0x39, 0x85)] int opcode)
    {
        // lock cmp [rbx],eax / lock test [rbx],eax: only read-modify-write instructions take LOCK.
        var result = RunFaulting(new DiffCase
        {
            Name = $"lock {opcode:X2} /r",
            Code = a => a.db(0xF0, (byte)opcode, 0x03),
            Gpr = WithRegister(Register.RBX, ScratchAddress),
        });
        Assert.That(result, Is.EqualTo((SigIll, ExitReason.InvalidOpcode, 0UL)));
    }

    [Test]
    public void Lock_WithRegisterDestination_IsInvalidOpcode()
    {
        var result = RunFaulting(new DiffCase { Name = "lock add eax,ecx", Code = a => a.db(0xF0, 0x01, 0xC8) });
        Assert.That(result, Is.EqualTo((SigIll, ExitReason.InvalidOpcode, 0UL)));
    }

    [Test]
    public void MemoryDestination_OnUnmappedPage_FaultsAtTheInstruction([Values] bool locked)
    {
        var result = RunFaulting(new DiffCase
        {
            Name = $"{(locked ? "lock " : "")}add [guard page],eax",
            Code = a =>
            {
                a.nop();
                var insn = Instruction.Create(Code.Add_rm32_r32, new MemoryOperand(Register.RBX, 0x1000), Register.EAX);
                insn.HasLockPrefix = locked;
                a.AddInstruction(insn);
            },
            Gpr = WithRegister(Register.RBX, ScratchAddress),
        });
        Assert.That(result, Is.EqualTo((SigSegv, ExitReason.PageFault, 1UL)));
    }

    [Test]
    public void MemoryDestination_OnReadOnlyCode_FaultsAtTheInstruction([Values] bool locked)
    {
        var result = RunFaulting(new DiffCase
        {
            Name = $"{(locked ? "lock " : "")}add [own code],eax",
            Code = a =>
            {
                var insn = Instruction.Create(Code.Add_rm32_r32, new MemoryOperand(Register.RIP, 0x40_1000), Register.EAX);
                insn.HasLockPrefix = locked;
                a.AddInstruction(insn);
            },
        });
        Assert.That(result, Is.EqualTo((SigSegv, ExitReason.PageFault, 0UL)));
    }

    /// <summary>
    /// A write fault must leave RFLAGS as they were: the instruction runs again after the
    /// handler unprotects the page, and ADC/SBB would read a clobbered CF.
    /// </summary>
    [Test]
    public void MemoryDestination_WriteFault_LeavesFlagsUnchanged(
        [Values(AluKind.Add, AluKind.Adc, AluKind.Sbb, AluKind.Xor)] AluKind kind, [Values] bool locked, [Values(8, 64)] int bits)
    {
        var code = FindCode(kind, RmOperand(bits), RegOperand(bits));
        var reg = bits == 8 ? Register.CL : Register.RCX;
        var flags = ArithmeticFlags & ~0x40UL; // CF set, ZF clear: any result would change something
        var c = new DiffCase
        {
            Name = $"{kind} [read-only code],reg",
            Code = a =>
            {
                var insn = Instruction.Create(code, new MemoryOperand(Register.RIP, 0x40_1000), reg);
                insn.HasLockPrefix = locked;
                a.AddInstruction(insn);
            },
            Gpr = WithRegister(Register.RCX, 1),
            Flags = flags,
        };

        var emulated = RunEmulated(c);
        Assert.That(emulated.Exit, Is.EqualTo(ExitReason.PageFault));
        Assert.That(emulated.Rflags & ArithmeticFlags, Is.EqualTo(flags), "flags changed by a faulting instruction");
    }

    private const int SigIll = 4;
    private const int SigSegv = 11;

    internal static IEnumerable<Code> CodesOf(AluKind kind)
    {
        var mnemonic = Enum.Parse<Mnemonic>(kind.ToString());
        return Enum.GetValues<Code>().Where(c =>
            c.Mnemonic() == mnemonic && c.Encoding() == EncodingKind.Legacy && c.ToOpCode().Mode64);
    }

    /// <summary>The <c>op r/m, reg</c> encoding of a kind at a size.</summary>
    internal static Code RegisterForm(AluKind kind, int bits) => FindCode(kind, RmOperand(bits), RegOperand(bits));

    private static Code FindCode(AluKind kind, OpCodeOperandKind op0, OpCodeOperandKind op1)
    {
        var code = FindCodeOrNone(kind, op0, op1);
        return code != Code.INVALID ? code : throw new ArgumentException($"{kind} has no {op0},{op1} form");
    }

    private static Code FindCodeOrNone(AluKind kind, OpCodeOperandKind op0, OpCodeOperandKind op1) =>
        CodesOf(kind).FirstOrDefault(c => c.ToOpCode().GetOpKind(0) == op0 && c.ToOpCode().GetOpKind(1) == op1, Code.INVALID);

    private static OpCodeOperandKind RmOperand(int bits) => bits switch
    {
        8 => OpCodeOperandKind.r8_or_mem,
        16 => OpCodeOperandKind.r16_or_mem,
        32 => OpCodeOperandKind.r32_or_mem,
        _ => OpCodeOperandKind.r64_or_mem,
    };

    private static OpCodeOperandKind RegOperand(int bits) => bits switch
    {
        8 => OpCodeOperandKind.r8_reg,
        16 => OpCodeOperandKind.r16_reg,
        32 => OpCodeOperandKind.r32_reg,
        _ => OpCodeOperandKind.r64_reg,
    };

    private static int Bits(OpCodeOperandKind k) => k switch
    {
        OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r8_reg or OpCodeOperandKind.al => 8,
        OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r16_reg or OpCodeOperandKind.ax => 16,
        OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r32_reg or OpCodeOperandKind.eax => 32,
        OpCodeOperandKind.r64_or_mem or OpCodeOperandKind.r64_reg or OpCodeOperandKind.rax => 64,
        _ => throw new ArgumentException($"not a GPR operand: {k}"),
    };

    /// <summary>Register pairs for two-register forms: legacy, high-byte, REX-only and repeated registers.</summary>
    private static (Register Dst, Register Src)[] RegisterPairs(int bits) => bits switch
    {
        8 =>
        [
            (Register.AL, Register.CL), (Register.CH, Register.AH), (Register.BH, Register.DL), (Register.AH, Register.AL),
            (Register.DH, Register.DH), (Register.SIL, Register.DIL), (Register.R8L, Register.SPL), (Register.R15L, Register.R9L),
            (Register.BPL, Register.R12L),
        ],
        16 => [(Register.AX, Register.CX), (Register.DX, Register.BX), (Register.SI, Register.R8W), (Register.R15W, Register.BP), (Register.R11W, Register.SP), (Register.DI, Register.DI)],
        32 => [(Register.EAX, Register.ECX), (Register.EDX, Register.EBX), (Register.ESI, Register.R8D), (Register.R15D, Register.EBP), (Register.R10D, Register.ESP), (Register.EDI, Register.EDI)],
        _ => [(Register.RAX, Register.RCX), (Register.RDX, Register.RBX), (Register.RSI, Register.R8), (Register.R15, Register.RBP), (Register.R13, Register.RSP), (Register.RDI, Register.RDI)],
    };

    /// <summary>Register operands for memory forms: none of them is an address register of <see cref="CaseKit.MemoryModes"/>.</summary>
    private static Register[] MemoryFormRegisters(int bits) => bits switch
    {
        8 => [Register.AL, Register.CH, Register.DIL, Register.R9L],
        16 => [Register.AX, Register.DI, Register.R9W],
        32 => [Register.EAX, Register.EDI, Register.R9D],
        _ => [Register.RAX, Register.RDI, Register.R9],
    };

    private static IEnumerable<DiffCase> FormCases(AluKind kind, Code code)
    {
        var info = code.ToOpCode();
        var k0 = info.GetOpKind(0);
        var k1 = info.GetOpKind(1);
        var bits = Bits(k0);
        var pairs = FormPairs(bits);
        var lockForms = info.CanUseLockPrefix ? new[] { false, true } : [false];
        var isImmediate = k1 is not (OpCodeOperandKind.r8_reg or OpCodeOperandKind.r16_reg or OpCodeOperandKind.r32_reg or OpCodeOperandKind.r64_reg
            or OpCodeOperandKind.r8_or_mem or OpCodeOperandKind.r16_or_mem or OpCodeOperandKind.r32_or_mem or OpCodeOperandKind.r64_or_mem);

        if (k0 is OpCodeOperandKind.al or OpCodeOperandKind.ax or OpCodeOperandKind.eax or OpCodeOperandKind.rax)
        {
            var acc = bits switch { 8 => Register.AL, 16 => Register.AX, 32 => Register.EAX, _ => Register.RAX };
            foreach (var (a, b) in pairs)
            {
                var imm = Immediate(k1, b);
                foreach (var c in RegisterCases(kind, Instruction.Create(code, acc, imm), acc, a, Register.None, 0))
                {
                    yield return c;
                }
            }

            yield break;
        }

        var destinationIsRm = k0 == RmOperand(bits);
        foreach (var (dst, src) in RegisterPairs(bits))
        {
            foreach (var (a, b) in pairs)
            {
                var insn = isImmediate ? Instruction.Create(code, dst, Immediate(k1, b)) : Instruction.Create(code, dst, src);
                foreach (var c in RegisterCases(kind, insn, dst, a, isImmediate ? Register.None : src, b))
                {
                    yield return c;
                }

                if (!isImmediate && src.GetFullRegister() == Register.RSP)
                {
                    break; // RSP's value is the harness's; more pairs add nothing
                }
            }
        }

        var registers = MemoryFormRegisters(bits);
        for (var m = 0; m < MemoryModes.Length; m++)
        {
            var mode = MemoryModes[m];
            var reg = registers[m % registers.Length];
            foreach (var locked in destinationIsRm ? lockForms : [false])
            {
                foreach (var (a, b) in pairs)
                {
                    Instruction insn;
                    if (isImmediate)
                    {
                        insn = Instruction.Create(code, mode.Operand, Immediate(k1, b));
                    }
                    else if (destinationIsRm)
                    {
                        insn = Instruction.Create(code, mode.Operand, reg);
                    }
                    else
                    {
                        insn = Instruction.Create(code, reg, mode.Operand);
                    }

                    insn.HasLockPrefix = locked;
                    var gpr = BackgroundGpr();
                    mode.Apply(gpr);
                    var scratch = PatternScratch();
                    Store(scratch, mode.Offset, bits / 8, destinationIsRm ? a : b);
                    if (!isImmediate)
                    {
                        Put(gpr, reg, destinationIsRm ? b : a);
                    }

                    foreach (var flags in InitialFlags)
                    {
                        yield return MakeCase(kind, insn, code, $"a=0x{a:X} b=0x{b:X}", gpr, scratch, flags);
                    }
                }
            }
        }
    }

    /// <summary>The immediate Iced wants for an operand kind, from the source value <paramref name="b"/>.</summary>
    private static int Immediate(OpCodeOperandKind kind, ulong b) => kind switch
    {
        OpCodeOperandKind.imm8 or OpCodeOperandKind.imm8sex16 or OpCodeOperandKind.imm8sex32 or OpCodeOperandKind.imm8sex64 => (sbyte)b,
        OpCodeOperandKind.imm16 => (short)b,
        OpCodeOperandKind.imm32 or OpCodeOperandKind.imm32sex64 => (int)b,
        _ => throw new ArgumentException($"not an immediate: {kind}"),
    };

    private static IEnumerable<DiffCase> RegisterCases(AluKind kind, Instruction insn, Register dst, ulong a, Register src, ulong b)
    {
        var gpr = BackgroundGpr();
        Put(gpr, dst, a);
        if (src != Register.None)
        {
            Put(gpr, src, b);
        }

        foreach (var flags in InitialFlags)
        {
            yield return MakeCase(kind, insn, insn.Code, $"a=0x{a:X} b=0x{b:X}", gpr, null, flags);
        }
    }

    private static DiffCase MakeCase(AluKind kind, Instruction insn, Code code, string values, ulong[] gpr, byte[]? scratch, ulong flags) => new()
    {
        Name = $"{Text(insn)} ({code}) {values} flags=0x{flags:X}",
        Code = a => a.AddInstruction(insn),
        Gpr = gpr,
        Scratch = scratch,
        Flags = flags,
        // The SDM leaves AF undefined after AND, OR, XOR and TEST.
        FlagsMask = kind is AluKind.And or AluKind.Or or AluKind.Xor or AluKind.Test ? ArithmeticFlags & ~0x10UL : ArithmeticFlags,
    };

    private static ulong[] WithRegister(Register reg, ulong value)
    {
        var gpr = new ulong[16];
        gpr[reg.GetNumber()] = value;
        return gpr;
    }
}
