using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using static UserModeOS.Cpu.Instructions.SoftFloat;

namespace UserModeOS.Cpu.Instructions;

/// <summary>One lane of an SSE floating-point operation; <paramref name="flags"/> collects MXCSR exception flags.</summary>
internal interface IFpLaneOp
{
    static abstract ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp;
}

/// <summary>A compile-time boolean for generic handlers.</summary>
internal interface IFlag
{
    static abstract bool Value { get; }
}

internal readonly struct Yes : IFlag
{
    public static bool Value => true;
}

internal readonly struct No : IFlag
{
    public static bool Value => false;
}

/// <summary>
/// SSE/SSE2 floating point: arithmetic, min/max, compares, COMIS/UCOMIS and the conversions,
/// all through <see cref="SoftFloat"/> so results and MXCSR flags match the hardware bit for
/// bit whatever the host. Exceptions are always treated as masked: an unmasked one would
/// raise #XM (SIGFPE) on hardware, here it only sets its flag.
/// </summary>
internal static unsafe class SseFloat
{
    public static void Register()
    {
        AddArith<AddF>(Mnemonic.Addss, Mnemonic.Addsd, Mnemonic.Addps, Mnemonic.Addpd);
        AddArith<SubF>(Mnemonic.Subss, Mnemonic.Subsd, Mnemonic.Subps, Mnemonic.Subpd);
        AddArith<MulF>(Mnemonic.Mulss, Mnemonic.Mulsd, Mnemonic.Mulps, Mnemonic.Mulpd);
        AddArith<DivF>(Mnemonic.Divss, Mnemonic.Divsd, Mnemonic.Divps, Mnemonic.Divpd);
        AddArith<SqrtF>(Mnemonic.Sqrtss, Mnemonic.Sqrtsd, Mnemonic.Sqrtps, Mnemonic.Sqrtpd);
        AddArith<MinF>(Mnemonic.Minss, Mnemonic.Minsd, Mnemonic.Minps, Mnemonic.Minpd);
        AddArith<MaxF>(Mnemonic.Maxss, Mnemonic.Maxsd, Mnemonic.Maxps, Mnemonic.Maxpd);
        AddArith<CmpF>(Mnemonic.Cmpss, Mnemonic.Cmpsd, Mnemonic.Cmpps, Mnemonic.Cmppd);

        Sse.Add(Mnemonic.Comiss, Sse.Xmm<Comi<F32, Yes>>());
        Sse.Add(Mnemonic.Ucomiss, Sse.Xmm<Comi<F32, No>>());
        Sse.Add(Mnemonic.Comisd, Sse.Xmm<Comi<F64, Yes>>());
        Sse.Add(Mnemonic.Ucomisd, Sse.Xmm<Comi<F64, No>>());

        Sse.Add(Mnemonic.Cvtsi2ss, BuildIntToFloat<F32>);
        Sse.Add(Mnemonic.Cvtsi2sd, BuildIntToFloat<F64>);
        Sse.Add(Mnemonic.Cvtss2si, BuildFloatToInt<F32, No>);
        Sse.Add(Mnemonic.Cvttss2si, BuildFloatToInt<F32, Yes>);
        Sse.Add(Mnemonic.Cvtsd2si, BuildFloatToInt<F64, No>);
        Sse.Add(Mnemonic.Cvttsd2si, BuildFloatToInt<F64, Yes>);
        Sse.Add(Mnemonic.Cvtss2sd, Sse.Xmm<CvtSs2Sd>());
        Sse.Add(Mnemonic.Cvtsd2ss, Sse.Xmm<CvtSd2Ss>());
        Sse.Add(Mnemonic.Cvtps2pd, Sse.Xmm<CvtPs2Pd>());
        Sse.Add(Mnemonic.Cvtpd2ps, Sse.Xmm<CvtPd2Ps>());
        Sse.Add(Mnemonic.Cvtdq2ps, Sse.Xmm<CvtDq2Ps>());
        Sse.Add(Mnemonic.Cvtdq2pd, Sse.Xmm<CvtDq2Pd>());
        Sse.Add(Mnemonic.Cvtps2dq, Sse.Xmm<CvtPs2Dq<No>>());
        Sse.Add(Mnemonic.Cvttps2dq, Sse.Xmm<CvtPs2Dq<Yes>>());
        Sse.Add(Mnemonic.Cvtpd2dq, Sse.Xmm<CvtPd2Dq<No>>());
        Sse.Add(Mnemonic.Cvttpd2dq, Sse.Xmm<CvtPd2Dq<Yes>>());
    }

