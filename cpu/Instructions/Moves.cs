using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>MOV, LEA and the extending moves.</summary>
internal static unsafe class Moves
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Mov, BuildMov);
        OpTable.AddMnemonic(Mnemonic.Lea, BuildLea);
    }

    private static bool BuildMov(in Instruction insn, ref Op op)
    {
        if (insn.Op0Kind == OpKind.Register)
        {
            if (!insn.Op0Register.IsGPR())
            {
                return false;
            }

            op.R0 = Operands.Gpr(insn.Op0Register);
            var size = insn.Op0Register.GetSize();
            switch (insn.Op1Kind)
            {
                case OpKind.Register:
                    if (!insn.Op1Register.IsGPR())
                    {
                        return false;
                    }

                    op.R1 = Operands.Gpr(insn.Op1Register);
                    op.Handler = Sized.Pick(size, &MovRR<W8>, &MovRR<W16>, &MovRR<W32>, &MovRR<W64>);
                    break;
                case OpKind.Memory:
                    if (!Operands.Mem(insn, ref op))
                    {
                        return false;
                    }

                    op.Handler = Sized.Pick(size, &MovRM<W8>, &MovRM<W16>, &MovRM<W32>, &MovRM<W64>);
                    break;
                default:
                    op.Imm = (long)insn.GetImmediate(1);
                    op.Handler = Sized.Pick(size, &MovRI<W8>, &MovRI<W16>, &MovRI<W32>, &MovRI<W64>);
                    break;
            }
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            var size = insn.MemorySize.GetSize();
            if (insn.Op1Kind == OpKind.Register)
            {
                if (!insn.Op1Register.IsGPR())
                {
                    return false;
                }

                op.R1 = Operands.Gpr(insn.Op1Register);
                op.Handler = Sized.Pick(size, &MovMR<W8>, &MovMR<W16>, &MovMR<W32>, &MovMR<W64>);
            }
            else
            {
                op.Imm = (long)insn.GetImmediate(1);
                op.Handler = Sized.Pick(size, &MovMI<W8>, &MovMI<W16>, &MovMI<W32>, &MovMI<W64>);
            }
        }

        return op.Handler != null;
    }

    private static bool BuildLea(in Instruction insn, ref Op op)
    {
        if (!Operands.Mem(insn, ref op))
        {
            return false;
        }

        // The segment base is not part of an effective address.
        op.Seg = RegSlot.Zero;
        op.R0 = Operands.Gpr(insn.Op0Register);
        op.Handler = Sized.Pick(insn.Op0Register.GetSize(), null, &Lea<W16>, &Lea<W32>, &Lea<W64>);
        return op.Handler != null;
    }

    private static int MovRR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, W.Get(c, op->R1));
        return 0;
    }

    private static int MovRM<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, W.Load(c, c.Ea(op)));
        return 0;
    }

    private static int MovRI<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, (ulong)op->Imm);
        return 0;
    }

    private static int MovMR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Store(c, c.Ea(op), W.Get(c, op->R1));
        return 0;
    }

    private static int MovMI<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Store(c, c.Ea(op), (ulong)op->Imm);
        return 0;
    }

    private static int Lea<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, c.Ea(op));
        return 0;
    }
}
