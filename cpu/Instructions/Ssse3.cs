using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using static UserModeOS.Cpu.Instructions.Sse;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// SSSE3, XMM and MM forms: PSHUFB, the horizontal PHADD/PHSUB (wrapping and saturating),
/// PMADDUBSW, PMULHRSW, PSIGN, PABS and PALIGNR. Each body has an SSSE3 intrinsic path and a
/// portable one (<see cref="ISoftXmmOp"/>) or is portable Vector128 code. The MM forms reuse
/// the 128-bit bodies on zero-extended operands (<see cref="Mmx"/>): lane-wise ones directly,
/// the horizontal ones on destination:source joined (<see cref="Joined{O}"/>); PSHUFB and
/// PALIGNR, whose lanes cross, have their own 64-bit bodies.
/// </summary>
internal static class Ssse3Ops
{
    public static void Register()
    {
        AddBoth<Pshufb>(Mnemonic.Pshufb, Mmx.Op<PshufbMm>());
        AddBoth<Phaddw>(Mnemonic.Phaddw, Mmx.Op<Joined<Phaddw>>());
        AddBoth<Phaddd>(Mnemonic.Phaddd, Mmx.Op<Joined<Phaddd>>());
        AddBoth<Phaddsw>(Mnemonic.Phaddsw, Mmx.Op<Joined<Phaddsw>>());
        AddBoth<Phsubw>(Mnemonic.Phsubw, Mmx.Op<Joined<Phsubw>>());
        AddBoth<Phsubd>(Mnemonic.Phsubd, Mmx.Op<Joined<Phsubd>>());
        AddBoth<Phsubsw>(Mnemonic.Phsubsw, Mmx.Op<Joined<Phsubsw>>());
        AddBoth<Pmaddubsw>(Mnemonic.Pmaddubsw, Mmx.Op<Pmaddubsw>());
        AddBoth<Pmulhrsw>(Mnemonic.Pmulhrsw, Mmx.Op<Pmulhrsw>());
        AddBoth<Psign<sbyte>>(Mnemonic.Psignb, Mmx.Op<Psign<sbyte>>());
        AddBoth<Psign<short>>(Mnemonic.Psignw, Mmx.Op<Psign<short>>());
        AddBoth<Psign<int>>(Mnemonic.Psignd, Mmx.Op<Psign<int>>());
        AddBoth<Pabs<sbyte>>(Mnemonic.Pabsb, Mmx.Op<Pabs<sbyte>>());
        AddBoth<Pabs<short>>(Mnemonic.Pabsw, Mmx.Op<Pabs<short>>());
        AddBoth<Pabs<int>>(Mnemonic.Pabsd, Mmx.Op<Pabs<int>>());
        AddBoth<Palignr>(Mnemonic.Palignr, Mmx.Op<PalignrMm>());
    }

    private static void AddBoth<O>(Mnemonic mnemonic, Decoding.OpBuilder mm)
        where O : struct, IXmmOp
    {
        Sse.Add(mnemonic, CpuidFeature.SSSE3, Xmm<O>());
        Mmx.Add(mnemonic, mm);
    }
}

/// <summary>PSHUFB: each byte picks a destination byte by its low four bits, or is zero when its top bit is set.</summary>
internal struct Pshufb : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.Shuffle(V<byte>(a), V<byte>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<byte>(ref a);
        var s = Lanes<byte>(ref b);
        UInt128 r = 0;
        var d = Lanes<byte>(ref r);
        for (var i = 0; i < 16; i++)
        {
            d[i] = (s[i] & 0x80) != 0 ? (byte)0 : x[s[i] & 15];
        }

        return r;
    }
}

/// <summary>PSHUFB mm: three index bits. With the destination zero-extended, the 128-bit body on indices masked to 0-7 (top bit kept) is it.</summary>
internal struct PshufbMm : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => Pshufb.Exec(c, a, (ulong)b & 0x8787_8787_8787_8787, imm);
}

/// <summary>The pairwise word and dword combinations of PHADD/PHSUB, for the portable paths.</summary>
internal static class Pairwise
{
    public static UInt128 Words(UInt128 a, UInt128 b, bool subtract, bool saturate)
    {
        var x = Lanes<short>(ref a);
        var y = Lanes<short>(ref b);
        UInt128 r = 0;
        var d = Lanes<short>(ref r);
        for (var i = 0; i < 4; i++)
        {
            d[i] = Combine(x[2 * i], x[(2 * i) + 1], subtract, saturate);
            d[i + 4] = Combine(y[2 * i], y[(2 * i) + 1], subtract, saturate);
        }

        return r;
    }

    public static UInt128 Dwords(UInt128 a, UInt128 b, bool subtract)
    {
        var x = Lanes<int>(ref a);
        var y = Lanes<int>(ref b);
        UInt128 r = 0;
        var d = Lanes<int>(ref r);
        for (var i = 0; i < 2; i++)
        {
            d[i] = unchecked(subtract ? x[2 * i] - x[(2 * i) + 1] : x[2 * i] + x[(2 * i) + 1]);
            d[i + 2] = unchecked(subtract ? y[2 * i] - y[(2 * i) + 1] : y[2 * i] + y[(2 * i) + 1]);
        }

        return r;
    }

