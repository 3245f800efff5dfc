using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>PUSH and POP of registers, memory and immediates.</summary>
internal static unsafe class Stack
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Push, BuildPush);
        OpTable.AddMnemonic(Mnemonic.Pop, BuildPop);
        OpTable.Add(Code.Leaveq, SystemOps.Simple(&Leave<W64>));
        OpTable.Add(Code.Leavew, SystemOps.Simple(&Leave<W16>));
        OpTable.Add(Code.Enterq_imm16_imm8, BuildEnter);
        OpTable.Add(Code.Enterw_imm16_imm8, BuildEnter);
    }

    private static bool BuildEnter(in Instruction insn, ref Op op)
    {
        op.Imm = insn.Immediate16;
        op.Aux = (byte)(insn.Immediate8_2nd & 31);
        op.Handler = insn.Code == Code.Enterq_imm16_imm8 ? &Enter<W64> : &Enter<W16>;
        return true;
    }

    private static bool BuildPush(in Instruction insn, ref Op op)
    {
        switch (insn.Op0Kind)
        {
            case OpKind.Register when insn.Op0Register.IsGPR():
                op.R0 = Operands.Gpr(insn.Op0Register);
                op.Handler = Sized.Pick(insn.Op0Register.GetSize(), null, &PushR<W16>, null, &PushR<W64>);
                break;
            case OpKind.Memory:
                if (!Operands.Mem(insn, ref op))
                {
                    return false;
                }

                op.Handler = Sized.Pick(insn.MemorySize.GetSize(), null, &PushM<W16>, null, &PushM<W64>);
                break;
            case OpKind.Immediate8to16 or OpKind.Immediate16:
                op.Imm = (long)insn.GetImmediate(0);
                op.Handler = &PushI<W16>;
                break;
            case OpKind.Immediate8to64 or OpKind.Immediate32to64:
                op.Imm = (long)insn.GetImmediate(0);
                op.Handler = &PushI<W64>;
                break;
            default:
                return false;
        }

        return op.Handler != null;
    }

    private static bool BuildPop(in Instruction insn, ref Op op)
    {
        switch (insn.Op0Kind)
        {
            case OpKind.Register when insn.Op0Register.IsGPR():
                op.R0 = Operands.Gpr(insn.Op0Register);
                op.Handler = Sized.Pick(insn.Op0Register.GetSize(), null, &PopR<W16>, null, &PopR<W64>);
                break;
            case OpKind.Memory:
                if (!Operands.Mem(insn, ref op))
                {
                    return false;
                }

                op.Handler = Sized.Pick(insn.MemorySize.GetSize(), null, &PopM<W16>, null, &PopM<W64>);
                break;
            default:
                return false;
        }

        return op.Handler != null;
    }

    /// <summary>Pushes a value of the width's size.</summary>
    internal static void Push<W>(CpuState c, ulong value)
        where W : IWidth
    {
        ref var rsp = ref c[Reg.Rsp];
        var sp = rsp - (ulong)(W.Bits / 8);
        W.Store(c, sp, value);
        rsp = sp;
    }

    /// <summary>Pops a value of the width's size.</summary>
    internal static ulong Pop<W>(CpuState c)
        where W : IWidth
    {
        ref var rsp = ref c[Reg.Rsp];
        var v = W.Load(c, rsp);
        rsp += (ulong)(W.Bits / 8);
        return v;
    }

    /// <summary>LEAVE: RSP = RBP (the stack-address size is 64 bits), then pop the frame pointer.</summary>
    private static int Leave<W>(CpuState c, Op* op)
        where W : IWidth
    {
        const byte rbp = 5 * 8;
        var frame = c.Reg64(rbp);
        var v = W.Load(c, frame);
        c[Reg.Rsp] = frame + (ulong)(W.Bits / 8);
        W.Set(c, rbp, v);
        return 0;
    }

    /// <summary>
    /// ENTER (Intel SDM pseudo-code, 64-bit stack): push RBP, copy the level-1 enclosing
    /// frame pointers, push the new frame pointer, then allocate. Registers are committed
    /// only after every store succeeded, so a page fault restarts the instruction cleanly.
    /// </summary>
    private static int Enter<W>(CpuState c, Op* op)
        where W : IWidth
    {
        const byte rbp = 5 * 8;
        var size = (ulong)(W.Bits / 8);
        var level = op->Aux;
        var sp = c[Reg.Rsp] - size;
        W.Store(c, sp, W.Get(c, rbp));
        var frameTemp = sp;
        if (level > 0)
        {
            var bp = c.Reg64(rbp);
            for (var i = 1; i < level; i++)
            {
                bp -= size;
                var v = W.Load(c, bp);
                sp -= size;
                W.Store(c, sp, v);
            }

            sp -= size;
            W.Store(c, sp, frameTemp);
        }

        // With a 16-bit operand size only BP is written (checked against hardware).
        W.Set(c, rbp, frameTemp);
        c[Reg.Rsp] = sp - (ulong)op->Imm;
        return 0;
    }

    private static int PushR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        Push<W>(c, W.Get(c, op->R0));
        return 0;
    }

    private static int PushM<W>(CpuState c, Op* op)
        where W : IWidth
    {
        Push<W>(c, W.Load(c, c.Ea(op)));
        return 0;
    }

    private static int PushI<W>(CpuState c, Op* op)
        where W : IWidth
    {
        Push<W>(c, (ulong)op->Imm);
        return 0;
    }

    private static int PopR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var v = Pop<W>(c);
        W.Set(c, op->R0, v);
        return 0;
    }

    private static int PopM<W>(CpuState c, Op* op)
        where W : IWidth
    {
        // POP [mem] computes the address after RSP is incremented (Intel SDM, POP).
        var v = W.Load(c, c[Reg.Rsp]);
        c[Reg.Rsp] += (ulong)(W.Bits / 8);
        var a = c.Ea(op);
        c[Reg.Rsp] -= (ulong)(W.Bits / 8);
        W.Store(c, a, v);
        c[Reg.Rsp] += (ulong)(W.Bits / 8);
        return 0;
    }
}
