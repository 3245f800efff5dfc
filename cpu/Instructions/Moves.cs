using System.Buffers.Binary;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>MOV, LEA, the extending moves, XCHG, the accumulator sign extensions and MOVBE.</summary>
internal static unsafe class Moves
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Mov, BuildMov);
        OpTable.AddMnemonic(Mnemonic.Lea, BuildLea);
        OpTable.AddMnemonic(Mnemonic.Movzx, BuildMovzx);
        OpTable.AddMnemonic(Mnemonic.Movsx, BuildMovsx);
        OpTable.AddMnemonic(Mnemonic.Movsxd, BuildMovsx);
        OpTable.AddMnemonic(Mnemonic.Xchg, BuildXchg);
        OpTable.Add(Code.Cbw, SystemOps.Simple(&Widen<W8, W16>));
        OpTable.Add(Code.Cwde, SystemOps.Simple(&Widen<W16, W32>));
        OpTable.Add(Code.Cdqe, SystemOps.Simple(&Widen<W32, W64>));
        OpTable.Add(Code.Cwd, SystemOps.Simple(&SignToRdx<W16>));
        OpTable.Add(Code.Cdq, SystemOps.Simple(&SignToRdx<W32>));
        OpTable.Add(Code.Cqo, SystemOps.Simple(&SignToRdx<W64>));
        OpTable.AddMnemonic(Mnemonic.Movbe, BuildMovbe);

        // A non-temporal hint changes nothing we can observe: a plain store.
        OpTable.AddMnemonic(Mnemonic.Movnti, BuildMov);
    }

    private static bool BuildMovzx(in Instruction insn, ref Op op) => BuildExtend(insn, ref op, signed: false);

    private static bool BuildMovsx(in Instruction insn, ref Op op) => BuildExtend(insn, ref op, signed: true);

    /// <summary>MOVZX/MOVSX/MOVSXD: destination size from the register, source size from the r/m operand.</summary>
    private static bool BuildExtend(in Instruction insn, ref Op op, bool signed)
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        var dst = insn.Op0Register.GetSize();
        int src;
        bool mem;
        if (insn.Op1Kind == OpKind.Register)
        {
            op.R1 = Operands.Gpr(insn.Op1Register);
            src = insn.Op1Register.GetSize();
            mem = false;
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            src = insn.MemorySize.GetSize();
            mem = true;
        }

        op.Handler = (signed, mem, src) switch
        {
            (false, false, 1) => Sized.Pick(dst, null, &ZxR<W16, W8>, &ZxR<W32, W8>, &ZxR<W64, W8>),
            (false, false, 2) => Sized.Pick(dst, null, &ZxR<W16, W16>, &ZxR<W32, W16>, &ZxR<W64, W16>),
            (false, true, 1) => Sized.Pick(dst, null, &ZxM<W16, W8>, &ZxM<W32, W8>, &ZxM<W64, W8>),
            (false, true, 2) => Sized.Pick(dst, null, &ZxM<W16, W16>, &ZxM<W32, W16>, &ZxM<W64, W16>),
            (true, false, 1) => Sized.Pick(dst, null, &SxR<W16, W8>, &SxR<W32, W8>, &SxR<W64, W8>),
            (true, false, 2) => Sized.Pick(dst, null, &SxR<W16, W16>, &SxR<W32, W16>, &SxR<W64, W16>),
            (true, false, 4) => Sized.Pick(dst, null, null, &SxR<W32, W32>, &SxR<W64, W32>),
            (true, true, 1) => Sized.Pick(dst, null, &SxM<W16, W8>, &SxM<W32, W8>, &SxM<W64, W8>),
            (true, true, 2) => Sized.Pick(dst, null, &SxM<W16, W16>, &SxM<W32, W16>, &SxM<W64, W16>),
            (true, true, 4) => Sized.Pick(dst, null, null, &SxM<W32, W32>, &SxM<W64, W32>),
            _ => null,
        };
        return op.Handler != null;
    }

    private static bool BuildXchg(in Instruction insn, ref Op op)
    {
        var size = insn.Op1Register.GetSize();
        op.R1 = Operands.Gpr(insn.Op1Register);
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = Sized.Pick(size, &XchgRR<W8>, &XchgRR<W16>, &XchgRR<W32>, &XchgRR<W64>);
        }
        else
        {
            // XCHG with memory locks the bus whether or not LOCK is written.
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.Handler = Sized.Pick(size, &XchgMR<W8>, &XchgMR<W16>, &XchgMR<W32>, &XchgMR<W64>);
        }

        return op.Handler != null;
    }

    private static bool BuildMovbe(in Instruction insn, ref Op op)
    {
        if (!Operands.Mem(insn, ref op))
        {
            return false;
        }

        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = Sized.Pick(insn.Op0Register.GetSize(), null, &MovbeRM<W16>, &MovbeRM<W32>, &MovbeRM<W64>);
        }
        else
        {
            op.R1 = Operands.Gpr(insn.Op1Register);
            op.Handler = Sized.Pick(insn.Op1Register.GetSize(), null, &MovbeMR<W16>, &MovbeMR<W32>, &MovbeMR<W64>);
        }

        return op.Handler != null;
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

    private static int ZxR<WD, WS>(CpuState c, Op* op)
        where WD : IWidth
        where WS : IWidth
    {
        WD.Set(c, op->R0, WS.Get(c, op->R1));
        return 0;
    }

    private static int ZxM<WD, WS>(CpuState c, Op* op)
        where WD : IWidth
        where WS : IWidth
    {
        WD.Set(c, op->R0, WS.Load(c, c.Ea(op)));
        return 0;
    }

    private static int SxR<WD, WS>(CpuState c, Op* op)
        where WD : IWidth
        where WS : IWidth
    {
        WD.Set(c, op->R0, (ulong)WS.Sext(WS.Get(c, op->R1)));
        return 0;
    }

    private static int SxM<WD, WS>(CpuState c, Op* op)
        where WD : IWidth
        where WS : IWidth
    {
        WD.Set(c, op->R0, (ulong)WS.Sext(WS.Load(c, c.Ea(op))));
        return 0;
    }

    private static int XchgRR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var a = W.Get(c, op->R0);
        var b = W.Get(c, op->R1);
        W.Set(c, op->R0, b);
        W.Set(c, op->R1, a);
        return 0;
    }

    private static int XchgMR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var a = c.Ea(op);
        var p = c.TranslateWrite(a, (uint)(W.Bits / 8));
        ulong old;
        if (p != 0)
        {
            old = Atomic.Exchange<W>(p, W.Get(c, op->R1));
        }
        else
        {
            // Split across pages: no host atomic spans two pages; a plain swap.
            old = W.Load(c, a);
            W.Store(c, a, W.Get(c, op->R1));
        }

        W.Set(c, op->R1, old);
        return 0;
    }

    /// <summary>CBW/CWDE/CDQE: sign-extend the low half of the accumulator into all of it.</summary>
    private static int Widen<WS, WD>(CpuState c, Op* op)
        where WS : IWidth
        where WD : IWidth
    {
        WD.Set(c, 0, (ulong)WS.Sext(WS.Get(c, 0)));
        return 0;
    }

    /// <summary>CWD/CDQ/CQO: fill the data register with the accumulator's sign.</summary>
    private static int SignToRdx<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, RdxSlot, (ulong)(W.Sext(W.Get(c, 0)) >> 63));
        return 0;
    }

    private const byte RdxSlot = 2 * 8;

    private static int MovbeRM<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, Swap<W>(W.Load(c, c.Ea(op))));
        return 0;
    }

    private static int MovbeMR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Store(c, c.Ea(op), Swap<W>(W.Get(c, op->R1)));
        return 0;
    }

    private static ulong Swap<W>(ulong v)
        where W : IWidth => BinaryPrimitives.ReverseEndianness(v) >> (64 - W.Bits);

    private static int Lea<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, c.Ea(op));
        return 0;
    }
}