    private static void AddArith<O>(Mnemonic ss, Mnemonic sd, Mnemonic ps, Mnemonic pd)
        where O : struct, IFpLaneOp
    {
        Sse.Add(ss, Sse.Xmm<Scalar<O, F32>>());
        Sse.Add(sd, Sse.Xmm<Scalar<O, F64>>());
        Sse.Add(ps, Sse.Xmm<Packed<O, F32>>());
        Sse.Add(pd, Sse.Xmm<Packed<O, F64>>());
    }

    /// <summary>CVTSI2SS/SD xmm, r/m32 or r/m64: the low lane only.</summary>
    private static bool BuildIntToFloat<F>(in Instruction insn, ref Op op)
        where F : IFp
    {
        op.R0 = Operands.Xmm(insn.Op0Register);
        if (insn.Op1Kind == OpKind.Register)
        {
            op.R1 = Operands.Gpr(insn.Op1Register);
            op.Handler = insn.Op1Register.GetSize() == 8 ? &IntToFloatR<F, W64> : &IntToFloatR<F, W32>;
            return true;
        }

        op.Handler = insn.MemorySize.GetSize() == 8 ? &IntToFloatM<F, W64> : &IntToFloatM<F, W32>;
        return Operands.Mem(insn, ref op);
    }

    /// <summary>CVT(T)SS2SI/CVT(T)SD2SI r32/r64, xmm/m.</summary>
    private static bool BuildFloatToInt<F, T>(in Instruction insn, ref Op op)
        where F : IFp
        where T : struct, IFlag
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        var wide = insn.Op0Register.GetSize() == 8;
        if (insn.Op1Kind == OpKind.Register)
        {
            op.R1 = Operands.Xmm(insn.Op1Register);
            op.Handler = wide ? &FloatToInt<F, W64, T, SrcXmm> : &FloatToInt<F, W32, T, SrcXmm>;
            return true;
        }

        op.Handler = F.Bits == 64
            ? (wide ? &FloatToInt<F, W64, T, SrcM64> : &FloatToInt<F, W32, T, SrcM64>)
            : (wide ? &FloatToInt<F, W64, T, SrcM32> : &FloatToInt<F, W32, T, SrcM32>);
        return Operands.Mem(insn, ref op);
    }

    private static int IntToFloatR<F, W>(CpuState c, Op* op)
        where F : IFp
        where W : IWidth
    {
        IntToFloat<F>(c, op, W.Sext(W.Get(c, op->R1)));
        return 0;
    }

    private static int IntToFloatM<F, W>(CpuState c, Op* op)
        where F : IFp
        where W : IWidth
    {
        IntToFloat<F>(c, op, W.Sext(W.Load(c, c.Ea(op))));
        return 0;
    }

    private static void IntToFloat<F>(CpuState c, Op* op, long v)
        where F : IFp
    {
        uint flags = 0;
        var r = FromInt<F>(v, c.Mxcsr, ref flags);
        c.Mxcsr |= flags;
        ref var x = ref c.XmmReg(op->R0);
        x = Set<F>(x, 0, r);
    }

    private static int FloatToInt<F, W, T, S>(CpuState c, Op* op)
        where F : IFp
        where W : IWidth
        where T : struct, IFlag
        where S : struct, IXmmSrc
    {
        S.Load(c, op, out var src);
        uint flags = 0;
        var r = ToInt<F>(Get<F>(src, 0), W.Bits, T.Value, c.Mxcsr, ref flags);
        c.Mxcsr |= flags;
        W.Set(c, op->R0, (ulong)r);
        return 0;
    }
}

/// <summary>A scalar op: the low lane computed, the rest of the destination kept.</summary>
internal struct Scalar<O, F> : IXmmOp
    where O : struct, IFpLaneOp
    where F : IFp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var r = O.Op<F>(Get<F>(a, 0), Get<F>(b, 0), imm, c.Mxcsr, ref flags);
        c.Mxcsr |= flags;
        return Set<F>(a, 0, r);
    }
}

