using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using static UserModeOS.Cpu.Instructions.Sse;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// An op with an SSE2 intrinsic fast path and a lane-by-lane portable body. Exec uses the
/// intrinsic when the host has it; tests check both give the same bits.
/// </summary>
internal interface ISoftXmmOp : IXmmOp
{
    static abstract UInt128 Soft(UInt128 dst, UInt128 src, int imm);
}

/// <summary>
/// SSE2 integer SIMD and the bitwise/shuffle float ops: logic, compares, add/sub (wrapping and
/// saturating), multiplies, min/max, averages, shifts, packs, unpacks and shuffles.
/// Most bodies use the cross-platform Vector128 API, which lowers to the SSE2 instruction on
/// x64 and has a software path elsewhere; the rest have an explicit SSE2 path and a portable one.
/// </summary>
internal static unsafe class SseInteger
{
    public static void Register()
    {
        Add(Mnemonic.Pxor, Xmm<XorOp128>());
        Add(Mnemonic.Xorps, Xmm<XorOp128>());
        Add(Mnemonic.Xorpd, Xmm<XorOp128>());
        Add(Mnemonic.Por, Xmm<OrOp128>());
        Add(Mnemonic.Orps, Xmm<OrOp128>());
        Add(Mnemonic.Orpd, Xmm<OrOp128>());
        Add(Mnemonic.Pand, Xmm<AndOp128>());
        Add(Mnemonic.Andps, Xmm<AndOp128>());
        Add(Mnemonic.Andpd, Xmm<AndOp128>());
        Add(Mnemonic.Pandn, Xmm<AndNotOp128>());
        Add(Mnemonic.Andnps, Xmm<AndNotOp128>());
        Add(Mnemonic.Andnpd, Xmm<AndNotOp128>());

        Add(Mnemonic.Pcmpeqb, Xmm<Pcmpeq<sbyte>>());
        Add(Mnemonic.Pcmpeqw, Xmm<Pcmpeq<short>>());
        Add(Mnemonic.Pcmpeqd, Xmm<Pcmpeq<int>>());
        Add(Mnemonic.Pcmpgtb, Xmm<Pcmpgt<sbyte>>());
        Add(Mnemonic.Pcmpgtw, Xmm<Pcmpgt<short>>());
        Add(Mnemonic.Pcmpgtd, Xmm<Pcmpgt<int>>());
        Add(Mnemonic.Pminub, Xmm<Pmin<byte>>());
        Add(Mnemonic.Pminsw, Xmm<Pmin<short>>());
        Add(Mnemonic.Pmaxub, Xmm<Pmax<byte>>());
        Add(Mnemonic.Pmaxsw, Xmm<Pmax<short>>());

        Add(Mnemonic.Paddb, Xmm<Padd<byte>>());
        Add(Mnemonic.Paddw, Xmm<Padd<ushort>>());
        Add(Mnemonic.Paddd, Xmm<Padd<uint>>());
        Add(Mnemonic.Paddq, Xmm<Padd<ulong>>());
        Add(Mnemonic.Psubb, Xmm<Psub<byte>>());
        Add(Mnemonic.Psubw, Xmm<Psub<ushort>>());
        Add(Mnemonic.Psubd, Xmm<Psub<uint>>());
        Add(Mnemonic.Psubq, Xmm<Psub<ulong>>());
        Add(Mnemonic.Paddusb, Xmm<Padds<byte>>());
        Add(Mnemonic.Paddusw, Xmm<Padds<ushort>>());
        Add(Mnemonic.Paddsb, Xmm<Padds<sbyte>>());
        Add(Mnemonic.Paddsw, Xmm<Padds<short>>());
        Add(Mnemonic.Psubusb, Xmm<Psubs<byte>>());
        Add(Mnemonic.Psubusw, Xmm<Psubs<ushort>>());
        Add(Mnemonic.Psubsb, Xmm<Psubs<sbyte>>());
        Add(Mnemonic.Psubsw, Xmm<Psubs<short>>());

        Add(Mnemonic.Pmullw, Xmm<Pmullw>());
        Add(Mnemonic.Pmulhw, Xmm<Pmulhw>());
        Add(Mnemonic.Pmulhuw, Xmm<Pmulhuw>());
        Add(Mnemonic.Pmuludq, Xmm<Pmuludq>());
        Add(Mnemonic.Pmaddwd, Xmm<Pmaddwd>());
        Add(Mnemonic.Psadbw, Xmm<Psadbw>());
        Add(Mnemonic.Pavgb, Xmm<Pavgb>());
        Add(Mnemonic.Pavgw, Xmm<Pavgw>());

        Add(Mnemonic.Punpcklbw, Xmm<UnpackLow<byte>>());
        Add(Mnemonic.Punpcklwd, Xmm<UnpackLow<ushort>>());
        Add(Mnemonic.Punpckldq, Xmm<UnpackLow<uint>>());
        Add(Mnemonic.Unpcklps, Xmm<UnpackLow<uint>>());
        Add(Mnemonic.Punpcklqdq, Xmm<UnpackLow<ulong>>());
        Add(Mnemonic.Unpcklpd, Xmm<UnpackLow<ulong>>());
        Add(Mnemonic.Punpckhbw, Xmm<UnpackHigh<byte>>());
        Add(Mnemonic.Punpckhwd, Xmm<UnpackHigh<ushort>>());
        Add(Mnemonic.Punpckhdq, Xmm<UnpackHigh<uint>>());
        Add(Mnemonic.Unpckhps, Xmm<UnpackHigh<uint>>());
        Add(Mnemonic.Punpckhqdq, Xmm<UnpackHigh<ulong>>());
        Add(Mnemonic.Unpckhpd, Xmm<UnpackHigh<ulong>>());
        Add(Mnemonic.Packsswb, Xmm<Packsswb>());
        Add(Mnemonic.Packssdw, Xmm<Packssdw>());
        Add(Mnemonic.Packuswb, Xmm<Packuswb>());

        Add(Mnemonic.Pshufd, Xmm<Pshufd>());
        Add(Mnemonic.Pshuflw, Xmm<Pshuflw>());
        Add(Mnemonic.Pshufhw, Xmm<Pshufhw>());
        Add(Mnemonic.Shufps, Xmm<Shufps>());
        Add(Mnemonic.Shufpd, Xmm<Shufpd>());

        Add(Mnemonic.Pslldq, Xmm<Pslldq>());
        Add(Mnemonic.Psrldq, Xmm<Psrldq>());
        Add(Mnemonic.Psllw, Xmm<Psll<ushort>>());
        Add(Mnemonic.Pslld, Xmm<Psll<uint>>());
        Add(Mnemonic.Psllq, Xmm<Psll<ulong>>());
        Add(Mnemonic.Psrlw, Xmm<Psrl<ushort>>());
        Add(Mnemonic.Psrld, Xmm<Psrl<uint>>());
        Add(Mnemonic.Psrlq, Xmm<Psrl<ulong>>());
        Add(Mnemonic.Psraw, Xmm<Psra<short>>());
        Add(Mnemonic.Psrad, Xmm<Psra<int>>());

        Add(Mnemonic.Pmovmskb, BuildPmovmskb);
        Add(Mnemonic.Pextrw, BuildPextrw);
        Add(Mnemonic.Pinsrw, BuildPinsrw);
    }

