using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>Where a handler's r/m source operand comes from, chosen at decode time.</summary>
internal static unsafe class RmSource
{
    public interface ISource
    {
        static abstract ulong Read<W>(CpuState c, Op* op)
            where W : IWidth;
    }

    /// <summary>The register in <see cref="Op.R1"/>.</summary>
    public struct Reg : ISource
    {
        public static ulong Read<W>(CpuState c, Op* op)
            where W : IWidth => W.Get(c, op->R1);
    }

    /// <summary>The op's memory operand.</summary>
    public struct Mem : ISource
    {
        public static ulong Read<W>(CpuState c, Op* op)
            where W : IWidth => W.Load(c, c.Ea(op));
    }

    /// <summary>
    /// Fills R1 or the memory fields from the r/m operand <paramref name="n"/> and returns
    /// its size in bytes, or 0 for a form we do not run.
    /// </summary>
    public static int Fill(in Instruction insn, int n, ref Op op, out bool memory)
    {
        memory = insn.GetOpKind(n) == OpKind.Memory;
        if (memory)
        {
            return Operands.Mem(insn, ref op) ? insn.MemorySize.GetSize() : 0;
        }

        var r = insn.GetOpRegister(n);
        op.R1 = Operands.Gpr(r);
        return r.GetSize();
    }
}