/// <summary>A packed op: every lane, exception flags OR-ed together.</summary>
internal struct Packed<O, F> : IXmmOp
    where O : struct, IFpLaneOp
    where F : IFp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        var r = a;
        for (var i = 0; i < F.Lanes; i++)
        {
            r = Set<F>(r, i, O.Op<F>(Get<F>(a, i), Get<F>(b, i), imm, mxcsr, ref flags));
        }

        c.Mxcsr |= flags;
        return r;
    }
}

internal struct AddF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => Add<F>(a, b, mxcsr, ref flags);
}

internal struct SubF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => Sub<F>(a, b, mxcsr, ref flags);
}

internal struct MulF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => Mul<F>(a, b, mxcsr, ref flags);
}

internal struct DivF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => Div<F>(a, b, mxcsr, ref flags);
}

internal struct SqrtF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => Sqrt<F>(b, mxcsr, ref flags);
}

internal struct MinF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => MinMax<F>(a, b, false, mxcsr, ref flags);
}

internal struct MaxF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => MinMax<F>(a, b, true, mxcsr, ref flags);
}

/// <summary>CMPccxx: the legacy encoding uses only imm8[2:0].</summary>
internal struct CmpF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp => Compare<F>(a, b, imm, mxcsr, ref flags) ? F.LaneMask : 0;
}

/// <summary>COMISS/COMISD (Q = Yes: QNaN is invalid too) and UCOMISS/UCOMISD: ZF/PF/CF, the other flags cleared.</summary>
internal struct Comi<F, Q> : IXmmOp
    where F : IFp
    where Q : struct, IFlag
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var r = CompareFlags<F>(Get<F>(a, 0), Get<F>(b, 0), Q.Value, c.Mxcsr, ref flags);
        c.Mxcsr |= flags;
        c.SetFlags(FlagKind.Materialized, 0, 0, 0, r);
        return a;
    }
}

internal struct CvtSs2Sd : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var r = SingleToDouble((uint)b, c.Mxcsr, ref flags);
        c.Mxcsr |= flags;
        return Set<F64>(a, 0, r);
    }
}

internal struct CvtSd2Ss : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var r = DoubleToSingle((ulong)b, c.Mxcsr, ref flags);
        c.Mxcsr |= flags;
        return Set<F32>(a, 0, r);
    }
}

internal struct CvtPs2Pd : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        var lo = SingleToDouble((uint)b, mxcsr, ref flags);
        var hi = SingleToDouble((uint)(b >> 32), mxcsr, ref flags);
        c.Mxcsr |= flags;
        return Sse.Make(lo, hi);
    }
}

internal struct CvtPd2Ps : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        var lo = DoubleToSingle((ulong)b, mxcsr, ref flags);
        var hi = DoubleToSingle((ulong)(b >> 64), mxcsr, ref flags);
        c.Mxcsr |= flags;
        return lo | (hi << 32);
    }
}

internal struct CvtDq2Ps : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        UInt128 r = 0;
        for (var i = 0; i < 4; i++)
        {
            r = Set<F32>(r, i, FromInt<F32>((int)(uint)(b >> (32 * i)), mxcsr, ref flags));
        }

        c.Mxcsr |= flags;
        return r;
    }
}

/// <summary>CVTDQ2PD: exact, the two low dwords.</summary>
internal struct CvtDq2Pd : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse.Make(BitConverter.DoubleToUInt64Bits((int)(uint)b), BitConverter.DoubleToUInt64Bits((int)(uint)(b >> 32)));
}

internal struct CvtPs2Dq<T> : IXmmOp
    where T : struct, IFlag
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        UInt128 r = 0;
        for (var i = 0; i < 4; i++)
        {
            r = Set<F32>(r, i, (uint)ToInt<F32>(Get<F32>(b, i), 32, T.Value, mxcsr, ref flags));
        }

        c.Mxcsr |= flags;
        return r;
    }
}

/// <summary>CVT(T)PD2DQ: two dwords in the low quadword, the high one zeroed.</summary>
internal struct CvtPd2Dq<T> : IXmmOp
    where T : struct, IFlag
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        var lo = (uint)ToInt<F64>((ulong)b, 32, T.Value, mxcsr, ref flags);
        var hi = (uint)ToInt<F64>((ulong)(b >> 64), 32, T.Value, mxcsr, ref flags);
        c.Mxcsr |= flags;
        return lo | ((ulong)hi << 32);
    }
}