    private static bool BuildPmovmskb(in Instruction insn, ref Op op)
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        op.R1 = Operands.Xmm(insn.Op1Register);
        op.Handler = &Pmovmskb;
        return true;
    }

    private static bool BuildPextrw(in Instruction insn, ref Op op)
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        op.R1 = Operands.Xmm(insn.Op1Register);
        op.Imm = insn.Immediate8;
        op.Handler = &Pextrw;
        return true;
    }

    private static bool BuildPinsrw(in Instruction insn, ref Op op)
    {
        op.R0 = Operands.Xmm(insn.Op0Register);
        op.Imm = insn.Immediate8;
        if (insn.Op1Kind == OpKind.Register)
        {
            op.R1 = Operands.Gpr(insn.Op1Register);
            op.Handler = &PinsrwR;
            return true;
        }

        op.Handler = &PinsrwM;
        return Operands.Mem(insn, ref op);
    }

    private static int Pmovmskb(CpuState c, Op* op)
    {
        c.Reg64(op->R0) = V<byte>(c.XmmReg(op->R1)).ExtractMostSignificantBits();
        return 0;
    }

    private static int Pextrw(CpuState c, Op* op)
    {
        c.Reg64(op->R0) = (ushort)(c.XmmReg(op->R1) >> (16 * (int)(op->Imm & 7)));
        return 0;
    }

    private static int PinsrwR(CpuState c, Op* op)
    {
        InsertWord(ref c.XmmReg(op->R0), (ushort)c.Reg64(op->R1), (int)op->Imm);
        return 0;
    }

    private static int PinsrwM(CpuState c, Op* op)
    {
        InsertWord(ref c.XmmReg(op->R0), c.Read16(c.Ea(op)), (int)op->Imm);
        return 0;
    }

    /// <summary>Replaces word <paramref name="index"/> (mod 8) of a register (PINSRW xmm and mm).</summary>
    internal static void InsertWord(ref UInt128 x, ushort w, int index)
    {
        var shift = 16 * (index & 7);
        x = (x & ~((UInt128)0xFFFF << shift)) | ((UInt128)w << shift);
    }
}

