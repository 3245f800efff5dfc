using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu;

/// <summary>
/// An x87 register value as the hardware holds it: a 64-bit significand with an explicit
/// integer bit (bit 63), a 15-bit biased exponent and a sign (bit 15 of <see cref="SignExponent"/>).
/// </summary>
public struct Float80 : IEquatable<Float80>
{
    public ulong Significand;
    public ushort SignExponent;

    public Float80(ushort signExponent, ulong significand)
    {
        SignExponent = signExponent;
        Significand = significand;
    }

    /// <summary>The QNaN "real indefinite": the masked response to an invalid operation.</summary>
    public static Float80 Indefinite => new(0xFFFF, 0xC000_0000_0000_0000);

    public readonly bool Negative => (SignExponent & 0x8000) != 0;

    public readonly int BiasedExponent => SignExponent & 0x7FFF;

    public readonly bool Equals(Float80 other) => Significand == other.Significand && SignExponent == other.SignExponent;

    public override readonly bool Equals(object? obj) => obj is Float80 f && Equals(f);

    public override readonly int GetHashCode() => HashCode.Combine(Significand, SignExponent);

    public override readonly string ToString() => $"{SignExponent:X4}:{Significand:X16}";

    public static bool operator ==(Float80 a, Float80 b) => a.Equals(b);

    public static bool operator !=(Float80 a, Float80 b) => !a.Equals(b);
}

/// <summary>
/// Software x87 arithmetic on <see cref="Float80"/>, bit-exact with the hardware: results are
/// computed exactly (128-bit intermediate significands with a sticky bit) and rounded once with
/// the FCW's rounding control and, for the basic arithmetic, its precision control (24/53/64
/// significand bits over the full extended exponent range). NaN rules are the x87 ones (the
/// NaN with the larger significand, quieted), invalid operations give the real indefinite, and
/// exceptions accumulate as FSW bits in a flags word (plus <see cref="C1"/> for "rounded up").
/// </summary>
internal static class F80
{
    public const uint IE = 0x01, DE = 0x02, ZE = 0x04, OE = 0x08, UE = 0x10, PE = 0x20, SF = 0x40;

    /// <summary>C1 in the flags word: the result was rounded up in magnitude (or, with SF, a stack overflow).</summary>
    public const uint C1 = 0x200;

    public const int RoundNearest = 0, RoundDown = 1, RoundUp = 2, RoundZero = 3;

    public const int Bias = 16383;
    public const int EMin = -16382;
    public const int EMax = 16383;

    /// <summary>The exponent adjustment of an unmasked overflow or underflow with a register destination.</summary>
    private const int BiasAdjust = 24576;

    public enum Kind : byte
    {
        Zero,
        Finite,
        Inf,
        QNaN,
        SNaN,

        /// <summary>Unnormals, pseudo-infinities and pseudo-NaNs: invalid operands since the 387.</summary>
        Unsupported,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Rc(ushort fcw) => (fcw >> 10) & 3;

    /// <summary>The significand precision the FCW's precision control selects (the reserved 01 acts as 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Precision(ushort fcw) => ((fcw >> 8) & 3) switch
    {
        0 => 24,
        2 => 53,
        _ => 64,
    };

    public static Kind Classify(Float80 x, out bool denormal)
    {
        var exp = x.SignExponent & 0x7FFF;
        var m = x.Significand;
        denormal = false;
        if (exp == 0)
        {
            if (m == 0)
            {
                return Kind.Zero;
            }

            denormal = true;
            return Kind.Finite;
        }

        if ((m >> 63) == 0)
        {
            return Kind.Unsupported;
        }

        if (exp == 0x7FFF)
        {
            if ((m << 1) == 0)
            {
                return Kind.Inf;
            }

            return (m & 0x4000_0000_0000_0000) != 0 ? Kind.QNaN : Kind.SNaN;
        }

        return Kind.Finite;
    }

    public static Kind Classify(Float80 x) => Classify(x, out _);

    public static bool IsNaN(Kind k) => k is Kind.QNaN or Kind.SNaN;

    public static Float80 Zero(bool neg) => new((ushort)(neg ? 0x8000 : 0), 0);

