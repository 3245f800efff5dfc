using System.Numerics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>The value an ALU-like operation computes, without its flags.</summary>
internal interface IValueOp
{
    static abstract ulong Compute<W>(ulong dst, ulong src)
        where W : IWidth;
}

/// <summary>
/// Flag-free forms of the common flag-setting instructions, used when the block builder
/// has proved that nothing reads their flags before they are overwritten (most of them:
/// in <c>add; rol; xor</c> only the last result's flags can matter). They compute the
/// value and leave the lazy flag state alone.
/// </summary>
internal static unsafe class FlagFree
{
    /// <summary>Builds a flag-free op for the instruction, or returns false to use the normal builder.</summary>
    public static bool TryBuild(in Instruction insn, ref Op op)
    {
        if (insn.HasLockPrefix || insn.Op0Kind != OpKind.Register || !insn.Op0Register.IsGPR())
        {
            return false;
        }

        var size = insn.Op0Register.GetSize();
        op.R0 = Operands.Gpr(insn.Op0Register);
        switch (insn.Mnemonic)
        {
            case Mnemonic.Add: return Binary<AddValue>(insn, ref op, size);
            case Mnemonic.Sub: return Binary<SubValue>(insn, ref op, size);
            case Mnemonic.And: return Binary<AndValue>(insn, ref op, size);
            case Mnemonic.Or: return Binary<OrValue>(insn, ref op, size);
            case Mnemonic.Xor: return Binary<XorValue>(insn, ref op, size);
            case Mnemonic.Inc: return Unary<AddValue>(ref op, size, 1);
            case Mnemonic.Dec: return Unary<SubValue>(ref op, size, 1);
            case Mnemonic.Neg: return Unary<NegValue>(ref op, size, 0);
            case Mnemonic.Shl or Mnemonic.Sal: return ShiftByImmediate<ShlValue>(insn, ref op, size);
            case Mnemonic.Shr: return ShiftByImmediate<ShrValue>(insn, ref op, size);
            case Mnemonic.Sar: return ShiftByImmediate<SarValue>(insn, ref op, size);
            case Mnemonic.Rol: return ShiftByImmediate<RolValue>(insn, ref op, size);
            case Mnemonic.Ror: return ShiftByImmediate<RorValue>(insn, ref op, size);
            case Mnemonic.Imul when insn.OpCount >= 2 && size >= 2: return Imul(insn, ref op, size);
            default: return false;
        }
    }

    private static bool Binary<V>(in Instruction insn, ref Op op, int size)
        where V : struct, IValueOp
    {
        switch (insn.Op1Kind)
        {
            case OpKind.Register:
                op.R1 = Operands.Gpr(insn.Op1Register);
                op.Handler = Sized.Pick(size, &RR<V, W8>, &RR<V, W16>, &RR<V, W32>, &RR<V, W64>);
                return true;
            case OpKind.Memory:
                if (!Operands.Mem(insn, ref op))
                {
                    return false;
                }

                op.Handler = Sized.Pick(size, &RM<V, W8>, &RM<V, W16>, &RM<V, W32>, &RM<V, W64>);
                return true;
            default:
                op.Imm = (long)insn.GetImmediate(1);
                op.Handler = Sized.Pick(size, &RI<V, W8>, &RI<V, W16>, &RI<V, W32>, &RI<V, W64>);
                return true;
        }
    }

    private static bool Unary<V>(ref Op op, int size, long operand)
        where V : struct, IValueOp
    {
        op.Imm = operand;
        op.Handler = Sized.Pick(size, &RI<V, W8>, &RI<V, W16>, &RI<V, W32>, &RI<V, W64>);
        return true;
    }

    /// <summary>Only immediate counts: a count of zero (or CL) keeps the old flags, which the liveness pass treats as a read.</summary>
    private static bool ShiftByImmediate<V>(in Instruction insn, ref Op op, int size)
        where V : struct, IValueOp
    {
        if (insn.OpCount != 2 || insn.Op1Kind != OpKind.Immediate8 || size < 4)
        {
            return false;
        }

        op.Imm = insn.Immediate8 & (size == 8 ? 63 : 31);
        op.Handler = size == 8 ? &RI<V, W64> : &RI<V, W32>;
        return true;
    }

