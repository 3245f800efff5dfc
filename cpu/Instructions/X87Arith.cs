using System.Runtime.CompilerServices;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>A two-operand x87 arithmetic operation: dst = dst op src.</summary>
internal interface IX87Binary
{
    static abstract Float80 Exec(Float80 dst, Float80 src, ushort fcw, ref uint flags);
}

internal readonly struct FAddOp : IX87Binary
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Exec(Float80 dst, Float80 src, ushort fcw, ref uint flags) => F80.Add(dst, src, fcw, ref flags);
}

internal readonly struct FSubOp : IX87Binary
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Exec(Float80 dst, Float80 src, ushort fcw, ref uint flags) => F80.Sub(dst, src, fcw, ref flags);
}

internal readonly struct FSubROp : IX87Binary
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Exec(Float80 dst, Float80 src, ushort fcw, ref uint flags) => F80.Sub(src, dst, fcw, ref flags);
}

internal readonly struct FMulOp : IX87Binary
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Exec(Float80 dst, Float80 src, ushort fcw, ref uint flags) => F80.Mul(dst, src, fcw, ref flags);
}

internal readonly struct FDivOp : IX87Binary
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Exec(Float80 dst, Float80 src, ushort fcw, ref uint flags) => F80.Div(dst, src, fcw, ref flags);
}

internal readonly struct FDivROp : IX87Binary
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Exec(Float80 dst, Float80 src, ushort fcw, ref uint flags) => F80.Div(src, dst, fcw, ref flags);
}

/// <summary>
/// x87 arithmetic: FADD/FSUB/FSUBR/FMUL/FDIV/FDIVR in all forms (m32, m64, integer m16/m32,
/// ST(0)/ST(i) both ways, popping), FSQRT, FPREM, FPREM1, FRNDINT, FSCALE, FXTRACT, FCHS, FABS.
/// </summary>
internal static unsafe class X87Arith
{
    public static void Register()
    {
        Binary<FAddOp>(Mnemonic.Fadd, Mnemonic.Faddp, Mnemonic.Fiadd);
        Binary<FSubOp>(Mnemonic.Fsub, Mnemonic.Fsubp, Mnemonic.Fisub);
        Binary<FSubROp>(Mnemonic.Fsubr, Mnemonic.Fsubrp, Mnemonic.Fisubr);
        Binary<FMulOp>(Mnemonic.Fmul, Mnemonic.Fmulp, Mnemonic.Fimul);
        Binary<FDivOp>(Mnemonic.Fdiv, Mnemonic.Fdivp, Mnemonic.Fidiv);
        Binary<FDivROp>(Mnemonic.Fdivr, Mnemonic.Fdivrp, Mnemonic.Fidivr);

        OpTable.AddMnemonic(Mnemonic.Fsqrt, SystemOps.Simple(&Fsqrt));
        OpTable.AddMnemonic(Mnemonic.Fprem, SystemOps.Simple(&Fprem));
        OpTable.AddMnemonic(Mnemonic.Fprem1, SystemOps.Simple(&Fprem1));
        OpTable.AddMnemonic(Mnemonic.Frndint, SystemOps.Simple(&Frndint));
        OpTable.AddMnemonic(Mnemonic.Fscale, SystemOps.Simple(&Fscale));
        OpTable.AddMnemonic(Mnemonic.Fxtract, SystemOps.Simple(&Fxtract));
        OpTable.AddMnemonic(Mnemonic.Fchs, SystemOps.Simple(&Fchs));
        OpTable.AddMnemonic(Mnemonic.Fabs, SystemOps.Simple(&Fabs));
    }

    private static void Binary<A>(Mnemonic plain, Mnemonic pop, Mnemonic integer)
        where A : struct, IX87Binary
    {
        OpTable.AddMnemonic(plain, (in Instruction insn, ref Op op) =>
        {
            if (insn.Op0Kind == OpKind.Memory)
            {
                op.Handler = insn.MemorySize == MemorySize.Float32 ? &StMem<A, M32Fp> : &StMem<A, M64Fp>;
                return Operands.Mem(insn, ref op);
            }

            op.R0 = X87.St(insn.Op0Register);
            op.R1 = X87.St(insn.Op1Register);
            op.Handler = &StSt<A>;
            return true;
        });
        OpTable.AddMnemonic(pop, (in Instruction insn, ref Op op) =>
        {
            op.R0 = X87.St(insn.Op0Register);
            op.R1 = X87.St(insn.Op1Register);
            op.Aux = 1;
            op.Handler = &StSt<A>;
            return true;
        });
        OpTable.AddMnemonic(integer, (in Instruction insn, ref Op op) =>
        {
            op.Handler = insn.MemorySize == MemorySize.Int16 ? &StMem<A, M16Int> : &StMem<A, M32Int>;
            return Operands.Mem(insn, ref op);
        });
    }