    public static Float80 Inf(bool neg) => new((ushort)(neg ? 0xFFFF : 0x7FFF), 0x8000_0000_0000_0000);

    public static Float80 Quiet(Float80 x) => new(x.SignExponent, x.Significand | 0x4000_0000_0000_0000);

    public static Float80 Negate(Float80 x) => new((ushort)(x.SignExponent ^ 0x8000), x.Significand);

    public static Float80 Abs(Float80 x) => new((ushort)(x.SignExponent & 0x7FFF), x.Significand);

    /// <summary>A finite non-zero value as sig·2^(e−63) with bit 63 of sig set (denormals normalized).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Normalize(Float80 x, out int e, out ulong sig)
    {
        var exp = x.SignExponent & 0x7FFF;
        sig = x.Significand;
        if (exp == 0)
        {
            var lz = System.Numerics.BitOperations.LeadingZeroCount(sig);
            sig <<= lz;
            e = EMin - lz;
        }
        else
        {
            e = exp - Bias;
        }
    }

    public static UInt128 ShiftRightJam(UInt128 x, int n)
    {
        if (n <= 0)
        {
            return x;
        }

        if (n >= 128)
        {
            return x != 0 ? UInt128.One : UInt128.Zero;
        }

        return (x >> n) | ((x << (128 - n)) != 0 ? UInt128.One : UInt128.Zero);
    }

    /// <summary>Rounds sig (any width) to an integer after dropping its low <paramref name="k"/> bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static UInt128 RoundBits(UInt128 sig, int k, bool neg, int rc, out bool inexact, out bool up)
    {
        var keep = sig >> k;
        var rem = sig & ((UInt128.One << k) - 1);
        inexact = rem != 0;
        up = rc switch
        {
            RoundNearest => rem > (UInt128.One << (k - 1)) || (rem == (UInt128.One << (k - 1)) && ((ulong)keep & 1) != 0),
            RoundDown => neg && inexact,
            RoundUp => !neg && inexact,
            _ => false,
        };
        return up ? keep + 1 : keep;
    }

    /// <summary>
    /// Rounds ±sig·2^(e−127) to <paramref name="p"/> significand bits with normal exponents in
    /// [emin, emax]. Returns the p-bit significand (bit p−1 clear for a denormal, zero for an
    /// underflow to zero) with <paramref name="e"/> the exponent of bit p−1; <paramref name="inf"/>
    /// when the masked overflow response is an infinity. Tininess is detected after rounding.
    /// With <paramref name="toRegister"/>, unmasked overflow and underflow scale the result by
    /// ∓2^24576 (the x87 response for a register destination).
    /// </summary>
    public static ulong RoundCore(bool neg, ref int e, UInt128 sig, int p, int emin, int emax, ushort fcw, bool toRegister, ref uint flags, out bool inf)
    {
        inf = false;
        var rc = Rc(fcw);
        var lz = (int)UInt128.LeadingZeroCount(sig);
        sig <<= lz;
        e -= lz;
        var k = 128 - p;
        bool inexact, up;
        UInt128 keep;
        if (e < emin)
        {
            var tiny = true;
            if (e == emin - 1)
            {
                tiny = (RoundBits(sig, k, neg, rc, out _, out _) >> p) == 0;
            }

            if (tiny && (fcw & UE) == 0)
            {
                // Unmasked underflow: reported whether or not the result is exact.
                flags |= UE;
                if (!toRegister)
                {
                    // A memory destination is left alone; nothing else is reported.
                    return 0;
                }

                e += BiasAdjust;
                goto normal;
            }

            sig = ShiftRightJam(sig, emin - e);
            e = emin;
            keep = RoundBits(sig, k, neg, rc, out inexact, out up);
            if (inexact)
            {
                flags |= PE | (tiny ? UE : 0) | (up ? C1 : 0);
            }

            return (ulong)keep;
        }

    normal:
        keep = RoundBits(sig, k, neg, rc, out inexact, out up);
        if ((keep >> p) != 0)
        {
            keep >>= 1;
            e++;
        }

        if (e > emax)
        {
            if ((fcw & OE) == 0)
            {
                flags |= OE | (inexact ? PE : 0) | (up ? C1 : 0);
                if (toRegister)
                {
                    e -= BiasAdjust;
                }

                return (ulong)keep;
            }

            flags |= OE | PE;
            var toInf = rc == RoundNearest || (rc == RoundUp && !neg) || (rc == RoundDown && neg);
            if (toInf)
            {
                flags |= C1;
                inf = true;
                return 0;
            }

            e = emax;
            return p == 64 ? ulong.MaxValue : (1UL << p) - 1;
        }

        if (inexact)
        {
            flags |= PE | (up ? C1 : 0);
        }

        return (ulong)keep;
    }

