using System.Runtime.CompilerServices;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>A two-operand integer ALU operation; sets the flags and returns the result.</summary>
internal interface IAluOp
{
    static abstract bool WritesResult { get; }

    static abstract ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth;
}

/// <summary>ADD, OR, ADC, SBB, AND, SUB, XOR, CMP, TEST in every operand form and size, with LOCK.</summary>
internal static unsafe class Alu
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Add, Build<AddOp>);
        OpTable.AddMnemonic(Mnemonic.Or, Build<OrOp>);
        OpTable.AddMnemonic(Mnemonic.Adc, Build<AdcOp>);
        OpTable.AddMnemonic(Mnemonic.Sbb, Build<SbbOp>);
        OpTable.AddMnemonic(Mnemonic.And, Build<AndOp>);
        OpTable.AddMnemonic(Mnemonic.Sub, Build<SubOp>);
        OpTable.AddMnemonic(Mnemonic.Xor, Build<XorOp>);
        OpTable.AddMnemonic(Mnemonic.Cmp, Build<CmpOp>);
        OpTable.AddMnemonic(Mnemonic.Test, Build<TestOp>);
    }

    private static bool Build<A>(in Instruction insn, ref Op op)
        where A : struct, IAluOp
    {
        int size;
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            size = insn.Op0Register.GetSize();
            switch (insn.Op1Kind)
            {
                case OpKind.Register:
                    op.R1 = Operands.Gpr(insn.Op1Register);
                    op.Handler = Sized.Pick(size, &RR<A, W8>, &RR<A, W16>, &RR<A, W32>, &RR<A, W64>);
                    break;
                case OpKind.Memory:
                    if (!Operands.Mem(insn, ref op))
                    {
                        return false;
                    }

                    op.Handler = Sized.Pick(size, &RM<A, W8>, &RM<A, W16>, &RM<A, W32>, &RM<A, W64>);
                    break;
                default:
                    op.Imm = (long)insn.GetImmediate(1);
                    op.Handler = Sized.Pick(size, &RI<A, W8>, &RI<A, W16>, &RI<A, W32>, &RI<A, W64>);
                    break;
            }
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            size = insn.MemorySize.GetSize();
            var locked = insn.HasLockPrefix && A.WritesResult;
            if (insn.Op1Kind == OpKind.Register)
            {
                op.R1 = Operands.Gpr(insn.Op1Register);
                op.Handler = locked
                    ? Sized.Pick(size, &LockMR<A, W8>, &LockMR<A, W16>, &LockMR<A, W32>, &LockMR<A, W64>)
                    : Sized.Pick(size, &MR<A, W8>, &MR<A, W16>, &MR<A, W32>, &MR<A, W64>);
            }
            else
            {
                op.Imm = (long)insn.GetImmediate(1);
                op.Handler = locked
                    ? Sized.Pick(size, &LockMI<A, W8>, &LockMI<A, W16>, &LockMI<A, W32>, &LockMI<A, W64>)
                    : Sized.Pick(size, &MI<A, W8>, &MI<A, W16>, &MI<A, W32>, &MI<A, W64>);
            }
        }

        return op.Handler != null;
    }

    private static int RR<A, W>(CpuState c, Op* op)
        where A : struct, IAluOp
        where W : IWidth
    {
        var r = A.Exec<W>(c, W.Get(c, op->R0), W.Get(c, op->R1));
        if (A.WritesResult)
        {
            W.Set(c, op->R0, r);
        }

        return 0;
    }

    private static int RI<A, W>(CpuState c, Op* op)
        where A : struct, IAluOp
        where W : IWidth
    {
        var r = A.Exec<W>(c, W.Get(c, op->R0), (ulong)op->Imm & W.Mask);
        if (A.WritesResult)
        {
            W.Set(c, op->R0, r);
        }

        return 0;
    }

    private static int RM<A, W>(CpuState c, Op* op)
        where A : struct, IAluOp
        where W : IWidth
    {
        var r = A.Exec<W>(c, W.Get(c, op->R0), W.Load(c, c.Ea(op)));
        if (A.WritesResult)
        {
            W.Set(c, op->R0, r);
        }

        return 0;
    }

    private static int MR<A, W>(CpuState c, Op* op)
        where A : struct, IAluOp
        where W : IWidth
    {
        Update<A, W>(c, c.Ea(op), W.Get(c, op->R1));
        return 0;
    }

    private static int MI<A, W>(CpuState c, Op* op)
        where A : struct, IAluOp
        where W : IWidth
    {
        Update<A, W>(c, c.Ea(op), (ulong)op->Imm & W.Mask);
        return 0;
    }

    /// <summary>
    /// A read-modify-write of memory. The write is translated before the flags are touched: a
    /// fault must leave them as they were, since the instruction runs again after the handler
    /// (a write-protected page) and ADC/SBB read CF.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Update<A, W>(CpuState c, ulong a, ulong src)
        where A : struct, IAluOp
        where W : IWidth
    {
        if (!A.WritesResult)
        {
            A.Exec<W>(c, W.Load(c, a), src);
            return;
        }

        var p = c.TranslateWrite(a, (uint)(W.Bits / 8));
        if (p == 0)
        {
            // Split across two pages, both now known writable.
            W.Store(c, a, A.Exec<W>(c, W.Load(c, a), src));
            return;
        }

        switch (W.Bits)
        {
            case 8:
                *(byte*)p = (byte)A.Exec<W>(c, *(byte*)p, src);
                break;
            case 16:
                Unsafe.WriteUnaligned((void*)p, (ushort)A.Exec<W>(c, Unsafe.ReadUnaligned<ushort>((void*)p), src));
                break;
            case 32:
                Unsafe.WriteUnaligned((void*)p, (uint)A.Exec<W>(c, Unsafe.ReadUnaligned<uint>((void*)p), src));
                break;
            default:
                Unsafe.WriteUnaligned((void*)p, A.Exec<W>(c, Unsafe.ReadUnaligned<ulong>((void*)p), src));
                break;
        }
    }

    private static int LockMR<A, W>(CpuState c, Op* op)
        where A : struct, IAluOp
        where W : IWidth
    {
        Atomic.Update<A, W>(c, c.Ea(op), W.Get(c, op->R1));
        return 0;
    }

    private static int LockMI<A, W>(CpuState c, Op* op)
        where A : struct, IAluOp
        where W : IWidth
    {
        Atomic.Update<A, W>(c, c.Ea(op), (ulong)op->Imm & W.Mask);
        return 0;
    }
}