    /// <summary>ST(R0) = ST(R0) op ST(R1), popping when Aux is set.</summary>
    private static int StSt<A>(CpuState c, Op* op)
        where A : struct, IX87Binary
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        int d = op->R0, s = op->R1;
        if (X87.Empty(c, d, s))
        {
            if (!c.X87Underflow())
            {
                return 0;
            }

            c.X87Set(d, Float80.Indefinite);
        }
        else
        {
            uint f = 0;
            var r = A.Exec(c.St(d), c.St(s), c.X87.Control, ref f);
            if (!c.X87Commit(f))
            {
                return 0;
            }

            c.X87Set(d, r);
        }

        if (op->Aux != 0)
        {
            c.X87Pop();
        }

        return 0;
    }

    /// <summary>ST(0) = ST(0) op [mem].</summary>
    private static int StMem<A, L>(CpuState c, Op* op)
        where A : struct, IX87Binary
        where L : struct, IX87Load
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        var ea = c.Ea(op);
        uint lf = 0;
        var src = L.Load(c, ea, ref lf);
        c.X87Note(op->Rip);
        c.X87NoteMem(op, ea);
        if (c.StEmpty(0))
        {
            if (c.X87Underflow())
            {
                c.X87Set(0, Float80.Indefinite);
            }

            return 0;
        }

        uint f = 0;
        var dst = c.St(0);
        var r = A.Exec(dst, src, c.X87.Control, ref f);

        // A denormal single or double operand signals DE unless a NaN operand or a zero divide outranks it.
        if ((f & F80.ZE) == 0 && F80.Classify(dst) < F80.Kind.QNaN)
        {
            f |= lf;
        }

        if (c.X87Commit(f))
        {
            c.X87Set(0, r);
        }

        return 0;
    }

    /// <summary>A one-operand operation on ST(0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Unary(CpuState c, Op* op, delegate*<Float80, ushort, ref uint, Float80> f)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        if (c.StEmpty(0))
        {
            if (c.X87Underflow())
            {
                c.X87Set(0, Float80.Indefinite);
            }

            return 0;
        }

        uint flags = 0;
        var r = f(c.St(0), c.X87.Control, ref flags);
        if (c.X87Commit(flags))
        {
            c.X87Set(0, r);
        }

        return 0;
    }

    private static int Fsqrt(CpuState c, Op* op) => Unary(c, op, &F80.Sqrt);

    private static int Frndint(CpuState c, Op* op) => Unary(c, op, &F80.RoundToInt);

    private static int Fchs(CpuState c, Op* op) => Unary(c, op, &Chs);

    private static int Fabs(CpuState c, Op* op) => Unary(c, op, &Abs);

    private static Float80 Chs(Float80 x, ushort fcw, ref uint flags) => F80.Negate(x);

    private static Float80 Abs(Float80 x, ushort fcw, ref uint flags) => F80.Abs(x);

    private static int Fprem(CpuState c, Op* op) => Remainder(c, op, false);

    private static int Fprem1(CpuState c, Op* op) => Remainder(c, op, true);

    private static int Remainder(CpuState c, Op* op, bool ieee)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        if (X87.Empty(c, 0, 1))
        {
            if (c.X87Underflow())
            {
                c.X87Set(0, Float80.Indefinite);
            }

            return 0;
        }

        uint f = 0;
        var r = F80.Remainder(c.St(0), c.St(1), ieee, c.X87.Control, ref f, out var cc);
        if (c.X87Commit(f & ~F80.C1))
        {
            c.X87.Status = (ushort)((c.X87.Status & 0xB8FFu) | cc);
            c.X87Set(0, r);
        }

        return 0;
    }

    private static int Fscale(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        if (X87.Empty(c, 0, 1))
        {
            if (c.X87Underflow())
            {
                c.X87Set(0, Float80.Indefinite);
            }

            return 0;
        }

        uint f = 0;
        var r = F80.Scale(c.St(0), c.St(1), c.X87.Control, ref f);
        if (c.X87Commit(f))
        {
            c.X87Set(0, r);
        }

        return 0;
    }

    private static int Fxtract(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.X87Note(op->Rip);
        if (c.StEmpty(0))
        {
            if (c.X87Underflow())
            {
                c.X87Set(0, Float80.Indefinite);
                c.X87Push(Float80.Indefinite, 0);
            }

            return 0;
        }

        uint f = 0;
        var (e, s) = F80.Extract(c.St(0), ref f);
        if (!c.StEmpty(7))
        {
            // Stack overflow: the masked response leaves the indefinite in both.
            if (c.X87Commit(F80.IE | F80.SF | F80.C1))
            {
                c.X87Set(0, Float80.Indefinite);
                c.X87Push(Float80.Indefinite, F80.C1);
            }

            return 0;
        }

        if (c.X87Commit(f))
        {
            c.X87Set(0, e);
            c.X87Push(s, f);
        }

        return 0;
    }
}
