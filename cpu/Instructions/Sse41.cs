using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using static UserModeOS.Cpu.Instructions.Sse;
using static UserModeOS.Cpu.Instructions.SoftFloat;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// SSE4.1: PTEST, the new min/max, zero/sign extensions, multiplies, PCMPEQQ, PACKUSDW,
/// PHMINPOSUW, ROUND*, the blends (immediate and XMM0-variable), INSERTPS/EXTRACTPS, the
/// PINSR*/PEXTR* family, DPPS/DPPD, MPSADBW and MOVNTDQA. The floating-point bodies use
/// <see cref="SoftFloat"/> (rounded per operation, as the hardware does), the rest portable
/// Vector128 code or an SSE4.1 intrinsic beside a portable body (<see cref="ISoftXmmOp"/>).
/// </summary>
internal static unsafe class Sse41Ops
{
    private const CpuidFeature F = CpuidFeature.SSE4_1;

    public static void Register()
    {
        Add(Mnemonic.Ptest, F, Xmm<Ptest>());
        Add(Mnemonic.Pminsb, F, Xmm<Pmin<sbyte>>());
        Add(Mnemonic.Pminsd, F, Xmm<Pmin<int>>());
        Add(Mnemonic.Pminuw, F, Xmm<Pmin<ushort>>());
        Add(Mnemonic.Pminud, F, Xmm<Pmin<uint>>());
        Add(Mnemonic.Pmaxsb, F, Xmm<Pmax<sbyte>>());
        Add(Mnemonic.Pmaxsd, F, Xmm<Pmax<int>>());
        Add(Mnemonic.Pmaxuw, F, Xmm<Pmax<ushort>>());
        Add(Mnemonic.Pmaxud, F, Xmm<Pmax<uint>>());

        // The m64/m32/m16 sources load through SrcM64/M32/M16, zero-extended; only the low lanes are read.
        Add(Mnemonic.Pmovsxbw, F, Xmm<PmovsxBW>());
        Add(Mnemonic.Pmovsxbd, F, Xmm<PmovsxBD>());
        Add(Mnemonic.Pmovsxbq, F, Xmm<PmovsxBQ>());
        Add(Mnemonic.Pmovsxwd, F, Xmm<PmovsxWD>());
        Add(Mnemonic.Pmovsxwq, F, Xmm<PmovsxWQ>());
        Add(Mnemonic.Pmovsxdq, F, Xmm<PmovsxDQ>());
        Add(Mnemonic.Pmovzxbw, F, Xmm<PmovzxBW>());
        Add(Mnemonic.Pmovzxbd, F, Xmm<PmovzxBD>());
        Add(Mnemonic.Pmovzxbq, F, Xmm<PmovzxBQ>());
        Add(Mnemonic.Pmovzxwd, F, Xmm<PmovzxWD>());
        Add(Mnemonic.Pmovzxwq, F, Xmm<PmovzxWQ>());
        Add(Mnemonic.Pmovzxdq, F, Xmm<PmovzxDQ>());

        Add(Mnemonic.Pmulld, F, Xmm<Pmulld>());
        Add(Mnemonic.Pmuldq, F, Xmm<Pmuldq>());
        Add(Mnemonic.Pcmpeqq, F, Xmm<Pcmpeq<long>>());
        Add(Mnemonic.Packusdw, F, Xmm<Packusdw>());
        Add(Mnemonic.Phminposuw, F, Xmm<Phminposuw>());
        Add(Mnemonic.Mpsadbw, F, Xmm<Mpsadbw>());

        Add(Mnemonic.Roundss, F, Xmm<Scalar<RoundF, F32>>());
        Add(Mnemonic.Roundsd, F, Xmm<Scalar<RoundF, F64>>());
        Add(Mnemonic.Roundps, F, Xmm<Packed<RoundF, F32>>());
        Add(Mnemonic.Roundpd, F, Xmm<Packed<RoundF, F64>>());
        Add(Mnemonic.Dpps, F, Xmm<Dpps>());
        Add(Mnemonic.Dppd, F, Xmm<Dppd>());

        Add(Mnemonic.Blendps, F, Xmm<Blend<uint>>());
        Add(Mnemonic.Blendpd, F, Xmm<Blend<ulong>>());
        Add(Mnemonic.Pblendw, F, Xmm<Blend<ushort>>());
        Add(Mnemonic.Pblendvb, F, Xmm<BlendV<sbyte>>());
        Add(Mnemonic.Blendvps, F, Xmm<BlendV<int>>());
        Add(Mnemonic.Blendvpd, F, Xmm<BlendV<long>>());

        Add(Mnemonic.Insertps, F, static (in Instruction insn, ref Op op) =>
            insn.Op1Kind == OpKind.Memory ? BuildXmm<InsertpsMem>(insn, ref op) : BuildXmm<InsertpsReg>(insn, ref op));
        Add(Mnemonic.Pinsrb, F, Xmm<Pinsr<W8>>());
        Add(Mnemonic.Pinsrd, F, Xmm<Pinsr<W32>>());
        Add(Mnemonic.Pinsrq, F, Xmm<Pinsr<W64>>());
        Add(Mnemonic.Pextrb, F, Extract<W8>());
        Add(Mnemonic.Pextrw, F, Extract<W16>());
        Add(Mnemonic.Pextrd, F, Extract<W32>());
        Add(Mnemonic.Pextrq, F, Extract<W64>());
        Add(Mnemonic.Extractps, F, Extract<W32>());

        // MOVNTDQA: an aligned 16-byte load (the non-temporal hint means nothing here).
        Add(Mnemonic.Movntdqa, F, Xmm<Copy>());
    }

