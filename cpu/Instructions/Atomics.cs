using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>CMPXCHG, CMPXCHG8B, CMPXCHG16B and XADD, with and without LOCK.</summary>
/// <remarks>
/// Memory forms always use a host compare-and-swap, LOCK or not: the unlocked forms must
/// still behave as one read and one write, and the atomic path is also the write-faulting
/// path (CMPXCHG writes its destination even when the comparison fails).
/// </remarks>
internal static unsafe class Atomics
{
    private const byte Rax = 0, Rcx = 1 * 8, Rdx = 2 * 8, Rbx = 3 * 8;

    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Cmpxchg, BuildCmpxchg);
        OpTable.AddMnemonic(Mnemonic.Xadd, BuildXadd);
        OpTable.Add(Code.Cmpxchg8b_m64, BuildMem(&Cmpxchg8b));
        OpTable.Add(Code.Cmpxchg16b_m128, BuildMem(&Cmpxchg16b));
    }

    private static OpBuilder BuildMem(delegate*<CpuState, Op*, int> handler) => (in Instruction insn, ref Op op) =>
    {
        op.Handler = handler;
        return Operands.Mem(insn, ref op);
    };

    private static bool BuildCmpxchg(in Instruction insn, ref Op op)
    {
        var size = insn.Op1Register.GetSize();
        op.R1 = Operands.Gpr(insn.Op1Register);
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = Sized.Pick(size, &CmpxchgR<W8>, &CmpxchgR<W16>, &CmpxchgR<W32>, &CmpxchgR<W64>);
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.Handler = Sized.Pick(size, &CmpxchgM<W8>, &CmpxchgM<W16>, &CmpxchgM<W32>, &CmpxchgM<W64>);
        }

        return op.Handler != null;
    }

    private static bool BuildXadd(in Instruction insn, ref Op op)
    {
        var size = insn.Op1Register.GetSize();
        op.R1 = Operands.Gpr(insn.Op1Register);
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = Sized.Pick(size, &XaddR<W8>, &XaddR<W16>, &XaddR<W32>, &XaddR<W64>);
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.Handler = Sized.Pick(size, &XaddM<W8>, &XaddM<W16>, &XaddM<W32>, &XaddM<W64>);
        }

        return op.Handler != null;
    }

    /// <summary>
    /// Register destination: on a mismatch only the accumulator is written and the
    /// destination keeps its upper half; on a match the accumulator is not written at all.
    /// </summary>
    private static int CmpxchgR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var acc = W.Get(c, Rax);
        var dst = W.Get(c, op->R0);
        SubOp.Exec<W>(c, acc, dst);
        if (acc == dst)
        {
            W.Set(c, op->R0, W.Get(c, op->R1));
        }
        else
        {
            W.Set(c, Rax, dst);
        }

        return 0;
    }

    private static int CmpxchgM<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var a = c.Ea(op);
        var acc = W.Get(c, Rax);
        var src = W.Get(c, op->R1);
        var p = c.TranslateWrite(a, (uint)(W.Bits / 8));
        ulong old;
        if (p != 0)
        {
            old = AtomicCas.CompareExchange<W>(p, src, acc);
        }
        else
        {
            // Split across pages: a plain read and an unconditional write, as unlocked hardware does.
            old = W.Load(c, a);
            W.Store(c, a, old == acc ? src : old);
        }

        SubOp.Exec<W>(c, acc, old);
        if (old != acc)
        {
            W.Set(c, Rax, old);
        }

        return 0;
    }

    private static int XaddR<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var dst = W.Get(c, op->R0);
        var src = W.Get(c, op->R1);
        var sum = AddOp.Exec<W>(c, dst, src);

        // Source first: with the same register twice the sum wins.
        W.Set(c, op->R1, dst);
        W.Set(c, op->R0, sum);
        return 0;
    }

    private static int XaddM<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var src = W.Get(c, op->R1);
        var old = Atomic.Modify<AddModify, W>(c, c.Ea(op), src);
        AddOp.Exec<W>(c, old, src);
        W.Set(c, op->R1, old);
        return 0;
    }

    /// <summary>CMPXCHG8B: EDX:EAX against m64, ECX:EBX stored on a match; only ZF changes.</summary>
    private static int Cmpxchg8b(CpuState c, Op* op)
    {
        var a = c.Ea(op);
        var expected = ((ulong)(uint)c.Reg64(Rdx) << 32) | (uint)c.Reg64(Rax);
        var value = ((ulong)(uint)c.Reg64(Rcx) << 32) | (uint)c.Reg64(Rbx);
        var p = c.TranslateWrite(a, 8);
        ulong old;
        if (p != 0)
        {
            old = AtomicCas.CompareExchange<W64>(p, value, expected);
        }
        else
        {
            old = c.Read64(a);
            c.Write64(a, old == expected ? value : old);
        }

        if (old == expected)
        {
            c.UpdateFlags(CpuState.ZF, CpuState.ZF);
        }
        else
        {
            c.UpdateFlags(CpuState.ZF, 0);
            c.Reg64(Rax) = (uint)old;
            c.Reg64(Rdx) = old >> 32;
        }

        return 0;
    }

    /// <summary>CMPXCHG16B: RDX:RAX against m128, RCX:RBX stored on a match; #GP unless 16-byte aligned.</summary>
    private static int Cmpxchg16b(CpuState c, Op* op)
    {
        var a = c.Ea(op);
        if ((a & 15) != 0)
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        var expected = new UInt128(c.Reg64(Rdx), c.Reg64(Rax));
        var value = new UInt128(c.Reg64(Rcx), c.Reg64(Rbx));

        // Aligned, so the 16 bytes never cross a page.
        var p = c.TranslateWrite(a, 16);
        var old = AtomicCas.CompareExchange128(p, value, expected);
        if (old == expected)
        {
            c.UpdateFlags(CpuState.ZF, CpuState.ZF);
        }
        else
        {
            c.UpdateFlags(CpuState.ZF, 0);
            c.Reg64(Rax) = (ulong)old;
            c.Reg64(Rdx) = (ulong)(old >> 64);
        }

        return 0;
    }
}

/// <summary>The memory half of XADD: old + src.</summary>
internal struct AddModify : IModifyOp
{
    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => (old + arg) & W.Mask;
}
