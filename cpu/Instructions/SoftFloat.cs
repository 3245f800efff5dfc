using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// An IEEE binary format as SSE sees it, on raw bits. Values are carried through the host as
/// doubles, which hold every single and double exactly.
/// </summary>
internal interface IFp
{
    static abstract int Bits { get; }
    static abstract int Lanes { get; }
    static abstract int Precision { get; }
    static abstract int EMin { get; }
    static abstract ulong LaneMask { get; }
    static abstract ulong SignBit { get; }
    static abstract ulong ExpMask { get; }
    static abstract ulong QuietBit { get; }
    static abstract ulong DefaultNaN { get; }
    static abstract ulong MaxFinite { get; }
    static abstract double MaxValue { get; }

    static abstract double ToDouble(ulong bits);

    /// <summary>Bits of a double that is exactly representable in this format.</summary>
    static abstract ulong FromDouble(double d);
}

internal readonly struct F32 : IFp
{
    public static int Bits => 32;
    public static int Lanes => 4;
    public static int Precision => 24;
    public static int EMin => -126;
    public static ulong LaneMask => 0xFFFF_FFFF;
    public static ulong SignBit => 0x8000_0000;
    public static ulong ExpMask => 0x7F80_0000;
    public static ulong QuietBit => 0x0040_0000;
    public static ulong DefaultNaN => 0xFFC0_0000;
    public static ulong MaxFinite => 0x7F7F_FFFF;
    public static double MaxValue => float.MaxValue;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble(ulong bits) => BitConverter.UInt32BitsToSingle((uint)bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong FromDouble(double d) => BitConverter.SingleToUInt32Bits((float)d);
}

internal readonly struct F64 : IFp
{
    public static int Bits => 64;
    public static int Lanes => 2;
    public static int Precision => 53;
    public static int EMin => -1022;
    public static ulong LaneMask => ulong.MaxValue;
    public static ulong SignBit => 0x8000_0000_0000_0000;
    public static ulong ExpMask => 0x7FF0_0000_0000_0000;
    public static ulong QuietBit => 0x0008_0000_0000_0000;
    public static ulong DefaultNaN => 0xFFF8_0000_0000_0000;
    public static ulong MaxFinite => 0x7FEF_FFFF_FFFF_FFFF;
    public static double MaxValue => double.MaxValue;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double ToDouble(ulong bits) => BitConverter.UInt64BitsToDouble(bits);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong FromDouble(double d) => BitConverter.DoubleToUInt64Bits(d);
}

/// <summary>
/// SSE floating point in software, bit-exact with the hardware: x86 NaN rules (the first
/// operand's NaN quieted, else the second's; the negative "real indefinite" for invalid
/// operations), the MXCSR rounding modes, DAZ and FTZ, and the exception flags (all treated
/// as masked). Each operation finds the exact result as a double plus the sign of what the
/// double dropped (TwoSum, FMA residuals), then <see cref="Round{F}"/> rounds that to the
/// format with the requested mode.
/// </summary>
internal static class SoftFloat
{
    public const uint IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20;
    public const uint DazBit = 0x40, FtzBit = 0x8000;

    public const int RoundNearest = 0, RoundDown = 1, RoundUp = 2, RoundZero = 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Mode(uint mxcsr) => (int)(mxcsr >> 13) & 3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Get<F>(UInt128 x, int lane)
        where F : IFp => (ulong)(x >> (F.Bits * lane)) & F.LaneMask;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Set<F>(UInt128 x, int lane, ulong v)
        where F : IFp
    {
        var shift = F.Bits * lane;
        return (x & ~((UInt128)F.LaneMask << shift)) | ((UInt128)v << shift);
    }

    public static bool IsNaN<F>(ulong b)
        where F : IFp => (b & ~F.SignBit) > F.ExpMask;

    public static bool IsSNaN<F>(ulong b)
        where F : IFp => (b & ~F.SignBit) > F.ExpMask && (b & F.QuietBit) == 0;

    public static bool IsInf<F>(ulong b)
        where F : IFp => (b & ~F.SignBit) == F.ExpMask;

    public static bool IsZero<F>(ulong b)
        where F : IFp => (b & ~F.SignBit) == 0;

    public static bool IsDenormal<F>(ulong b)
        where F : IFp => (b & F.ExpMask) == 0 && (b & ~F.SignBit) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Quiet<F>(ulong b)
        where F : IFp => b | F.QuietBit;

    /// <summary>DAZ: a denormal source reads as a zero of its sign.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Daz<F>(ulong b, uint mxcsr)
        where F : IFp => (mxcsr & DazBit) != 0 && IsDenormal<F>(b) ? b & F.SignBit : b;

    private static ulong Inf<F>(bool neg)
        where F : IFp => F.ExpMask | (neg ? F.SignBit : 0);

    private static ulong Zero<F>(bool neg)
        where F : IFp => neg ? F.SignBit : 0;

    /// <summary>
    /// Rounds the exact value ±(mag + ε)·2^scale to the format, where mag is a positive finite
    /// double and ε, smaller than half an ulp of mag, has the sign <paramref name="err"/>.
    /// </summary>
    public static ulong Round<F>(bool neg, double mag, int err, int scale, uint mxcsr, ref uint flags)
        where F : IFp
    {
        var ilogMag = Math.ILogB(mag);
        var norm = Math.ScaleB(mag, -ilogMag);
        var ilog = ilogMag + scale;

        // Just below a power of two the exact value has the smaller exponent.
        if (norm == 1.0 && err < 0)
        {
            ilog--;
        }

        var mode = Mode(mxcsr);
        var away = (mode == RoundUp && !neg) || (mode == RoundDown && neg);

        // Tininess is detected after rounding (to the precision, exponent unbounded), as the hardware does.
        var tiny = ilog < F.EMin - 1
            || (ilog == F.EMin - 1 && RoundMagnitude(norm, ilogMag + scale - ilog + (F.Precision - 1), err, mode, away, out _) < Math.ScaleB(1.0, F.Precision));
        if (tiny && (mxcsr & FtzBit) != 0)
        {
            flags |= UE | PE;
            return Zero<F>(neg);
        }

        var qe = Math.Max(ilog, F.EMin) - (F.Precision - 1);
        var n = RoundMagnitude(norm, ilogMag + scale - qe, err, mode, away, out var inexact);
        var r = Math.ScaleB(n, qe);
        if (r > F.MaxValue)
        {
            flags |= OE | PE;
            return mode == RoundNearest || away ? Inf<F>(neg) : F.MaxFinite | (neg ? F.SignBit : 0);
        }

        if (inexact)
        {
            flags |= tiny ? UE | PE : PE;
        }

        return F.FromDouble(neg ? -r : r);
    }

    /// <summary>
    /// Rounds (norm + ε)·2^t, norm in [1, 2), to an integer: nearest-even, away from zero, or
    /// toward zero (directed modes act on the magnitude once the sign is known).
    /// </summary>
    private static double RoundMagnitude(double norm, int t, int err, int mode, bool away, out bool inexact)
    {
        double fl, frac;
        if (t < -2)
        {
            // Far below half a unit: only "non-zero and small" matters.
            fl = 0;
            frac = 0.125;
        }
        else
        {
            var m = Math.ScaleB(norm, t);
            fl = Math.Floor(m);
            frac = m - fl;
        }

        inexact = frac != 0 || err != 0;
        if (mode == RoundNearest)
        {
            return frac > 0.5 || (frac == 0.5 && (err > 0 || (err == 0 && fl % 2 != 0))) ? fl + 1 : fl;
        }

        if (away)
        {
            return frac > 0 || err > 0 ? fl + 1 : fl;
        }

        return frac == 0 && err < 0 ? fl - 1 : fl;
    }

    /// <summary>Rounds a double (exact value, no residual) to the format.</summary>
    public static ulong RoundDouble<F>(double d, uint mxcsr, ref uint flags)
        where F : IFp
    {
        if (d == 0)
        {
            return Zero<F>(double.IsNegative(d));
        }

        return Round<F>(d < 0, Math.Abs(d), 0, 0, mxcsr, ref flags);
    }

    /// <summary>NaN operands of a two-operand arithmetic op: true (with the result) when there is one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool NaNs<F>(ulong a, ulong b, ref uint flags, out ulong result)
        where F : IFp
    {
        var aN = (a & ~F.SignBit) > F.ExpMask;
        var bN = (b & ~F.SignBit) > F.ExpMask;
        if (!aN && !bN)
        {
            result = 0;
            return false;
        }

        if (IsSNaN<F>(a) || IsSNaN<F>(b))
        {
            flags |= IE;
        }

        result = aN ? Quiet<F>(a) : Quiet<F>(b);
        return true;
    }

    private static void Denormals<F>(ulong a, ulong b, ref uint flags)
        where F : IFp
    {
        if (IsDenormal<F>(a) || IsDenormal<F>(b))
        {
            flags |= DE;
        }
    }

    public static ulong Add<F>(ulong a, ulong b, uint mxcsr, ref uint flags)
        where F : IFp
    {
        a = Daz<F>(a, mxcsr);
        b = Daz<F>(b, mxcsr);
        if (NaNs<F>(a, b, ref flags, out var nan))
        {
            return nan;
        }

        var aInf = IsInf<F>(a);
        var bInf = IsInf<F>(b);
        if (aInf && bInf && ((a ^ b) & F.SignBit) != 0)
        {
            flags |= IE;
            return F.DefaultNaN;
        }

        Denormals<F>(a, b, ref flags);
        if (aInf || bInf)
        {
            return aInf ? a : b;
        }

        var x = F.ToDouble(a);
        var y = F.ToDouble(b);
        var s = x + y;
        var scale = 0;
        if (double.IsInfinity(s))
        {
            // Only doubles overflow the host sum; halving such large operands is exact.
            x *= 0.5;
            y *= 0.5;
            s = x + y;
            scale = 1;
        }

        if (s == 0)
        {
            // An exact zero: equal signs keep theirs, opposite signs give +0 (-0 rounding down).
            return ((a ^ b) & F.SignBit) == 0 ? a & F.SignBit : Zero<F>(Mode(mxcsr) == RoundDown);
        }

        // TwoSum: the exact rounding error of s.
        var bb = s - x;
        var e = (x - (s - bb)) + (y - bb);
        var neg = s < 0;
        var err = Math.Sign(e) * (neg ? -1 : 1);
        return Round<F>(neg, Math.Abs(s), err, scale, mxcsr, ref flags);
    }

    public static ulong Sub<F>(ulong a, ulong b, uint mxcsr, ref uint flags)
        where F : IFp
    {
        // The sign flip must not touch a NaN (its payload and sign are propagated as they are).
        b = Daz<F>(b, mxcsr);
        return (b & ~F.SignBit) > F.ExpMask ? Add<F>(a, b, mxcsr, ref flags) : Add<F>(a, b ^ F.SignBit, mxcsr, ref flags);
    }

    public static ulong Mul<F>(ulong a, ulong b, uint mxcsr, ref uint flags)
        where F : IFp
    {
        a = Daz<F>(a, mxcsr);
        b = Daz<F>(b, mxcsr);
        if (NaNs<F>(a, b, ref flags, out var nan))
        {
            return nan;
        }

        var neg = ((a ^ b) & F.SignBit) != 0;
        var aInf = IsInf<F>(a);
        var bInf = IsInf<F>(b);
        var aZero = IsZero<F>(a);
        var bZero = IsZero<F>(b);
        if ((aInf && bZero) || (bInf && aZero))
        {
            flags |= IE;
            return F.DefaultNaN;
        }

        Denormals<F>(a, b, ref flags);
        if (aInf || bInf)
        {
            return Inf<F>(neg);
        }

        if (aZero || bZero)
        {
            return Zero<F>(neg);
        }

        // Multiply the significands in [1, 2): the product and its FMA residual are exact.
        var x = Math.Abs(F.ToDouble(a));
        var y = Math.Abs(F.ToDouble(b));
        var ex = Math.ILogB(x);
        var ey = Math.ILogB(y);
        var mx = Math.ScaleB(x, -ex);
        var my = Math.ScaleB(y, -ey);
        var p = mx * my;
        var e = Math.FusedMultiplyAdd(mx, my, -p);
        return Round<F>(neg, p, Math.Sign(e), ex + ey, mxcsr, ref flags);
    }

    public static ulong Div<F>(ulong a, ulong b, uint mxcsr, ref uint flags)
        where F : IFp
    {
        a = Daz<F>(a, mxcsr);
        b = Daz<F>(b, mxcsr);
        if (NaNs<F>(a, b, ref flags, out var nan))
        {
            return nan;
        }

        var neg = ((a ^ b) & F.SignBit) != 0;
        var aInf = IsInf<F>(a);
        var bInf = IsInf<F>(b);
        var aZero = IsZero<F>(a);
        var bZero = IsZero<F>(b);
        if ((aInf && bInf) || (aZero && bZero))
        {
            flags |= IE;
            return F.DefaultNaN;
        }

        if (bZero && !aInf)
        {
            flags |= ZE;
            return Inf<F>(neg);
        }

        Denormals<F>(a, b, ref flags);
        if (aInf)
        {
            return Inf<F>(neg);
        }

        if (bInf || aZero)
        {
            return Zero<F>(neg);
        }

        var x = Math.Abs(F.ToDouble(a));
        var y = Math.Abs(F.ToDouble(b));
        var ex = Math.ILogB(x);
        var ey = Math.ILogB(y);
        var mx = Math.ScaleB(x, -ex);
        var my = Math.ScaleB(y, -ey);
        var q = mx / my;
        var r = Math.FusedMultiplyAdd(-q, my, mx);
        return Round<F>(neg, q, Math.Sign(r), ex - ey, mxcsr, ref flags);
    }

    public static ulong Sqrt<F>(ulong b, uint mxcsr, ref uint flags)
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

        if (IsZero<F>(b))
        {
            return b;
        }

        if ((b & F.SignBit) != 0)
        {
            flags |= IE;
            return F.DefaultNaN;
        }

        Denormals<F>(b, b, ref flags);
        if (IsInf<F>(b))
        {
            return b;
        }

        var x = F.ToDouble(b);
        var e = Math.ILogB(x);
        if ((e & 1) != 0)
        {
            e--;
        }

        var m = Math.ScaleB(x, -e);
        var q = Math.Sqrt(m);
        var r = Math.FusedMultiplyAdd(-q, q, m);
        return Round<F>(false, q, Math.Sign(r), e / 2, mxcsr, ref flags);
    }

    /// <summary>MIN/MAX: the second operand when either is a NaN (any NaN is invalid) or both are zero.</summary>
    public static ulong MinMax<F>(ulong a, ulong b, bool max, uint mxcsr, ref uint flags)
        where F : IFp
    {
        a = Daz<F>(a, mxcsr);
        b = Daz<F>(b, mxcsr);
        if ((a & ~F.SignBit) > F.ExpMask || (b & ~F.SignBit) > F.ExpMask)
        {
            flags |= IE;
            return b;
        }

        Denormals<F>(a, b, ref flags);
        var x = F.ToDouble(a);
        var y = F.ToDouble(b);
        return (max ? x > y : x < y) ? a : b;
    }

    /// <summary>CMPccSS/SD/PS/PD: all-ones for true. Predicates 1, 2, 5, 6 signal on QNaN too.</summary>
    public static bool Compare<F>(ulong a, ulong b, int predicate, uint mxcsr, ref uint flags)
        where F : IFp
    {
        a = Daz<F>(a, mxcsr);
        b = Daz<F>(b, mxcsr);
        var unordered = (a & ~F.SignBit) > F.ExpMask || (b & ~F.SignBit) > F.ExpMask;
        var p = predicate & 7;
        if (unordered)
        {
            if (IsSNaN<F>(a) || IsSNaN<F>(b) || p is 1 or 2 or 5 or 6)
            {
                flags |= IE;
            }
        }
        else
        {
            Denormals<F>(a, b, ref flags);
        }

        var x = F.ToDouble(a);
        var y = F.ToDouble(b);
        return p switch
        {
            0 => !unordered && x == y,
            1 => !unordered && x < y,
            2 => !unordered && x <= y,
            3 => unordered,
            4 => unordered || x != y,
            5 => unordered || !(x < y),
            6 => unordered || !(x <= y),
            _ => !unordered,
        };
    }

    /// <summary>COMIS/UCOMIS: ZF, PF, CF as RFLAGS bits (unordered sets all three).</summary>
    public static ulong CompareFlags<F>(ulong a, ulong b, bool signalQuiet, uint mxcsr, ref uint flags)
        where F : IFp
    {
        a = Daz<F>(a, mxcsr);
        b = Daz<F>(b, mxcsr);
        if ((a & ~F.SignBit) > F.ExpMask || (b & ~F.SignBit) > F.ExpMask)
        {
            if (signalQuiet || IsSNaN<F>(a) || IsSNaN<F>(b))
            {
                flags |= IE;
            }

            return CpuState.ZF | CpuState.PF | CpuState.CF;
        }

        Denormals<F>(a, b, ref flags);
        var x = F.ToDouble(a);
        var y = F.ToDouble(b);
        return x > y ? 0 : x < y ? CpuState.CF : CpuState.ZF;
    }

    /// <summary>A signed integer to the format, rounded by MXCSR.RC.</summary>
    public static ulong FromInt<F>(long v, uint mxcsr, ref uint flags)
        where F : IFp
    {
        if (v == 0)
        {
            return 0;
        }

        var neg = v < 0;
        var mag = neg ? (ulong)-v : (ulong)v;
        var hi = (double)mag;
        var exact = (UInt128)hi;
        var err = mag > exact ? 1 : mag < exact ? -1 : 0;
        return Round<F>(neg, hi, err, 0, mxcsr, ref flags);
    }

    /// <summary>
    /// To a signed integer of <paramref name="bits"/> bits, truncating or rounding by MXCSR.RC;
    /// NaN and out-of-range give the "integer indefinite" (the minimum value) and IE.
    /// </summary>
    public static long ToInt<F>(ulong b, int bits, bool truncate, uint mxcsr, ref uint flags)
        where F : IFp
    {
        b = Daz<F>(b, mxcsr);
        var indefinite = bits == 32 ? int.MinValue : long.MinValue;
        if ((b & ~F.SignBit) >= F.ExpMask)
        {
            flags |= IE;
            return indefinite;
        }

        var x = F.ToDouble(b);
        var r = truncate ? Math.Truncate(x) : Mode(mxcsr) switch
        {
            RoundNearest => Math.Round(x, MidpointRounding.ToEven),
            RoundDown => Math.Floor(x),
            RoundUp => Math.Ceiling(x),
            _ => Math.Truncate(x),
        };
        var limit = bits == 32 ? 2147483648.0 : 9223372036854775808.0;
        if (r >= limit || r < -limit)
        {
            flags |= IE;
            return indefinite;
        }

        if (r != x)
        {
            flags |= PE;
        }

        return (long)r;
    }

    /// <summary>CVTSS2SD and CVTPS2PD: exact; a NaN keeps its payload's top bits and is quieted.</summary>
    public static ulong SingleToDouble(ulong b, uint mxcsr, ref uint flags)
    {
        b = Daz<F32>(b, mxcsr);
        if ((b & ~F32.SignBit) > F32.ExpMask)
        {
            if (IsSNaN<F32>(b))
            {
                flags |= IE;
            }

            return ((b & F32.SignBit) << 32) | F64.ExpMask | F64.QuietBit | ((b & 0x7F_FFFF) << 29);
        }

        Denormals<F32>(b, b, ref flags);
        return BitConverter.DoubleToUInt64Bits(F32.ToDouble(b));
    }

    /// <summary>CVTSD2SS and CVTPD2PS: rounded by MXCSR.RC; a NaN keeps the top of its payload.</summary>
    public static ulong DoubleToSingle(ulong b, uint mxcsr, ref uint flags)
    {
        b = Daz<F64>(b, mxcsr);
        if ((b & ~F64.SignBit) > F64.ExpMask)
        {
            if (IsSNaN<F64>(b))
            {
                flags |= IE;
            }

            return ((b >> 32) & F32.SignBit) | F32.ExpMask | F32.QuietBit | ((b >> 29) & 0x7F_FFFF);
        }

        if (IsInf<F64>(b))
        {
            return ((b >> 32) & F32.SignBit) | F32.ExpMask;
        }

        Denormals<F64>(b, b, ref flags);
        return RoundDouble<F32>(F64.ToDouble(b), mxcsr, ref flags);
    }
}
