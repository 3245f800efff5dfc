using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// A 128-bit operation on an XMM destination and a source: the shape of nearly every SSE
/// instruction. <paramref name="imm"/> is the instruction's imm8 (predicate, shuffle control).
/// </summary>
internal interface IXmmOp
{
    static abstract UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm);
}

/// <summary>
/// Where an SSE instruction's second operand comes from, picked at decode time. Load returns
/// false for a misaligned 16-byte operand of an instruction that requires alignment (#GP).
/// </summary>
internal unsafe interface IXmmSrc
{
    static abstract bool Load(CpuState c, Op* op, out UInt128 value);

    /// <summary>An MMX register: the instruction is an MMX one (a pending x87 exception is delivered first).</summary>
    static virtual bool Mmx => false;
}

/// <summary>An XMM register (number in R1).</summary>
internal readonly unsafe struct SrcXmm : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = c.XmmReg(op->R1);
        return true;
    }
}

/// <summary>A 16-byte memory operand that may be misaligned (MOVUPS, MOVDQU).</summary>
internal readonly unsafe struct SrcM128 : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = c.Read128(c.Ea(op));
        return true;
    }
}

/// <summary>A 16-byte memory operand of a legacy SSE instruction: it must be 16-byte aligned.</summary>
internal readonly unsafe struct SrcM128A : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        var a = c.Ea(op);
        if ((a & 15) != 0)
        {
            value = default;
            return false;
        }

        value = c.Read128(a);
        return true;
    }
}

/// <summary>An 8-byte memory operand, zero-extended (scalar double, MOVQ, the low-half forms).</summary>
internal readonly unsafe struct SrcM64 : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = c.Read64(c.Ea(op));
        return true;
    }
}

/// <summary>A 4-byte memory operand, zero-extended (scalar single).</summary>
internal readonly unsafe struct SrcM32 : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = c.Read32(c.Ea(op));
        return true;
    }
}

/// <summary>A 1-byte memory operand, zero-extended (PINSRB xmm, m8).</summary>
internal readonly unsafe struct SrcM8 : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = c.Read8(c.Ea(op));
        return true;
    }
}

/// <summary>A 2-byte memory operand, zero-extended (PINSRW mm, m16).</summary>
internal readonly unsafe struct SrcM16 : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = c.Read16(c.Ea(op));
        return true;
    }
}

/// <summary>A general register (byte offset in R1) of width W, zero-extended (MOVD/MOVQ mm, r; PINSRW mm, r).</summary>
internal readonly unsafe struct SrcGpr<W> : IXmmSrc
    where W : IWidth
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = W.Get(c, op->R1);
        return true;
    }
}

/// <summary>The imm8 as the source (shift-by-immediate forms share the shift-by-register bodies).</summary>
internal readonly unsafe struct SrcImm : IXmmSrc
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = (byte)op->Imm;
        return true;
    }
}

/// <summary>The register an SSE-shaped op writes: an XMM register, or (<see cref="DstMm"/>) an MMX one. R0 holds its number.</summary>
internal interface IVecDst
{
    static abstract UInt128 Get(CpuState c, byte reg);

    static abstract void Set(CpuState c, byte reg, UInt128 value);

    /// <inheritdoc cref="IXmmSrc.Mmx"/>
    static virtual bool Mmx => false;
}

internal readonly struct DstXmm : IVecDst
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Get(CpuState c, byte reg) => c.XmmReg(reg);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(CpuState c, byte reg, UInt128 value) => c.XmmReg(reg) = value;
}

/// <summary>Shared decode helpers and the generic handlers for the SSE groups.</summary>
internal static unsafe class Sse
{
    public const uint MxcsrMask = CpuState.MxcsrWritable;

    /// <summary>
    /// Registers the legacy SSE/SSE2 forms of a mnemonic: those with XMM operands, not the MMX
    /// (MM register) forms, not later extensions (PEXTRW m16 is SSE4.1), not the string MOVSD/CMPSD.
    /// </summary>
    public static void Add(Mnemonic mnemonic, OpBuilder builder)
    {
        foreach (var code in OpTable.LegacyCodes(mnemonic))
        {
            if (IsPlainSse(code))
            {
                OpTable.Add(code, builder);
            }
        }
    }

    /// <summary>
    /// Registers the legacy forms of a mnemonic that belong to <paramref name="feature"/> alone
    /// and have no MM register operand (the XMM forms of SSE3, SSSE3 and SSE4.1, and the
    /// SSE4.1 PEXTRW r/m16 beside SSE2's PEXTRW r32).
    /// </summary>
    public static void Add(Mnemonic mnemonic, CpuidFeature feature, OpBuilder builder)
    {
        foreach (var code in OpTable.LegacyCodes(mnemonic))
        {
            if (code.CpuidFeatures() is [var f] && f == feature && !HasMmOperand(code))
            {
                OpTable.Add(code, builder);
            }
        }
    }

