using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>JMP, Jcc, JRCXZ, LOOPcc, CALL, RET: every one ends its block and sets RIP.</summary>
internal static unsafe class Branches
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Jmp, BuildJmp);
        OpTable.AddMnemonic(Mnemonic.Call, BuildCall);
        OpTable.AddMnemonic(Mnemonic.Ret, BuildRet);
        foreach (var m in new[]
        {
            Mnemonic.Jo, Mnemonic.Jno, Mnemonic.Jb, Mnemonic.Jae, Mnemonic.Je, Mnemonic.Jne, Mnemonic.Jbe, Mnemonic.Ja,
            Mnemonic.Js, Mnemonic.Jns, Mnemonic.Jp, Mnemonic.Jnp, Mnemonic.Jl, Mnemonic.Jge, Mnemonic.Jle, Mnemonic.Jg,
        })
        {
            OpTable.AddMnemonic(m, BuildJcc);
        }

        // Only the 64-bit operand-size forms: a 66h prefix would truncate RIP to 16 bits.
        OpTable.Add(Code.Jrcxz_rel8_64, Rel(&Jrcxz));
        OpTable.Add(Code.Jecxz_rel8_64, Rel(&Jecxz));
        OpTable.Add(Code.Loop_rel8_64_RCX, Rel(&Loop<W64, LoopAlways>));
        OpTable.Add(Code.Loop_rel8_64_ECX, Rel(&Loop<W32, LoopAlways>));
        OpTable.Add(Code.Loope_rel8_64_RCX, Rel(&Loop<W64, LoopWhileZero>));
        OpTable.Add(Code.Loope_rel8_64_ECX, Rel(&Loop<W32, LoopWhileZero>));
        OpTable.Add(Code.Loopne_rel8_64_RCX, Rel(&Loop<W64, LoopWhileNotZero>));
        OpTable.Add(Code.Loopne_rel8_64_ECX, Rel(&Loop<W32, LoopWhileNotZero>));
    }

    /// <summary>A builder for a near branch whose target goes in <see cref="Op.Imm"/>.</summary>
    private static OpBuilder Rel(delegate*<CpuState, Op*, int> handler) => (in Instruction insn, ref Op op) =>
    {
        if (insn.Op0Kind != OpKind.NearBranch64)
        {
            return false;
        }

        op.Imm = (long)insn.NearBranch64;
        op.Handler = handler;
        return true;
    };

    /// <summary>The x86 condition-code nibble (0 = O ... 15 = G) of a conditional instruction.</summary>
    internal static byte ConditionNibble(in Instruction insn) => insn.ConditionCode switch
    {
        ConditionCode.o => 0,
        ConditionCode.no => 1,
        ConditionCode.b => 2,
        ConditionCode.ae => 3,
        ConditionCode.e => 4,
        ConditionCode.ne => 5,
        ConditionCode.be => 6,
        ConditionCode.a => 7,
        ConditionCode.s => 8,
        ConditionCode.ns => 9,
        ConditionCode.p => 10,
        ConditionCode.np => 11,
        ConditionCode.l => 12,
        ConditionCode.ge => 13,
        ConditionCode.le => 14,
        _ => 15,
    };

    private static bool BuildJcc(in Instruction insn, ref Op op)
    {
        if (insn.Op0Kind != OpKind.NearBranch64)
        {
            return false;
        }

        op.Imm = (long)insn.NearBranch64;
        op.Aux = ConditionNibble(insn);
        op.Handler = JccByCondition[op.Aux];
        return true;
    }

    private static bool BuildJmp(in Instruction insn, ref Op op)
    {
        switch (insn.Op0Kind)
        {
            case OpKind.NearBranch64:
                op.Imm = (long)insn.NearBranch64;
                op.Handler = &JmpRel;
                return true;
            case OpKind.Register when insn.Op0Register.GetSize() == 8:
                op.R0 = Operands.Gpr(insn.Op0Register);
                op.Handler = &JmpR;
                return true;
            case OpKind.Memory when insn.MemorySize.GetSize() == 8:
                op.Handler = &JmpM;
                return Operands.Mem(insn, ref op);
            default:
                return false;
        }
    }

    private static bool BuildCall(in Instruction insn, ref Op op)
    {
        switch (insn.Op0Kind)
        {
            case OpKind.NearBranch64:
                op.Imm = (long)insn.NearBranch64;
                op.Handler = &CallRel;
                return true;
            case OpKind.Register when insn.Op0Register.GetSize() == 8:
                op.R0 = Operands.Gpr(insn.Op0Register);
                op.Handler = &CallR;
                return true;
            case OpKind.Memory when insn.MemorySize.GetSize() == 8:
                op.Handler = &CallM;
                return Operands.Mem(insn, ref op);
            default:
                return false;
        }
    }

    private static bool BuildRet(in Instruction insn, ref Op op)
    {
        if (insn.Code is not (Code.Retnq or Code.Retnq_imm16))
        {
            return false;
        }

        op.Imm = insn.Code == Code.Retnq_imm16 ? insn.Immediate16 : 0;
        op.Handler = &Ret;
        return true;
    }

    private static readonly delegate*<CpuState, Op*, int>[] JccByCondition =
    {
        &Jcc<ConditionCodes.C0>, &Jcc<ConditionCodes.C1>, &Jcc<ConditionCodes.C2>, &Jcc<ConditionCodes.C3>,
        &Jcc<ConditionCodes.C4>, &Jcc<ConditionCodes.C5>, &Jcc<ConditionCodes.C6>, &Jcc<ConditionCodes.C7>,
        &Jcc<ConditionCodes.C8>, &Jcc<ConditionCodes.C9>, &Jcc<ConditionCodes.C10>, &Jcc<ConditionCodes.C11>,
        &Jcc<ConditionCodes.C12>, &Jcc<ConditionCodes.C13>, &Jcc<ConditionCodes.C14>, &Jcc<ConditionCodes.C15>,
    };

    /// <summary>Jcc with its condition fixed at compile time: the lazy-flag test folds to what this condition needs.</summary>
    private static int Jcc<C>(CpuState c, Op* op)
        where C : struct, ICc
    {
        c.Rip = c.Condition(C.Value) ? (ulong)op->Imm : op->NextRip;
        return 1;
    }

    private static int Jrcxz(CpuState c, Op* op)
    {
        c.Rip = c[Reg.Rcx] == 0 ? (ulong)op->Imm : op->NextRip;
        return 1;
    }

    private static int Jecxz(CpuState c, Op* op)
    {
        c.Rip = (uint)c[Reg.Rcx] == 0 ? (ulong)op->Imm : op->NextRip;
        return 1;
    }

    /// <summary>LOOP/LOOPE/LOOPNE: decrement the count (RCX, or ECX with a 67h prefix; flags untouched), branch while non-zero and the ZF condition holds.</summary>
    private static int Loop<W, L>(CpuState c, Op* op)
        where W : IWidth
        where L : ILoopCondition
    {
        const byte rcx = 1 * 8;
        var n = (W.Get(c, rcx) - 1) & W.Mask;
        W.Set(c, rcx, n);
        c.Rip = n != 0 && L.Holds(c) ? (ulong)op->Imm : op->NextRip;
        return 1;
    }

    private static int JmpRel(CpuState c, Op* op)
    {
        c.Rip = (ulong)op->Imm;
        return 1;
    }

    private static int JmpR(CpuState c, Op* op)
    {
        c.Rip = c.Reg64(op->R0);
        return 1;
    }

    private static int JmpM(CpuState c, Op* op)
    {
        c.Rip = c.Read64(c.Ea(op));
        return 1;
    }

    /// <summary>The push half of a direct CALL whose target the block builder decoded inline.</summary>
    internal static int PushReturn(CpuState c, Op* op)
    {
        Stack.Push<W64>(c, (ulong)op->Imm);
        return 0;
    }

    private static int CallRel(CpuState c, Op* op)
    {
        Stack.Push<W64>(c, op->NextRip);
        c.Rip = (ulong)op->Imm;
        return 1;
    }

    private static int CallR(CpuState c, Op* op)
    {
        var target = c.Reg64(op->R0);
        Stack.Push<W64>(c, op->NextRip);
        c.Rip = target;
        return 1;
    }

    private static int CallM(CpuState c, Op* op)
    {
        var target = c.Read64(c.Ea(op));
        Stack.Push<W64>(c, op->NextRip);
        c.Rip = target;
        return 1;
    }

    private static int Ret(CpuState c, Op* op)
    {
        var target = Stack.Pop<W64>(c);
        c[Reg.Rsp] += (ulong)op->Imm;
        c.Rip = target;
        return 1;
    }
}

internal interface ILoopCondition
{
    static abstract bool Holds(CpuState c);
}

internal struct LoopAlways : ILoopCondition
{
    public static bool Holds(CpuState c) => true;
}

internal struct LoopWhileZero : ILoopCondition
{
    public static bool Holds(CpuState c) => c.ZeroFlag;
}

internal struct LoopWhileNotZero : ILoopCondition
{
    public static bool Holds(CpuState c) => !c.ZeroFlag;
}