    /// <summary>Rounds ±sig·2^(e−127) to an extended value with precision p (see <see cref="RoundCore"/>).</summary>
    public static Float80 Round(bool neg, int e, UInt128 sig, int p, ushort fcw, ref uint flags)
    {
        if (sig == 0)
        {
            return Zero(neg);
        }

        var keep = RoundCore(neg, ref e, sig, p, EMin, EMax, fcw, true, ref flags, out var inf);
        if (inf)
        {
            return Inf(neg);
        }

        var s = (ushort)(neg ? 0x8000 : 0);
        if (keep == 0)
        {
            return new Float80(s, 0);
        }

        var m = keep << (64 - p);
        var exp = (m >> 63) != 0 ? e + Bias : 0;
        return new Float80((ushort)(s | (exp & 0x7FFF)), m);
    }

    /// <summary>Rounds a finite value to 64 bits (the precision of everything but the basic arithmetic).</summary>
    public static Float80 Round64(bool neg, int e, UInt128 sig, ushort fcw, ref uint flags) => Round(neg, e, sig, 64, fcw, ref flags);

    /// <summary>Rounds an extended value to the FCW's precision (what FADD ST, 0.0 does).</summary>
    private static Float80 RoundTo(Float80 x, int p, ushort fcw, ref uint flags)
    {
        Normalize(x, out var e, out var sig);
        return Round(x.Negative, e, (UInt128)sig << 64, p, fcw, ref flags);
    }

    // ---------------------------------------------------------------- NaNs and invalid operands

    /// <summary>
    /// The result of a two-operand operation with a NaN or unsupported operand: an unsupported
    /// operand is invalid (indefinite); otherwise the NaN with the larger significand, quieted
    /// (an SNaN signals invalid).
    /// </summary>
    public static Float80 NaNResult(Float80 a, Kind ka, Float80 b, Kind kb, ref uint flags)
    {
        if (ka == Kind.Unsupported || kb == Kind.Unsupported)
        {
            flags |= IE;
            return Float80.Indefinite;
        }

        if (ka == Kind.SNaN || kb == Kind.SNaN)
        {
            flags |= IE;
        }

        var aN = IsNaN(ka);
        var bN = IsNaN(kb);
        if (aN && bN)
        {
            var ma = a.Significand | 0x4000_0000_0000_0000;
            var mb = b.Significand | 0x4000_0000_0000_0000;
            if (ka != kb)
            {
                // A QNaN wins over an SNaN.
                return ka == Kind.QNaN ? a : Quiet(b);
            }

            if (ma != mb)
            {
                return ma > mb ? Quiet(a) : Quiet(b);
            }

            return a.SignExponent <= b.SignExponent ? Quiet(a) : Quiet(b);
        }

        return aN ? Quiet(a) : Quiet(b);
    }

    /// <summary>The result of a one-operand operation on a NaN or unsupported operand.</summary>
    public static Float80 NaNResult(Float80 a, Kind ka, ref uint flags)
    {
        if (ka == Kind.Unsupported)
        {
            flags |= IE;
            return Float80.Indefinite;
        }

        if (ka == Kind.SNaN)
        {
            flags |= IE;
        }

        return Quiet(a);
    }

    // ---------------------------------------------------------------- arithmetic

    public static Float80 Add(Float80 a, Float80 b, ushort fcw, ref uint flags) => AddSub(a, b, false, fcw, ref flags);

    public static Float80 Sub(Float80 a, Float80 b, ushort fcw, ref uint flags) => AddSub(a, b, true, fcw, ref flags);