    /// <summary>PEXTRB/W/D/Q and EXTRACTPS: lane imm8 (mod the lane count) of the XMM source (R1) to memory or, zero-extended, to a general register (R0).</summary>
    private static OpBuilder Extract<L>()
        where L : IWidth => static (in Instruction insn, ref Op op) =>
    {
        if (insn.Op1Kind != OpKind.Register || !insn.Op1Register.IsXMM())
        {
            return false;
        }

        op.R1 = Operands.Xmm(insn.Op1Register);
        op.Imm = insn.Immediate8;
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = &ExtractReg<L>;
            return true;
        }

        op.Handler = &ExtractMem<L>;
        return Operands.Mem(insn, ref op);
    };

    private static ulong Lane<L>(CpuState c, Op* op)
        where L : IWidth => (ulong)(c.XmmReg(op->R1) >> (L.Bits * ((int)op->Imm & ((128 / L.Bits) - 1)))) & L.Mask;

    private static int ExtractReg<L>(CpuState c, Op* op)
        where L : IWidth
    {
        c.Reg64(op->R0) = Lane<L>(c, op);
        return 0;
    }

    private static int ExtractMem<L>(CpuState c, Op* op)
        where L : IWidth
    {
        L.Store(c, c.Ea(op), Lane<L>(c, op));
        return 0;
    }
}

/// <summary>PTEST: ZF when dst AND src is zero, CF when (NOT dst) AND src is zero; AF, OF, PF, SF cleared.</summary>
internal struct Ptest : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var f = ((a & b) == 0 ? CpuState.ZF : 0) | ((~a & b) == 0 ? CpuState.CF : 0);
        c.SetFlags(FlagKind.Materialized, 0, 0, 0, f);
        return a;
    }
}

internal struct PmovsxBW : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(V<sbyte>(b)));
}

internal struct PmovsxBD : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(Vector128.WidenLower(V<sbyte>(b))));
}

internal struct PmovsxBQ : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        U(Vector128.WidenLower(Vector128.WidenLower(Vector128.WidenLower(V<sbyte>(b)))));
}

internal struct PmovsxWD : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(V<short>(b)));
}

internal struct PmovsxWQ : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(Vector128.WidenLower(V<short>(b))));
}

internal struct PmovsxDQ : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(V<int>(b)));
}

internal struct PmovzxBW : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(V<byte>(b)));
}

internal struct PmovzxBD : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(Vector128.WidenLower(V<byte>(b))));
}

internal struct PmovzxBQ : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        U(Vector128.WidenLower(Vector128.WidenLower(Vector128.WidenLower(V<byte>(b)))));
}

