using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>SETcc and CMOVcc: the condition code lives in <see cref="Op.Aux"/>.</summary>
internal static unsafe class Conditional
{
    public static void Register()
    {
        foreach (var m in new[]
        {
            Mnemonic.Seto, Mnemonic.Setno, Mnemonic.Setb, Mnemonic.Setae, Mnemonic.Sete, Mnemonic.Setne, Mnemonic.Setbe, Mnemonic.Seta,
            Mnemonic.Sets, Mnemonic.Setns, Mnemonic.Setp, Mnemonic.Setnp, Mnemonic.Setl, Mnemonic.Setge, Mnemonic.Setle, Mnemonic.Setg,
        })
        {
            OpTable.AddMnemonic(m, BuildSet);
        }

        foreach (var m in new[]
        {
            Mnemonic.Cmovo, Mnemonic.Cmovno, Mnemonic.Cmovb, Mnemonic.Cmovae, Mnemonic.Cmove, Mnemonic.Cmovne, Mnemonic.Cmovbe, Mnemonic.Cmova,
            Mnemonic.Cmovs, Mnemonic.Cmovns, Mnemonic.Cmovp, Mnemonic.Cmovnp, Mnemonic.Cmovl, Mnemonic.Cmovge, Mnemonic.Cmovle, Mnemonic.Cmovg,
        })
        {
            OpTable.AddMnemonic(m, BuildCmov);
        }
    }

    private static bool BuildSet(in Instruction insn, ref Op op)
    {
        op.Aux = Branches.ConditionNibble(insn);
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = &SetR;
            return true;
        }

        op.Handler = &SetM;
        return Operands.Mem(insn, ref op);
    }

    private static bool BuildCmov(in Instruction insn, ref Op op)
    {
        op.Aux = Branches.ConditionNibble(insn);
        op.R0 = Operands.Gpr(insn.Op0Register);
        var size = insn.Op0Register.GetSize();
        if (insn.Op1Kind == OpKind.Register)
        {
            op.R1 = Operands.Gpr(insn.Op1Register);
            op.Handler = Sized.Pick(size, null, &CmovRR<W16>, &CmovRR<W32>, &CmovRR<W64>);
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.Handler = Sized.Pick(size, null, &CmovRM<W16>, &CmovRM<W32>, &CmovRM<W64>);
        }

        return op.Handler != null;
    }

    private static int SetR(CpuState c, Op* op)
    {
        W8.Set(c, op->R0, c.Condition(op->Aux) ? 1UL : 0);
        return 0;
    }

    private static int SetM(CpuState c, Op* op)
    {
        c.Write8(c.Ea(op), c.Condition(op->Aux) ? (byte)1 : (byte)0);
        return 0;
    }

    // The destination is always written (with its own value when false): a 32-bit CMOV
    // zero-extends its destination whatever the condition.
    private static int CmovRR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, c.Condition(op->Aux) ? W.Get(c, op->R1) : W.Get(c, op->R0));
        return 0;
    }

    // The source is read (and may fault) even when the condition is false.
    private static int CmovRM<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var v = W.Load(c, c.Ea(op));
        W.Set(c, op->R0, c.Condition(op->Aux) ? v : W.Get(c, op->R0));
        return 0;
    }
}