    private static Float80 AddSub(Float80 a, Float80 b, bool subtract, ushort fcw, ref uint flags)
    {
        var ka = Classify(a, out var da);
        var kb = Classify(b, out var db);
        if (ka >= Kind.QNaN || kb >= Kind.QNaN)
        {
            return NaNResult(a, ka, b, kb, ref flags);
        }

        var sa = a.Negative;
        var sb = b.Negative ^ subtract;
        if (ka == Kind.Inf || kb == Kind.Inf)
        {
            if (ka == Kind.Inf && kb == Kind.Inf)
            {
                if (sa != sb)
                {
                    flags |= IE;
                    return Float80.Indefinite;
                }

                return Inf(sa);
            }

            if (da || db)
            {
                flags |= DE;
            }

            return ka == Kind.Inf ? Inf(sa) : Inf(sb);
        }

        if (da || db)
        {
            flags |= DE;
        }

        var p = Precision(fcw);
        if (ka == Kind.Zero && kb == Kind.Zero)
        {
            return Zero(sa == sb ? sa : Rc(fcw) == RoundDown);
        }

        if (ka == Kind.Zero)
        {
            return RoundTo(subtract ? Negate(b) : b, p, fcw, ref flags);
        }

        if (kb == Kind.Zero)
        {
            return RoundTo(a, p, fcw, ref flags);
        }

        Normalize(a, out var ea, out var ma);
        Normalize(b, out var eb, out var mb);
        if (ea < eb || (ea == eb && ma < mb))
        {
            (ea, eb) = (eb, ea);
            (ma, mb) = (mb, ma);
            (sa, sb) = (sb, sa);
        }

        var x = (UInt128)ma << 62;
        var y = ShiftRightJam((UInt128)mb << 62, ea - eb);
        var s = sa == sb ? x + y : x - y;
        if (s == 0)
        {
            return Zero(Rc(fcw) == RoundDown);
        }

        return Round(sa, ea + 2, s, p, fcw, ref flags);
    }

    public static Float80 Mul(Float80 a, Float80 b, ushort fcw, ref uint flags)
    {
        var ka = Classify(a, out var da);
        var kb = Classify(b, out var db);
        if (ka >= Kind.QNaN || kb >= Kind.QNaN)
        {
            return NaNResult(a, ka, b, kb, ref flags);
        }

        var neg = a.Negative ^ b.Negative;
        if ((ka == Kind.Inf && kb == Kind.Zero) || (ka == Kind.Zero && kb == Kind.Inf))
        {
            flags |= IE;
            return Float80.Indefinite;
        }

        if (da || db)
        {
            flags |= DE;
        }

        if (ka == Kind.Inf || kb == Kind.Inf)
        {
            return Inf(neg);
        }

        if (ka == Kind.Zero || kb == Kind.Zero)
        {
            return Zero(neg);
        }

        Normalize(a, out var ea, out var ma);
        Normalize(b, out var eb, out var mb);
        return Round(neg, ea + eb + 1, (UInt128)ma * mb, Precision(fcw), fcw, ref flags);
    }

    public static Float80 Div(Float80 a, Float80 b, ushort fcw, ref uint flags)
    {
        var ka = Classify(a, out var da);
        var kb = Classify(b, out var db);
        if (ka >= Kind.QNaN || kb >= Kind.QNaN)
        {
            return NaNResult(a, ka, b, kb, ref flags);
        }

        var neg = a.Negative ^ b.Negative;
        if ((ka == Kind.Inf && kb == Kind.Inf) || (ka == Kind.Zero && kb == Kind.Zero))
        {
            flags |= IE;
            return Float80.Indefinite;
        }

        if (kb == Kind.Zero && ka == Kind.Finite)
        {
            // Divide-by-zero outranks the denormal-operand exception.
            flags |= ZE;
            return Inf(neg);
        }

        if (da || db)
        {
            flags |= DE;
        }

        if (ka == Kind.Inf)
        {
            return Inf(neg);
        }

        if (kb == Kind.Inf || ka == Kind.Zero)
        {
            return Zero(neg);
        }

        Normalize(a, out var ea, out var ma);
        Normalize(b, out var eb, out var mb);
        var q = DivSig(ma, mb, out var s);
        return Round(neg, ea - eb - s + 127, q, Precision(fcw), fcw, ref flags);
    }