internal struct PmovzxWD : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(V<ushort>(b)));
}

internal struct PmovzxWQ : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(Vector128.WidenLower(V<ushort>(b))));
}

internal struct PmovzxDQ : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.WidenLower(V<uint>(b)));
}

/// <summary>PMULLD: the low dword of each signed dword product.</summary>
internal struct Pmulld : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.Multiply(V<int>(a), V<int>(b)));
}

/// <summary>PMULDQ: the even dwords multiplied as signed into full quadwords.</summary>
internal struct Pmuldq : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Make((ulong)((long)(int)(uint)a * (int)(uint)b), (ulong)((long)(int)(uint)(a >> 64) * (int)(uint)(b >> 64)));
}

/// <summary>PACKUSDW: signed dwords clamped to 0..65535, the destination's into the low half.</summary>
internal struct Packusdw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse41.IsSupported ? U(Sse41.PackUnsignedSaturate(V<int>(a), V<int>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var lo = Vector128.Clamp(V<int>(a), Vector128<int>.Zero, Vector128.Create(0xFFFF)).AsUInt32();
        var hi = Vector128.Clamp(V<int>(b), Vector128<int>.Zero, Vector128.Create(0xFFFF)).AsUInt32();
        return U(Vector128.Narrow(lo, hi));
    }
}

/// <summary>PHMINPOSUW: the smallest unsigned source word in word 0, its (lowest) index in bits 18:16, the rest zero.</summary>
internal struct Phminposuw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse41.IsSupported ? U(Sse41.MinHorizontal(V<ushort>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<ushort>(ref b);
        var index = 0;
        for (var i = 1; i < 8; i++)
        {
            if (x[i] < x[index])
            {
                index = i;
            }
        }

        return x[index] | ((UInt128)(uint)index << 16);
    }
}

/// <summary>
/// MPSADBW: eight sums of absolute differences between four source bytes (imm8[1:0] picks
/// which dword) and successive 4-byte windows of the destination starting at byte 4 * imm8[2].
/// </summary>
internal struct Mpsadbw : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<byte>(ref a);
        var y = Lanes<byte>(ref b);
        var ao = imm & 4;
        var bo = (imm & 3) * 4;
        UInt128 r = 0;
        var d = Lanes<ushort>(ref r);
        for (var i = 0; i < 8; i++)
        {
            var sum = 0;
            for (var k = 0; k < 4; k++)
            {
                sum += Math.Abs(x[ao + i + k] - y[bo + k]);
            }

            d[i] = (ushort)sum;
        }

        return r;
    }
}

/// <summary>
/// ROUNDSS/SD/PS/PD: to an integral value in the format. imm8[1:0] is the rounding mode unless
/// imm8[2] selects MXCSR.RC; imm8[3] suppresses the precision exception. A signalling NaN is
/// quieted (invalid); infinities, zeros and NaNs pass through; the sign of a zero result is the source's.
/// </summary>
internal struct RoundF : IFpLaneOp
{
    public static ulong Op<F>(ulong a, ulong b, int imm, uint mxcsr, ref uint flags)
        where F : IFp
    {
        b = Daz<F>(b, mxcsr);
        if ((b & ~F.SignBit) > F.ExpMask)
        {
            if (IsSNaN<F>(b))
            {
                flags |= IE;
            }

            return Quiet<F>(b);
        }

        if ((b & ~F.SignBit) == F.ExpMask || IsZero<F>(b))
        {
            return b;
        }

        var x = F.ToDouble(b);
        var r = ((imm & 4) != 0 ? Mode(mxcsr) : imm & 3) switch
        {
            RoundNearest => Math.Round(x, MidpointRounding.ToEven),
            RoundDown => Math.Floor(x),
            RoundUp => Math.Ceiling(x),
            _ => Math.Truncate(x),
        };
        if (r != x && (imm & 8) == 0)
        {
            flags |= PE;
        }

        return F.FromDouble(double.CopySign(r, x));
    }
}