internal struct XorOp128 : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => a ^ b;
}

internal struct OrOp128 : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => a | b;
}

internal struct AndOp128 : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => a & b;
}

/// <summary>PANDN/ANDNPS: the destination is the operand that is inverted.</summary>
internal struct AndNotOp128 : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => ~a & b;
}

internal struct Pcmpeq<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.Equals(V<T>(a), V<T>(b)));
}

/// <summary>PCMPGT: signed lanes (T is the signed type).</summary>
internal struct Pcmpgt<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.GreaterThan(V<T>(a), V<T>(b)));
}

internal struct Pmin<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.Min(V<T>(a), V<T>(b)));
}

internal struct Pmax<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.Max(V<T>(a), V<T>(b)));
}

internal struct Padd<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.Add(V<T>(a), V<T>(b)));
}

internal struct Psub<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.Subtract(V<T>(a), V<T>(b)));
}

/// <summary>Saturating add; T's signedness picks PADDS (signed) or PADDUS (unsigned).</summary>
internal struct Padds<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.AddSaturate(V<T>(a), V<T>(b)));
}

internal struct Psubs<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.SubtractSaturate(V<T>(a), V<T>(b)));
}

internal struct Pmullw : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => U(Vector128.Multiply(V<short>(a), V<short>(b)));
}

internal struct Pmulhw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse2.IsSupported ? U(Sse2.MultiplyHigh(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<short>(ref a);
        var y = Lanes<short>(ref b);
        for (var i = 0; i < 8; i++)
        {
            x[i] = (short)((x[i] * y[i]) >> 16);
        }

        return a;
    }
}

internal struct Pmulhuw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse2.IsSupported ? U(Sse2.MultiplyHigh(V<ushort>(a), V<ushort>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<ushort>(ref a);
        var y = Lanes<ushort>(ref b);
        for (var i = 0; i < 8; i++)
        {
            x[i] = (ushort)((uint)(x[i] * y[i]) >> 16);
        }

        return a;
    }
}

/// <summary>PMULUDQ: the even dwords multiplied into full quadwords.</summary>
internal struct Pmuludq : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Make((ulong)(uint)a * (uint)b, (ulong)(uint)(a >> 64) * (uint)(b >> 64));
}

/// <summary>PMADDWD: adjacent signed word products summed into dwords (0x8000 squared twice wraps to 0x80000000).</summary>
internal struct Pmaddwd : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse2.IsSupported ? U(Sse2.MultiplyAddAdjacent(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<short>(ref a);
        var y = Lanes<short>(ref b);
        UInt128 r = 0;
        var d = Lanes<int>(ref r);
        for (var i = 0; i < 4; i++)
        {
            d[i] = unchecked((x[2 * i] * y[2 * i]) + (x[(2 * i) + 1] * y[(2 * i) + 1]));
        }

        return r;
    }
}