    /// <summary>floor(ma·2^s/mb) with a sticky bit, s = 127 or 128 so the quotient's bit 127 is set.</summary>
    public static UInt128 DivSig(ulong ma, ulong mb, out int s)
    {
        UInt128 num;
        if (ma >= mb)
        {
            s = 127;
            num = (UInt128)ma << 63;
        }
        else
        {
            s = 128;
            num = (UInt128)ma << 64;
        }

        var q1 = num / mb;
        var r1 = num - (q1 * mb);
        var n2 = r1 << 64;
        var q2 = n2 / mb;
        var r2 = n2 - (q2 * mb);
        return (q1 << 64) | q2 | (r2 != 0 ? UInt128.One : UInt128.Zero);
    }

    public static Float80 Sqrt(Float80 a, ushort fcw, ref uint flags) => Sqrt(a, Precision(fcw), fcw, ref flags);

    private static Float80 Sqrt(Float80 a, int p, ushort fcw, ref uint flags)
    {
        var ka = Classify(a, out var da);
        if (ka >= Kind.QNaN)
        {
            return NaNResult(a, ka, ref flags);
        }

        if (ka == Kind.Zero)
        {
            return a;
        }

        if (a.Negative)
        {
            flags |= IE;
            return Float80.Indefinite;
        }

        if (ka == Kind.Inf)
        {
            return a;
        }

        if (da)
        {
            flags |= DE;
        }

        Normalize(a, out var ea, out var ma);
        var t = ea - 63;
        var s = (t & 1) != 0 ? 63 : 64;
        if (((t - s) & 1) != 0)
        {
            s = 127 - s;
        }

        var n = (UInt128)ma << s;
        var r = ISqrt(n, out var rem);
        UInt128 sig = (UInt128)r << 64;
        if (rem > r)
        {
            sig |= ((UInt128)1 << 63) | 1;
        }
        else if (rem != 0)
        {
            sig |= 1;
        }

        return Round(false, 63 + ((t - s) / 2), sig, p, fcw, ref flags);
    }

    /// <summary>floor(sqrt(n)) for n in [2^126, 2^128), with n − r².</summary>
    public static ulong ISqrt(UInt128 n, out UInt128 rem)
    {
        var r = (ulong)Math.Min(Math.Sqrt((double)n), 18446744073709551615.0);
        for (var i = 0; i < 3; i++)
        {
            if (r == 0)
            {
                break;
            }

            var next = ((UInt128)r + (n / r)) >> 1;
            r = next > ulong.MaxValue ? ulong.MaxValue : (ulong)next;
        }

        while ((UInt128)r * r > n)
        {
            r--;
        }

        while (r != ulong.MaxValue && ((UInt128)(r + 1) * (r + 1)) <= n)
        {
            r++;
        }

        rem = n - ((UInt128)r * r);
        return r;
    }

    // ---------------------------------------------------------------- comparisons

    /// <summary>-1, 0, 1, or 2 for unordered. NaNs signal invalid unless <paramref name="quiet"/> (SNaNs always).</summary>
    public static int Compare(Float80 a, Float80 b, bool quiet, ref uint flags)
    {
        var ka = Classify(a, out var da);
        var kb = Classify(b, out var db);
        if (ka == Kind.Unsupported || kb == Kind.Unsupported)
        {
            flags |= IE;
            return 2;
        }

        if (IsNaN(ka) || IsNaN(kb))
        {
            if (!quiet || ka == Kind.SNaN || kb == Kind.SNaN)
            {
                flags |= IE;
            }

            return 2;
        }

        if (da || db)
        {
            flags |= DE;
        }

        if (ka == Kind.Zero && kb == Kind.Zero)
        {
            return 0;
        }

        var sa = a.Negative;
        var sb = b.Negative;
        if (ka == Kind.Zero)
        {
            return sb ? 1 : -1;
        }

        if (kb == Kind.Zero)
        {
            return sa ? -1 : 1;
        }

        if (sa != sb)
        {
            return sa ? -1 : 1;
        }

        int mag;
        if (ka == Kind.Inf || kb == Kind.Inf)
        {
            mag = ka == kb ? 0 : ka == Kind.Inf ? 1 : -1;
        }
        else
        {
            Normalize(a, out var ea, out var ma);
            Normalize(b, out var eb, out var mb);
            mag = ea != eb ? (ea > eb ? 1 : -1) : ma.CompareTo(mb);
        }

        return sa ? -mag : mag;
    }