/// <summary>
/// DPPS: the products of the lanes imm8[7:4] selects (+0 elsewhere), summed as (p0 + p1) +
/// (p2 + p3), each step rounded; the sum goes to the lanes imm8[3:0] selects, +0 to the others.
/// </summary>
internal struct Dpps : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        var p0 = Product(a, b, 0, imm, mxcsr, ref flags);
        var p1 = Product(a, b, 1, imm, mxcsr, ref flags);
        var p2 = Product(a, b, 2, imm, mxcsr, ref flags);
        var p3 = Product(a, b, 3, imm, mxcsr, ref flags);
        var lo = Add<F32>(p0, p1, mxcsr, ref flags);
        var hi = Add<F32>(p2, p3, mxcsr, ref flags);
        var sum = Add<F32>(lo, hi, mxcsr, ref flags);
        c.Mxcsr |= flags;
        UInt128 r = 0;
        for (var i = 0; i < 4; i++)
        {
            if ((imm & (1 << i)) != 0)
            {
                r = Set<F32>(r, i, sum);
            }
        }

        return r;
    }

    private static ulong Product(UInt128 a, UInt128 b, int lane, int imm, uint mxcsr, ref uint flags) =>
        (imm & (0x10 << lane)) != 0 ? Mul<F32>(Get<F32>(a, lane), Get<F32>(b, lane), mxcsr, ref flags) : 0;
}

/// <summary>DPPD: DPPS's two-lane form (imm8[5:4] select the products, imm8[1:0] the destination lanes).</summary>
internal struct Dppd : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        var p0 = (imm & 0x10) != 0 ? Mul<F64>(Get<F64>(a, 0), Get<F64>(b, 0), mxcsr, ref flags) : 0;
        var p1 = (imm & 0x20) != 0 ? Mul<F64>(Get<F64>(a, 1), Get<F64>(b, 1), mxcsr, ref flags) : 0;
        var sum = Add<F64>(p0, p1, mxcsr, ref flags);
        c.Mxcsr |= flags;
        return Make((imm & 1) != 0 ? sum : 0, (imm & 2) != 0 ? sum : 0);
    }
}

/// <summary>BLENDPS/BLENDPD/PBLENDW: lane i from the source where imm8 bit i is set.</summary>
internal struct Blend<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<T>(ref a);
        var y = Lanes<T>(ref b);
        for (var i = 0; i < x.Length; i++)
        {
            if ((imm & (1 << i)) != 0)
            {
                x[i] = y[i];
            }
        }

        return a;
    }
}

/// <summary>PBLENDVB/BLENDVPS/BLENDVPD: lane from the source where the implicit XMM0's lane has its top bit set (T signed).</summary>
internal struct BlendV<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var select = Vector128.LessThan(V<T>(c.XmmReg(0)), Vector128<T>.Zero);
        return U(Vector128.ConditionalSelect(select, V<T>(b), V<T>(a)));
    }
}

/// <summary>INSERTPS xmm, xmm: source dword imm8[7:6] into destination dword imm8[5:4], then the dwords of imm8[3:0] zeroed.</summary>
internal struct InsertpsReg : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => InsertpsMem.Insert(a, (uint)(b >> (32 * ((imm >> 6) & 3))), imm);
}

/// <summary>INSERTPS xmm, m32: the loaded dword (imm8[7:6] is ignored).</summary>
internal struct InsertpsMem : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => Insert(a, (uint)b, imm);

    internal static UInt128 Insert(UInt128 a, uint value, int imm)
    {
        var r = Set<F32>(a, (imm >> 4) & 3, value);
        for (var i = 0; i < 4; i++)
        {
            if ((imm & (1 << i)) != 0)
            {
                r = Set<F32>(r, i, 0);
            }
        }

        return r;
    }
}

/// <summary>PINSRB/D/Q: the source's low lane into lane imm8 (mod the lane count) of the destination.</summary>
internal struct Pinsr<L> : IXmmOp
    where L : IWidth
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var shift = L.Bits * (imm & ((128 / L.Bits) - 1));
        return (a & ~((UInt128)L.Mask << shift)) | ((UInt128)((ulong)b & L.Mask) << shift);
    }
}
