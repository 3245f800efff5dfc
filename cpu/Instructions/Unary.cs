using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// A one-operand read-modify-write: the new value is a pure function of the old one (so the
/// LOCK form is a CAS loop over <see cref="IModifyOp.Apply{W}"/>), and the flags are set
/// afterwards from old and new value.
/// </summary>
internal interface IUnaryOp : IModifyOp
{
    static abstract void Flags<W>(CpuState c, ulong old, ulong res)
        where W : IWidth;
}

/// <summary>INC, DEC, NEG and NOT on registers (including AH..BH) and memory, with LOCK.</summary>
internal static unsafe class Unary
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Inc, Build<IncOp>);
        OpTable.AddMnemonic(Mnemonic.Dec, Build<DecOp>);
        OpTable.AddMnemonic(Mnemonic.Neg, Build<NegOp>);
        OpTable.AddMnemonic(Mnemonic.Not, Build<NotOp>);
    }

    private static bool Build<U>(in Instruction insn, ref Op op)
        where U : struct, IUnaryOp
    {
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = Sized.Pick(insn.Op0Register.GetSize(), &R<U, W8>, &R<U, W16>, &R<U, W32>, &R<U, W64>);
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.Handler = insn.HasLockPrefix
                ? Sized.Pick(insn.MemorySize.GetSize(), &L<U, W8>, &L<U, W16>, &L<U, W32>, &L<U, W64>)
                : Sized.Pick(insn.MemorySize.GetSize(), &M<U, W8>, &M<U, W16>, &M<U, W32>, &M<U, W64>);
        }

        return op.Handler != null;
    }

    private static int R<U, W>(CpuState c, Op* op)
        where U : struct, IUnaryOp
        where W : IWidth
    {
        var old = W.Get(c, op->R0);
        var r = U.Apply<W>(old, 0);
        U.Flags<W>(c, old, r);
        W.Set(c, op->R0, r);
        return 0;
    }

    private static int M<U, W>(CpuState c, Op* op)
        where U : struct, IUnaryOp
        where W : IWidth
    {
        var a = c.Ea(op);
        var old = W.Load(c, a);
        var r = U.Apply<W>(old, 0);

        // Store before touching the flags so a faulting store leaves them as they were.
        W.Store(c, a, r);
        U.Flags<W>(c, old, r);
        return 0;
    }

    private static int L<U, W>(CpuState c, Op* op)
        where U : struct, IUnaryOp
        where W : IWidth
    {
        var old = Atomic.Modify<U, W>(c, c.Ea(op), 0);
        U.Flags<W>(c, old, U.Apply<W>(old, 0));
        return 0;
    }
}

/// <summary>INC: like ADD 1 but CF is preserved (SDM Vol. 2A "INC"); the lazy Inc kind keeps the old CF in FlagSrc.</summary>
internal struct IncOp : IUnaryOp
{
    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => (old + 1) & W.Mask;

    public static void Flags<W>(CpuState c, ulong old, ulong res)
        where W : IWidth => c.SetFlags(FlagKind.Inc, W.SizeLog, old, c.CarryFlag ? 1UL : 0, res);
}

/// <summary>DEC: like SUB 1 but CF is preserved.</summary>
internal struct DecOp : IUnaryOp
{
    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => (old - 1) & W.Mask;

    public static void Flags<W>(CpuState c, ulong old, ulong res)
        where W : IWidth => c.SetFlags(FlagKind.Dec, W.SizeLog, old, c.CarryFlag ? 1UL : 0, res);
}

/// <summary>NEG: flags of 0 - operand, so CF = operand != 0 and OF for the most negative value.</summary>
internal struct NegOp : IUnaryOp
{
    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => (0 - old) & W.Mask;

    public static void Flags<W>(CpuState c, ulong old, ulong res)
        where W : IWidth => c.SetFlags(FlagKind.Sub, W.SizeLog, 0, old, res);
}

/// <summary>NOT: no flags.</summary>
internal struct NotOp : IUnaryOp
{
    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => ~old & W.Mask;

    public static void Flags<W>(CpuState c, ulong old, ulong res)
        where W : IWidth
    {
    }
}