    // ---------------------------------------------------------------- conversions

    public static Float80 FromInt(long v)
    {
        if (v == 0)
        {
            return default;
        }

        var neg = v < 0;
        var mag = neg ? (ulong)(-v) : (ulong)v;
        var lz = System.Numerics.BitOperations.LeadingZeroCount(mag);
        return new Float80((ushort)((neg ? 0x8000 : 0) | (Bias + 63 - lz)), mag << lz);
    }

    /// <summary>Widens an IEEE single or double (exact; denormals signal DE; SNaNs stay SNaNs).</summary>
    public static Float80 FromIeee(ulong bits, int fracBits, int expBits, ref uint flags)
    {
        var neg = (bits >> (fracBits + expBits)) & 1;
        var expMax = (1 << expBits) - 1;
        var exp = (int)(bits >> fracBits) & expMax;
        var frac = bits & ((1UL << fracBits) - 1);
        var s = (ushort)(neg << 15);
        var bias = expMax >> 1;
        if (exp == expMax)
        {
            if (frac == 0)
            {
                return Inf(neg != 0);
            }

            // SNaNs stay signaling here: the operation that consumes them signals and quiets.
            return new Float80((ushort)(s | 0x7FFF), 0x8000_0000_0000_0000 | (frac << (63 - fracBits)));
        }

        if (exp == 0)
        {
            if (frac == 0)
            {
                return Zero(neg != 0);
            }

            flags |= DE;
            var lz = System.Numerics.BitOperations.LeadingZeroCount(frac);
            var e = 1 - bias - (lz - (63 - fracBits));
            return new Float80((ushort)(s | (e + Bias)), frac << lz);
        }

        return new Float80((ushort)(s | (exp - bias + Bias)), (1UL << 63) | (frac << (63 - fracBits)));
    }

    /// <summary>
    /// Narrows to an IEEE single or double with rounding. Returns false when an unmasked
    /// overflow or underflow forbids the store (the flags are raised).
    /// </summary>
    public static ulong ToIeee(Float80 x, int fracBits, int expBits, ushort fcw, ref uint flags)
    {
        var k = Classify(x);
        var signBit = x.Negative ? 1UL << (fracBits + expBits) : 0;
        var expMax = (1UL << expBits) - 1;
        switch (k)
        {
            case Kind.Zero:
                return signBit;
            case Kind.Inf:
                return signBit | (expMax << fracBits);
            case Kind.Unsupported:
                flags |= IE;
                return (1UL << (fracBits + expBits)) | (expMax << fracBits) | (1UL << (fracBits - 1));
            case Kind.QNaN:
            case Kind.SNaN:
                if (k == Kind.SNaN)
                {
                    flags |= IE;
                }

                return signBit | (expMax << fracBits) | (1UL << (fracBits - 1)) | ((x.Significand << 1) >> (64 - fracBits));
        }

        Normalize(x, out var e, out var sig);
        var bias = (int)(expMax >> 1);
        var p = fracBits + 1;
        var keep = RoundCore(x.Negative, ref e, (UInt128)sig << 64, p, 1 - bias, bias, fcw, false, ref flags, out var inf);
        if (inf)
        {
            return signBit | (expMax << fracBits);
        }

        if ((keep >> fracBits) == 0)
        {
            return signBit | keep;
        }

        return signBit | ((ulong)(e + bias) << fracBits) | (keep & ((1UL << fracBits) - 1));
    }