internal struct AddOp : IAluOp
{
    public static bool WritesResult => true;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth
    {
        var r = (dst + src) & W.Mask;
        c.SetFlags(FlagKind.Add, W.SizeLog, dst, src, r);
        return r;
    }
}

internal struct SubOp : IAluOp
{
    public static bool WritesResult => true;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth
    {
        var r = (dst - src) & W.Mask;
        c.SetFlags(FlagKind.Sub, W.SizeLog, dst, src, r);
        return r;
    }
}

internal struct CmpOp : IAluOp
{
    public static bool WritesResult => false;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth => SubOp.Exec<W>(c, dst, src);
}

internal struct AndOp : IAluOp
{
    public static bool WritesResult => true;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth
    {
        var r = dst & src;
        c.SetFlags(FlagKind.Logic, W.SizeLog, 0, 0, r);
        return r;
    }
}

internal struct TestOp : IAluOp
{
    public static bool WritesResult => false;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth => AndOp.Exec<W>(c, dst, src);
}

internal struct OrOp : IAluOp
{
    public static bool WritesResult => true;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth
    {
        var r = dst | src;
        c.SetFlags(FlagKind.Logic, W.SizeLog, 0, 0, r);
        return r;
    }
}

internal struct XorOp : IAluOp
{
    public static bool WritesResult => true;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth
    {
        var r = dst ^ src;
        c.SetFlags(FlagKind.Logic, W.SizeLog, 0, 0, r);
        return r;
    }
}

/// <summary>ADC: the carry-in makes CF and OF depend on three inputs, so they are computed here.</summary>
internal struct AdcOp : IAluOp
{
    public static bool WritesResult => true;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth
    {
        var cin = c.CarryFlag ? 1UL : 0;
        var r = (dst + src + cin) & W.Mask;
        var carry = r < dst || (cin != 0 && r == dst);
        var overflow = (((dst ^ r) & (src ^ r)) >> (W.Bits - 1) & 1) != 0;
        var adjust = ((dst ^ src ^ r) & CpuState.AF) != 0;
        c.SetFlagsExplicit(W.SizeLog, r, (carry ? CpuState.CF : 0) | (overflow ? CpuState.OF : 0) | (adjust ? CpuState.AF : 0));
        return r;
    }
}

/// <summary>SBB: dst - src - CF, with the borrow and overflow of the whole subtraction.</summary>
internal struct SbbOp : IAluOp
{
    public static bool WritesResult => true;

    public static ulong Exec<W>(CpuState c, ulong dst, ulong src)
        where W : IWidth
    {
        var cin = c.CarryFlag ? 1UL : 0;
        var r = (dst - src - cin) & W.Mask;
        var borrow = dst < src || (cin != 0 && dst == src);
        var overflow = (((dst ^ src) & (dst ^ r)) >> (W.Bits - 1) & 1) != 0;
        var adjust = ((dst ^ src ^ r) & CpuState.AF) != 0;
        c.SetFlagsExplicit(W.SizeLog, r, (borrow ? CpuState.CF : 0) | (overflow ? CpuState.OF : 0) | (adjust ? CpuState.AF : 0));
        return r;
    }
}