/// <summary>MUL, IMUL (one, two and three operands), DIV and IDIV in all sizes.</summary>
/// <remarks>
/// SF, ZF, AF and PF are undefined after MUL/IMUL and all flags after DIV/IDIV (SDM Vol. 2A);
/// we set ZF/SF/PF from the low half for multiplies and leave the flags alone for divides.
/// #DE (zero divisor or a quotient that does not fit) exits before any register is written.
/// </remarks>
internal static unsafe class MulDiv
{
    private const byte Rax = 0;
    private const byte Rdx = 2 * 8;

    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Mul, Build1<MulOp>);
        OpTable.AddMnemonic(Mnemonic.Div, Build1<DivOp>);
        OpTable.AddMnemonic(Mnemonic.Idiv, Build1<IdivOp>);
        OpTable.AddMnemonic(Mnemonic.Imul, BuildImul);
    }

    /// <summary>An instruction on the implicit accumulator pair (AX, DX:AX, EDX:EAX, RDX:RAX) and one r/m operand.</summary>
    private interface IAccOp
    {
        static abstract int Exec<W>(CpuState c, Op* op, ulong src)
            where W : IWidth;
    }

    private static bool Build1<A>(in Instruction insn, ref Op op)
        where A : struct, IAccOp
    {
        var size = RmSource.Fill(insn, 0, ref op, out var memory);
        op.Handler = memory
            ? Sized.Pick(size, &Acc<A, RmSource.Mem, W8>, &Acc<A, RmSource.Mem, W16>, &Acc<A, RmSource.Mem, W32>, &Acc<A, RmSource.Mem, W64>)
            : Sized.Pick(size, &Acc<A, RmSource.Reg, W8>, &Acc<A, RmSource.Reg, W16>, &Acc<A, RmSource.Reg, W32>, &Acc<A, RmSource.Reg, W64>);
        return op.Handler != null;
    }

    private static bool BuildImul(in Instruction insn, ref Op op)
    {
        switch (insn.OpCount)
        {
            case 1:
                return Build1<ImulOp>(insn, ref op);
            case 2:
            {
                op.R0 = Operands.Gpr(insn.Op0Register);
                var size = RmSource.Fill(insn, 1, ref op, out var memory);
                op.Handler = memory
                    ? Sized.Pick(size, null, &Imul2<RmSource.Mem, W16>, &Imul2<RmSource.Mem, W32>, &Imul2<RmSource.Mem, W64>)
                    : Sized.Pick(size, null, &Imul2<RmSource.Reg, W16>, &Imul2<RmSource.Reg, W32>, &Imul2<RmSource.Reg, W64>);
                return op.Handler != null;
            }

            default:
            {
                op.R0 = Operands.Gpr(insn.Op0Register);
                op.Imm = (long)insn.GetImmediate(2);
                var size = RmSource.Fill(insn, 1, ref op, out var memory);
                op.Handler = memory
                    ? Sized.Pick(size, null, &Imul3<RmSource.Mem, W16>, &Imul3<RmSource.Mem, W32>, &Imul3<RmSource.Mem, W64>)
                    : Sized.Pick(size, null, &Imul3<RmSource.Reg, W16>, &Imul3<RmSource.Reg, W32>, &Imul3<RmSource.Reg, W64>);
                return op.Handler != null;
            }
        }
    }

    private static int Acc<A, S, W>(CpuState c, Op* op)
        where A : struct, IAccOp
        where S : struct, RmSource.ISource
        where W : IWidth => A.Exec<W>(c, op, S.Read<W>(c, op));

    /// <summary>Writes a double-width result: AX for byte operands, else rDX:rAX.</summary>
    private static void SetPair<W>(CpuState c, ulong lo, ulong hi)
        where W : IWidth
    {
        if (W.Bits == 8)
        {
            W16.Set(c, Rax, lo | (hi << 8));
        }
        else
        {
            W.Set(c, Rax, lo);
            W.Set(c, Rdx, hi);
        }
    }

    /// <summary>The truncated signed product and whether it overflowed the operand size (CF = OF).</summary>
    private static ulong SignedProduct<W>(long a, long b, out bool overflow, out ulong high)
        where W : IWidth
    {
        if (W.Bits == 64)
        {
            var hi = Math.BigMul(a, b, out var lo);
            overflow = hi != lo >> 63;
            high = (ulong)hi;
            return (ulong)lo;
        }

        // Narrower products fit in 64 bits exactly.
        var p = a * b;
        var low = (ulong)p & W.Mask;
        overflow = W.Sext(low) != p;
        high = (ulong)(p >> W.Bits) & W.Mask;
        return low;
    }

    private static void MulFlags<W>(CpuState c, ulong low, bool overflow)
        where W : IWidth => c.SetFlagsExplicit(W.SizeLog, low, overflow ? CpuState.CF | CpuState.OF : 0);

    private static int Imul2<S, W>(CpuState c, Op* op)
        where S : struct, RmSource.ISource
        where W : IWidth
    {
        var r = SignedProduct<W>(W.Sext(W.Get(c, op->R0)), W.Sext(S.Read<W>(c, op)), out var overflow, out _);
        W.Set(c, op->R0, r);
        MulFlags<W>(c, r, overflow);
        return 0;
    }

    private static int Imul3<S, W>(CpuState c, Op* op)
        where S : struct, RmSource.ISource
        where W : IWidth
    {
        var r = SignedProduct<W>(W.Sext(S.Read<W>(c, op)), W.Sext((ulong)op->Imm & W.Mask), out var overflow, out _);
        W.Set(c, op->R0, r);
        MulFlags<W>(c, r, overflow);
        return 0;
    }

    /// <summary>MUL: unsigned rDX:rAX = rAX * src; CF = OF = upper half non-zero.</summary>
    private struct MulOp : IAccOp
    {
        public static int Exec<W>(CpuState c, Op* op, ulong src)
            where W : IWidth
        {
            var a = W.Get(c, Rax);
            ulong lo, hi;
            if (W.Bits == 64)
            {
                hi = Math.BigMul(a, src, out lo);
            }
            else
            {
                var p = a * src;
                lo = p & W.Mask;
                hi = p >> W.Bits;
            }

            SetPair<W>(c, lo, hi);
            MulFlags<W>(c, lo, hi != 0);
            return 0;
        }
    }

    /// <summary>One-operand IMUL: signed rDX:rAX = rAX * src; CF = OF = upper half is not the sign extension.</summary>
    private struct ImulOp : IAccOp
    {
        public static int Exec<W>(CpuState c, Op* op, ulong src)
            where W : IWidth
        {
            var lo = SignedProduct<W>(W.Sext(W.Get(c, Rax)), W.Sext(src), out var overflow, out var hi);
            SetPair<W>(c, lo, hi);
            MulFlags<W>(c, lo, overflow);
            return 0;
        }
    }

    /// <summary>DIV: unsigned rDX:rAX / src into rAX (quotient) and rDX (remainder).</summary>
    private struct DivOp : IAccOp
    {
        public static int Exec<W>(CpuState c, Op* op, ulong d)
            where W : IWidth
        {
            ulong q, r;
            if (W.Bits == 64)
            {
                var hi = c.Reg64(Rdx);
                var lo = c.Reg64(Rax);

                // hi >= d covers d == 0 and every quotient wider than 64 bits.
                if (hi >= d)
                {
                    return c.ExitAt(op, ExitReason.DivideError);
                }

                if (hi == 0)
                {
                    (q, r) = Math.DivRem(lo, d);
                }
                else
                {
                    var n = new UInt128(hi, lo);
                    q = (ulong)(n / d);
                    r = lo - (q * d);
                }
            }
            else
            {
                var n = W.Bits == 8 ? W16.Get(c, Rax) : (W.Get(c, Rdx) << W.Bits) | W.Get(c, Rax);
                if (d == 0)
                {
                    return c.ExitAt(op, ExitReason.DivideError);
                }

                q = n / d;
                if (q > W.Mask)
                {
                    return c.ExitAt(op, ExitReason.DivideError);
                }

                r = n - (q * d);
            }

            SetPair<W>(c, q, r);
            return 0;
        }
    }

    /// <summary>IDIV: signed, truncating toward zero; the remainder takes the dividend's sign.</summary>
    private struct IdivOp : IAccOp
    {
        public static int Exec<W>(CpuState c, Op* op, ulong src)
            where W : IWidth
        {
            var d = W.Sext(src);
            if (d == 0)
            {
                return c.ExitAt(op, ExitReason.DivideError);
            }

            long q, r;
            if (W.Bits == 64)
            {
                var hi = (long)c.Reg64(Rdx);
                var lo = c.Reg64(Rax);
                if (hi == (long)lo >> 63)
                {
                    // The dividend fits in 64 bits; only MinValue / -1 overflows (and would throw in .NET).
                    var n = (long)lo;
                    if (d == -1 && n == long.MinValue)
                    {
                        return c.ExitAt(op, ExitReason.DivideError);
                    }

                    (q, r) = Math.DivRem(n, d);
                }
                else
                {
                    var n = new Int128((ulong)hi, lo);
                    Int128 wide;
                    if (d == -1)
                    {
                        // Int128 division would throw for MinValue / -1; the quotient is -n, which fits only for n = 2^63.
                        wide = -n;
                        r = 0;
                    }
                    else
                    {
                        wide = n / d;
                        r = (long)(n - (wide * d));
                    }

                    if (wide < long.MinValue || wide > long.MaxValue)
                    {
                        return c.ExitAt(op, ExitReason.DivideError);
                    }

                    q = (long)wide;
                }
            }
            else
            {
                // The double-width dividend, sign-extended from 2 * width bits.
                var raw = W.Bits == 8 ? W16.Get(c, Rax) : (W.Get(c, Rdx) << W.Bits) | W.Get(c, Rax);
                var shift = 64 - (2 * W.Bits);
                var n = (long)(raw << shift) >> shift;
                if (d == -1 && n == long.MinValue)
                {
                    return c.ExitAt(op, ExitReason.DivideError);
                }

                q = n / d;
                r = n - (q * d);
                if (W.Sext((ulong)q & W.Mask) != q)
                {
                    return c.ExitAt(op, ExitReason.DivideError);
                }
            }

            SetPair<W>(c, (ulong)q & W.Mask, (ulong)r & W.Mask);
            return 0;
        }
    }
}