    /// <summary>
    /// Converts to a signed integer of <paramref name="bits"/> bits, rounding per RC (or toward
    /// zero); NaNs, infinities and out-of-range values are invalid and give the integer indefinite.
    /// </summary>
    public static long ToInt(Float80 x, int bits, bool truncate, ushort fcw, ref uint flags)
    {
        var indefinite = long.MinValue >> (64 - bits);
        var k = Classify(x);
        if (k == Kind.Zero)
        {
            return 0;
        }

        if (k != Kind.Finite)
        {
            flags |= IE;
            return indefinite;
        }

        var neg = x.Negative;
        var rc = truncate ? RoundZero : Rc(fcw);
        Normalize(x, out var e, out var sig);
        if (e >= 64)
        {
            flags |= IE;
            return indefinite;
        }

        UInt128 mag;
        bool inexact, up;
        if (e < -2)
        {
            // Below a quarter: only the direction of rounding matters.
            inexact = true;
            up = rc switch
            {
                RoundDown => neg,
                RoundUp => !neg,
                _ => false,
            };
            mag = up ? UInt128.One : UInt128.Zero;
        }
        else
        {
            mag = RoundBits((UInt128)sig << 62, 125 - e, neg, rc, out inexact, out up);
        }

        var limit = (UInt128)1 << (bits - 1);
        if (neg ? mag > limit : mag >= limit)
        {
            flags |= IE;
            return indefinite;
        }

        if (inexact)
        {
            flags |= PE | (up ? C1 : 0);
        }

        return neg ? -(long)(ulong)mag : (long)(ulong)mag;
    }

    /// <summary>FRNDINT: rounds to an integral value per RC (64-bit precision).</summary>
    public static Float80 RoundToInt(Float80 x, ushort fcw, ref uint flags)
    {
        var k = Classify(x, out var denormal);
        if (k >= Kind.QNaN)
        {
            return NaNResult(x, k, ref flags);
        }

        if (k != Kind.Finite)
        {
            return x;
        }

        if (denormal)
        {
            flags |= DE;
        }

        Normalize(x, out var e, out var sig);
        if (e >= 63)
        {
            return x;
        }

        var neg = x.Negative;
        var rc = Rc(fcw);
        UInt128 mag;
        bool inexact, up;
        if (e < -2)
        {
            inexact = true;
            up = rc switch
            {
                RoundDown => neg,
                RoundUp => !neg,
                _ => false,
            };
            mag = up ? UInt128.One : UInt128.Zero;
        }
        else
        {
            mag = RoundBits((UInt128)sig << 62, 125 - e, neg, rc, out inexact, out up);
        }

        if (inexact)
        {
            flags |= PE | (up ? C1 : 0);
        }

        if (mag == 0)
        {
            return Zero(neg);
        }

        var u = (ulong)mag;
        var lz = System.Numerics.BitOperations.LeadingZeroCount(u);
        return new Float80((ushort)((neg ? 0x8000 : 0) | (Bias + 63 - lz)), u << lz);
    }

    /// <summary>A constant given as a 128-bit significand (bit 127 set) times 2^(e−127), rounded per RC without flags.</summary>
    public static Float80 Constant(UInt128 sig, int e, ushort fcw)
    {
        uint ignored = 0;
        return Round(false, e, sig, 64, (ushort)(fcw | 0x3F), ref ignored);
    }

    // ---------------------------------------------------------------- FPREM, FSCALE, FXTRACT