    private static short Combine(short p, short q, bool subtract, bool saturate)
    {
        var v = subtract ? p - q : p + q;
        return saturate ? (short)Math.Clamp(v, short.MinValue, short.MaxValue) : unchecked((short)v);
    }
}

internal struct Phaddw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.HorizontalAdd(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm) => Pairwise.Words(a, b, subtract: false, saturate: false);
}

internal struct Phaddd : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.HorizontalAdd(V<int>(a), V<int>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm) => Pairwise.Dwords(a, b, subtract: false);
}

internal struct Phaddsw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.HorizontalAddSaturate(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm) => Pairwise.Words(a, b, subtract: false, saturate: true);
}

/// <summary>PHSUBW: the lower lane of each pair minus the upper one.</summary>
internal struct Phsubw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.HorizontalSubtract(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm) => Pairwise.Words(a, b, subtract: true, saturate: false);
}

internal struct Phsubd : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.HorizontalSubtract(V<int>(a), V<int>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm) => Pairwise.Dwords(a, b, subtract: true);
}

internal struct Phsubsw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.HorizontalSubtractSaturate(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm) => Pairwise.Words(a, b, subtract: true, saturate: true);
}

/// <summary>PMADDUBSW: unsigned destination bytes times signed source bytes, adjacent products summed with signed saturation.</summary>
internal struct Pmaddubsw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.MultiplyAddAdjacent(V<byte>(a), V<sbyte>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<byte>(ref a);
        var y = Lanes<sbyte>(ref b);
        UInt128 r = 0;
        var d = Lanes<short>(ref r);
        for (var i = 0; i < 8; i++)
        {
            var v = (x[2 * i] * y[2 * i]) + (x[(2 * i) + 1] * y[(2 * i) + 1]);
            d[i] = (short)Math.Clamp(v, short.MinValue, short.MaxValue);
        }

        return r;
    }
}

/// <summary>PMULHRSW: ((a * b &gt;&gt; 14) + 1) &gt;&gt; 1 on signed words (0x8000 squared wraps to 0x8000).</summary>
internal struct Pmulhrsw : ISoftXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Ssse3.IsSupported ? U(Ssse3.MultiplyHighRoundScale(V<short>(a), V<short>(b))) : Soft(a, b, imm);

    public static UInt128 Soft(UInt128 a, UInt128 b, int imm)
    {
        var x = Lanes<short>(ref a);
        var y = Lanes<short>(ref b);
        for (var i = 0; i < 8; i++)
        {
            x[i] = unchecked((short)((((x[i] * y[i]) >> 14) + 1) >> 1));
        }

        return a;
    }
}

/// <summary>PSIGNB/W/D: the destination lane negated (wrapping) where the source is negative, zeroed where it is zero.</summary>
internal struct Psign<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        if (typeof(T) == typeof(sbyte))
        {
            return Sign(V<sbyte>(a), V<sbyte>(b));
        }

        return typeof(T) == typeof(short) ? Sign(V<short>(a), V<short>(b)) : Sign(V<int>(a), V<int>(b));
    }

    private static UInt128 Sign<L>(Vector128<L> x, Vector128<L> s)
        where L : unmanaged
    {
        var r = Vector128.ConditionalSelect(Vector128.LessThan(s, Vector128<L>.Zero), -x, x);
        return U(Vector128.AndNot(r, Vector128.Equals(s, Vector128<L>.Zero)));
    }
}

/// <summary>PABSB/W/D: the absolute value of each source lane, unsigned (the minimum stays 0x80..).</summary>
internal struct Pabs<T> : IXmmOp
    where T : unmanaged
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        typeof(T) == typeof(sbyte) ? U(Vector128.Abs(V<sbyte>(b)))
        : typeof(T) == typeof(short) ? U(Vector128.Abs(V<short>(b)))
        : U(Vector128.Abs(V<int>(b)));
}

/// <summary>PALIGNR xmm: destination:source (32 bytes) shifted right by imm8 bytes, the low 16 kept.</summary>
internal struct Palignr : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var n = imm & 0xFF;
        if (n >= 32)
        {
            return 0;
        }

        if (n >= 16)
        {
            return a >> (8 * (n - 16));
        }

        return n == 0 ? b : (b >> (8 * n)) | (a << (128 - (8 * n)));
    }
}

/// <summary>PALIGNR mm: destination:source (16 bytes) shifted right by imm8 bytes, the low 8 kept.</summary>
internal struct PalignrMm : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var n = imm & 0xFF;
        return n >= 16 ? 0 : (ulong)(Make((ulong)b, (ulong)a) >> (8 * n));
    }
}