/// <summary>PSADBW: per quadword, the sum of absolute byte differences in the low word.</summary>
internal struct Psadbw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse2.IsSupported ? U(Sse2.SumAbsoluteDifferences(V<byte>(a), V<byte>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<byte>(ref a);
        var y = Lanes<byte>(ref b);
        ulong lo = 0, hi = 0;
        for (var i = 0; i < 8; i++)
        {
            lo += (ulong)Math.Abs(x[i] - y[i]);
            hi += (ulong)Math.Abs(x[i + 8] - y[i + 8]);
        }

        return Make(lo, hi);
    }
}

internal struct Pavgb : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse2.IsSupported ? U(Sse2.Average(V<byte>(a), V<byte>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<byte>(ref a);
        var y = Lanes<byte>(ref b);
        for (var i = 0; i < 16; i++)
        {
            x[i] = (byte)((x[i] + y[i] + 1) >> 1);
        }

        return a;
    }
}

internal struct Pavgw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse2.IsSupported ? U(Sse2.Average(V<ushort>(a), V<ushort>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<ushort>(ref a);
        var y = Lanes<ushort>(ref b);
        for (var i = 0; i < 8; i++)
        {
            x[i] = (ushort)((x[i] + y[i] + 1) >> 1);
        }

        return a;
    }
}

/// <summary>PUNPCKL*, UNPCKLPS/PD: interleave the low halves, destination lane first.</summary>
internal struct UnpackLow<T> : ISoftXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        if (Sse2.IsSupported)
        {
            if (typeof(T) == typeof(byte))
            {
                return U(Sse2.UnpackLow(V<byte>(a), V<byte>(b)));
            }

            if (typeof(T) == typeof(ushort))
            {
                return U(Sse2.UnpackLow(V<ushort>(a), V<ushort>(b)));
            }

            if (typeof(T) == typeof(uint))
            {
                return U(Sse2.UnpackLow(V<uint>(a), V<uint>(b)));
            }
        }

        return Soft(a, b, imm);
    }

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var n = 16 / Unsafe.SizeOf<T>();
        var x = Lanes<T>(ref a);
        var y = Lanes<T>(ref b);
        UInt128 r = 0;
        var d = Lanes<T>(ref r);
        for (var i = 0; i < n / 2; i++)
        {
            d[2 * i] = x[i];
            d[(2 * i) + 1] = y[i];
        }

        return r;
    }
}

/// <summary>PUNPCKH*, UNPCKHPS/PD: interleave the high halves.</summary>
internal struct UnpackHigh<T> : ISoftXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        if (Sse2.IsSupported)
        {
            if (typeof(T) == typeof(byte))
            {
                return U(Sse2.UnpackHigh(V<byte>(a), V<byte>(b)));
            }

            if (typeof(T) == typeof(ushort))
            {
                return U(Sse2.UnpackHigh(V<ushort>(a), V<ushort>(b)));
            }

            if (typeof(T) == typeof(uint))
            {
                return U(Sse2.UnpackHigh(V<uint>(a), V<uint>(b)));
            }
        }

        return Soft(a, b, imm);
    }

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var n = 16 / Unsafe.SizeOf<T>();
        var x = Lanes<T>(ref a);
        var y = Lanes<T>(ref b);
        UInt128 r = 0;
        var d = Lanes<T>(ref r);
        for (var i = 0; i < n / 2; i++)
        {
            d[2 * i] = x[(n / 2) + i];
            d[(2 * i) + 1] = y[(n / 2) + i];
        }

        return r;
    }
}

/// <summary>PACKSSWB: signed words to signed bytes, destination's into the low half.</summary>
internal struct Packsswb : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        U(Vector128.NarrowWithSaturation(V<short>(a), V<short>(b)));
}

internal struct Packssdw : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        U(Vector128.NarrowWithSaturation(V<int>(a), V<int>(b)));
}