    private static bool HasMmOperand(Code code)
    {
        var oc = code.ToOpCode();
        for (var i = 0; i < oc.OpCount; i++)
        {
            if (oc.GetOpKind(i) is OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsPlainSse(Code code)
    {
        foreach (var f in code.CpuidFeatures())
        {
            if (f is not (CpuidFeature.SSE or CpuidFeature.SSE2 or CpuidFeature.FXSR))
            {
                return false;
            }
        }

        var oc = code.ToOpCode();
        for (var i = 0; i < oc.OpCount; i++)
        {
            if (oc.GetOpKind(i) is OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The common builder: XMM destination (R0), then <see cref="BuildSource{O, D}"/>. <paramref name="aligned"/>
    /// says whether a 16-byte memory source must be aligned (everything but the MOVU* family).
    /// </summary>
    public static bool BuildXmm<O>(in Instruction insn, ref Op op, bool aligned = true)
        where O : struct, IXmmOp
    {
        if (insn.Op0Kind != OpKind.Register || !insn.Op0Register.IsXMM())
        {
            return false;
        }

        op.R0 = Operands.Xmm(insn.Op0Register);
        return BuildSource<O, DstXmm>(insn, ref op, aligned);
    }

    /// <summary>
    /// The source half of the common builder, for a destination D already in R0: an XMM, MM or
    /// general register (R1), memory (2 to 16 bytes) or an immediate (shift counts); the imm8 of
    /// a three-operand form into Imm.
    /// </summary>
    public static bool BuildSource<O, D>(in Instruction insn, ref Op op, bool aligned)
        where O : struct, IXmmOp
        where D : struct, IVecDst
    {
        if (insn.OpCount > 2 && insn.GetOpKind(2) == OpKind.Immediate8)
        {
            op.Imm = insn.Immediate8;
        }

        switch (insn.Op1Kind)
        {
            case OpKind.Register:
                var r = insn.Op1Register;
                op.R1 = r.IsXMM() ? Operands.Xmm(r) : r.IsMM() ? Mmx.Mm(r) : Operands.Gpr(r);
                op.Handler = r.IsXMM() ? &Run<O, SrcXmm, D>
                    : r.IsMM() ? &Run<O, SrcMm, D>
                    : r.IsGPR64() ? &Run<O, SrcGpr<W64>, D>
                    : r.IsGPR32() ? &Run<O, SrcGpr<W32>, D>
                    : null;
                return op.Handler != null;
            case OpKind.Memory:
                if (!Operands.Mem(insn, ref op))
                {
                    return false;
                }

                op.Handler = insn.MemorySize.GetSize() switch
                {
                    16 => aligned ? &Run<O, SrcM128A, D> : &Run<O, SrcM128, D>,
                    8 => &Run<O, SrcM64, D>,
                    4 => &Run<O, SrcM32, D>,
                    2 => &Run<O, SrcM16, D>,
                    1 => &Run<O, SrcM8, D>,
                    _ => null,
                };
                return op.Handler != null;
            case OpKind.Immediate8:
                op.Imm = insn.Immediate8;
                op.Handler = &Run<O, SrcImm, D>;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A builder for <see cref="BuildXmm{O}"/>.</summary>
    public static OpBuilder Xmm<O>()
        where O : struct, IXmmOp => static (in Instruction insn, ref Op op) => BuildXmm<O>(insn, ref op);

    /// <summary>dst = O(dst, src, imm).</summary>
    public static int Run<O, S, D>(CpuState c, Op* op)
        where O : struct, IXmmOp
        where S : struct, IXmmSrc
        where D : struct, IVecDst
    {
        if ((S.Mmx || D.Mmx) && X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        if (!S.Load(c, op, out var src))
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        D.Set(c, op->R0, O.Exec(c, D.Get(c, op->R0), src, (byte)op->Imm));
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<T> V<T>(UInt128 x) => Unsafe.BitCast<UInt128, Vector128<T>>(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 U<T>(Vector128<T> v) => Unsafe.BitCast<Vector128<T>, UInt128>(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Make(ulong lo, ulong hi) => new(hi, lo);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Lo(UInt128 x) => (ulong)x;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hi(UInt128 x) => (ulong)(x >> 64);

    /// <summary>The lanes of a value as a span, for the portable (lane-by-lane) paths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<T> Lanes<T>(ref UInt128 x)
        where T : struct => System.Runtime.InteropServices.MemoryMarshal.Cast<UInt128, T>(new Span<UInt128>(ref x));
}