    /// <summary>
    /// FPREM (truncating) or FPREM1 (IEEE, nearest): the exact partial remainder of a/b. Returns
    /// the C-bits of the status word to set: C2 when the reduction is incomplete, else the low
    /// three quotient bits in C0 (Q2), C3 (Q1) and C1 (Q0).
    /// </summary>
    public static Float80 Remainder(Float80 a, Float80 b, bool ieee, ushort fcw, ref uint flags, out uint cc)
    {
        cc = 0;
        var ka = Classify(a, out var da);
        var kb = Classify(b, out var db);
        if (ka >= Kind.QNaN || kb >= Kind.QNaN)
        {
            return NaNResult(a, ka, b, kb, ref flags);
        }

        if (ka == Kind.Inf || kb == Kind.Zero)
        {
            flags |= IE;
            return Float80.Indefinite;
        }

        if (da || db)
        {
            flags |= DE;
        }

        if (ka == Kind.Zero)
        {
            return a;
        }

        if (kb == Kind.Inf)
        {
            return RoundTo(a, 64, fcw, ref flags);
        }

        Normalize(a, out var ea, out var ma);
        Normalize(b, out var eb, out var mb);
        var neg = a.Negative;
        var d = ea - eb;
        if (d >= 64)
        {
            // Partial: reduce the exponent by n in [32, 63], leaving the quotient bits undefined.
            var n = (d & 31) | 32;
            var num = (UInt128)ma << n;
            var qq = num / mb;
            var rr = num - (qq * mb);
            cc = 0x400;
            if (rr == 0)
            {
                return Zero(neg);
            }

            return Round(neg, ea - n, rr << 64, 64, fcw, ref flags);
        }

        if (d < -1 || (d == -1 && !ieee))
        {
            // The dividend is the remainder, normalized (a pseudo-denormal gets exponent 1).
            return RoundTo(a, 64, fcw, ref flags);
        }

        // a = ma·2^(ea−63), b = mb·2^(eb−63); with A = ma·2^(d+1), B = 2·mb the ratio is the same.
        var bigA = (UInt128)ma << (d + 1);
        var bigB = (UInt128)mb << 1;
        var q = bigA / bigB;
        var r = bigA - (q * bigB);
        if (ieee && ((r << 1) > bigB || ((r << 1) == bigB && ((ulong)q & 1) != 0)))
        {
            q++;
            r = bigB - r;
            neg = !neg;
        }

        var qb = (ulong)q;
        cc = ((qb & 4) != 0 ? 0x100u : 0) | ((qb & 2) != 0 ? 0x4000u : 0) | ((qb & 1) != 0 ? 0x200u : 0);
        if (r == 0)
        {
            return Zero(a.Negative);
        }

        // r·2^(eb−64) = (r<<62)·2^((eb+1)−127)
        return Round(neg, eb + 1, r << 62, 64, fcw, ref flags);
    }

    /// <summary>FSCALE: a·2^trunc(b).</summary>
    public static Float80 Scale(Float80 a, Float80 b, ushort fcw, ref uint flags)
    {
        var ka = Classify(a, out var da);
        var kb = Classify(b, out var db);
        if (ka >= Kind.QNaN || kb >= Kind.QNaN)
        {
            return NaNResult(a, ka, b, kb, ref flags);
        }

        if (kb == Kind.Inf)
        {
            if (b.Negative)
            {
                if (ka == Kind.Inf)
                {
                    flags |= IE;
                    return Float80.Indefinite;
                }

                if (da)
                {
                    flags |= DE;
                }

                return Zero(a.Negative);
            }

            if (ka == Kind.Zero)
            {
                flags |= IE;
                return Float80.Indefinite;
            }

            if (da)
            {
                flags |= DE;
            }

            return Inf(a.Negative);
        }

        if (da || db)
        {
            flags |= DE;
        }

        if (ka != Kind.Finite)
        {
            return a;
        }

        long n;
        if (kb == Kind.Zero)
        {
            n = 0;
        }
        else
        {
            Normalize(b, out var eb, out var mb);
            if (eb < 0)
            {
                n = 0;
            }
            else if (eb >= 30)
            {
                n = 1 << 30;
            }
            else
            {
                n = (long)(mb >> (63 - eb));
            }

            if (b.Negative)
            {
                n = -n;
            }
        }

        Normalize(a, out var ea, out var ma);
        return Round64(a.Negative, (int)(ea + n), (UInt128)ma << 64, fcw, ref flags);
    }

    /// <summary>FXTRACT: the exponent (as a value) and the significand (exponent 0) of a.</summary>
    public static (Float80 Exponent, Float80 Significand) Extract(Float80 a, ref uint flags)
    {
        var ka = Classify(a, out var da);
        if (ka >= Kind.QNaN)
        {
            var n = NaNResult(a, ka, ref flags);
            return (n, n);
        }

        if (ka == Kind.Zero)
        {
            flags |= ZE;
            return (Inf(true), a);
        }

        if (ka == Kind.Inf)
        {
            return (Inf(false), a);
        }

        if (da)
        {
            flags |= DE;
        }

        Normalize(a, out var e, out var m);
        return (FromInt(e), new Float80((ushort)((a.SignExponent & 0x8000) | Bias), m));
    }
}