    private static bool Imul(in Instruction insn, ref Op op, int size)
    {
        if (insn.OpCount == 2)
        {
            op.Imm = 0;
            if (insn.Op1Kind == OpKind.Register)
            {
                op.R1 = Operands.Gpr(insn.Op1Register);
                op.Handler = Sized.Pick(size, null, &RR<MulValue, W16>, &RR<MulValue, W32>, &RR<MulValue, W64>);
                return true;
            }

            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.Handler = Sized.Pick(size, null, &RM<MulValue, W16>, &RM<MulValue, W32>, &RM<MulValue, W64>);
            return true;
        }

        // imul r, r/m, imm: r = r/m * imm.
        op.Imm = (long)insn.GetImmediate(2);
        if (insn.Op1Kind == OpKind.Register)
        {
            op.R1 = Operands.Gpr(insn.Op1Register);
            op.Handler = Sized.Pick(size, null, &MulRegImm<W16>, &MulRegImm<W32>, &MulRegImm<W64>);
            return true;
        }

        if (!Operands.Mem(insn, ref op))
        {
            return false;
        }

        op.Handler = Sized.Pick(size, null, &MulMemImm<W16>, &MulMemImm<W32>, &MulMemImm<W64>);
        return true;
    }

    private static int RR<V, W>(CpuState c, Op* op)
        where V : struct, IValueOp
        where W : IWidth
    {
        W.Set(c, op->R0, V.Compute<W>(W.Get(c, op->R0), W.Get(c, op->R1)));
        return 0;
    }

    private static int RI<V, W>(CpuState c, Op* op)
        where V : struct, IValueOp
        where W : IWidth
    {
        W.Set(c, op->R0, V.Compute<W>(W.Get(c, op->R0), (ulong)op->Imm));
        return 0;
    }

    private static int RM<V, W>(CpuState c, Op* op)
        where V : struct, IValueOp
        where W : IWidth
    {
        W.Set(c, op->R0, V.Compute<W>(W.Get(c, op->R0), W.Load(c, c.Ea(op))));
        return 0;
    }

    private static int MulRegImm<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, W.Get(c, op->R1) * (ulong)op->Imm);
        return 0;
    }

    private static int MulMemImm<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, W.Load(c, c.Ea(op)) * (ulong)op->Imm);
        return 0;
    }

    // The results are written through W.Set, which truncates to the width.
    private struct AddValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong s) where W : IWidth => d + s;
    }

    private struct SubValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong s) where W : IWidth => d - s;
    }

    private struct AndValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong s) where W : IWidth => d & s;
    }

    private struct OrValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong s) where W : IWidth => d | s;
    }

    private struct XorValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong s) where W : IWidth => d ^ s;
    }

    private struct NegValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong s) where W : IWidth => 0 - d;
    }

    private struct MulValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong s) where W : IWidth => d * s;
    }

    private struct ShlValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong n) where W : IWidth => d << (int)n;
    }

    private struct ShrValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong n) where W : IWidth => (d & W.Mask) >> (int)n;
    }

    private struct SarValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong n) where W : IWidth => (ulong)(W.Sext(d) >> (int)n);
    }

    private struct RolValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong n) where W : IWidth =>
            W.Bits == 64 ? BitOperations.RotateLeft(d, (int)n) : (ulong)BitOperations.RotateLeft((uint)d, (int)n);
    }

    private struct RorValue : IValueOp
    {
        public static ulong Compute<W>(ulong d, ulong n) where W : IWidth =>
            W.Bits == 64 ? BitOperations.RotateRight(d, (int)n) : (ulong)BitOperations.RotateRight((uint)d, (int)n);
    }
}