/// <summary>PACKUSWB: signed words clamped to 0..255.</summary>
internal struct Packuswb : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse2.IsSupported ? U(Sse2.PackUnsignedSaturate(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var lo = Vector128.Clamp(V<short>(a), Vector128<short>.Zero, Vector128.Create((short)255)).AsUInt16();
        var hi = Vector128.Clamp(V<short>(b), Vector128<short>.Zero, Vector128.Create((short)255)).AsUInt16();
        return U(Vector128.Narrow(lo, hi));
    }
}

/// <summary>PSHUFD: each destination dword picks a source dword by two bits of imm8.</summary>
internal struct Pshufd : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var s = Lanes<uint>(ref b);
        UInt128 r = 0;
        var d = Lanes<uint>(ref r);
        for (var i = 0; i < 4; i++)
        {
            d[i] = s[(imm >> (2 * i)) & 3];
        }

        return r;
    }
}

/// <summary>PSHUFLW: shuffles the low four words, copies the high quadword.</summary>
internal struct Pshuflw : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => Make(ShuffleWords(Lo(b), imm), Hi(b));

    internal static ulong ShuffleWords(ulong q, int imm)
    {
        ulong r = 0;
        for (var i = 0; i < 4; i++)
        {
            r |= ((q >> (16 * ((imm >> (2 * i)) & 3))) & 0xFFFF) << (16 * i);
        }

        return r;
    }
}

internal struct Pshufhw : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => Make(Lo(b), Pshuflw.ShuffleWords(Hi(b), imm));
}

/// <summary>SHUFPS: the low two dwords from the destination, the high two from the source.</summary>
internal struct Shufps : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<uint>(ref a);
        var y = Lanes<uint>(ref b);
        UInt128 r = 0;
        var d = Lanes<uint>(ref r);
        d[0] = x[imm & 3];
        d[1] = x[(imm >> 2) & 3];
        d[2] = y[(imm >> 4) & 3];
        d[3] = y[(imm >> 6) & 3];
        return r;
    }
}

internal struct Shufpd : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Make((imm & 1) != 0 ? Hi(a) : Lo(a), (imm & 2) != 0 ? Hi(b) : Lo(b));
}

/// <summary>PSLLDQ: byte shift of the whole register (count above 15 clears it).</summary>
internal struct Pslldq : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => (byte)b > 15 ? 0 : a << (8 * (byte)b);
}

internal struct Psrldq : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => (byte)b > 15 ? 0 : a >> (8 * (byte)b);
}

/// <summary>
/// PSLLW/D/Q by imm8 or by the low quadword of xmm/m128. A count of the lane width or more
/// clears the lanes (Vector128 shifts would mask the count, so it is checked first).
/// </summary>
internal struct Psll<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var count = (ulong)b;
        if (count >= (ulong)(8 * Unsafe.SizeOf<T>()))
        {
            return 0;
        }

        var n = (int)count;
        return typeof(T) == typeof(ushort) ? U(Vector128.ShiftLeft(V<ushort>(a), n))
            : typeof(T) == typeof(uint) ? U(Vector128.ShiftLeft(V<uint>(a), n))
            : U(Vector128.ShiftLeft(V<ulong>(a), n));
    }
}

internal struct Psrl<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var count = (ulong)b;
        if (count >= (ulong)(8 * Unsafe.SizeOf<T>()))
        {
            return 0;
        }

        var n = (int)count;
        return typeof(T) == typeof(ushort) ? U(Vector128.ShiftRightLogical(V<ushort>(a), n))
            : typeof(T) == typeof(uint) ? U(Vector128.ShiftRightLogical(V<uint>(a), n))
            : U(Vector128.ShiftRightLogical(V<ulong>(a), n));
    }
}

/// <summary>PSRAW/D: a count of the width or more fills each lane with its sign.</summary>
internal struct Psra<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var bits = (ulong)(8 * Unsafe.SizeOf<T>());
        var count = (ulong)b;
        var n = (int)Math.Min(count, bits - 1);
        return typeof(T) == typeof(short) ? U(Vector128.ShiftRightArithmetic(V<short>(a), n)) : U(Vector128.ShiftRightArithmetic(V<int>(a), n));
    }
}
