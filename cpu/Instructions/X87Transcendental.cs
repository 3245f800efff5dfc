using System.Runtime.CompilerServices;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// A working value for the transcendental instructions: ±M·2^(E−127) with a 128-bit
/// significand (bit 127 set, or M = 0 for zero). Arithmetic truncates, so results carry about
/// 125 good bits, far more than the 64 the x87 rounds to.
/// </summary>
internal readonly struct Q
{
    public readonly UInt128 M;
    public readonly int E;
    public readonly bool Neg;

    public Q(UInt128 m, int e, bool neg = false)
    {
        if (m == 0)
        {
            M = 0;
            E = 0;
            Neg = neg;
            return;
        }

        var lz = (int)UInt128.LeadingZeroCount(m);
        M = m << lz;
        E = e - lz;
        Neg = neg;
    }

    public bool IsZero => M == 0;

    public static Q One => new((UInt128)1 << 127, 0);

    /// <summary>v·2^scale.</summary>
    public static Q FromUInt(UInt128 v, int scale, bool neg = false) => new(v, 127 + scale, neg);

    public static Q FromInt(long v) => FromUInt((ulong)Math.Abs(v), 0, v < 0);

    public static Q From(Float80 x)
    {
        if (F80.Classify(x) == F80.Kind.Zero)
        {
            return new Q(0, 0, x.Negative);
        }

        F80.Normalize(x, out var e, out var m);
        return new Q((UInt128)m << 64, e, x.Negative);
    }

    public Q Negate() => new(M, E, !Neg);

    public Q Abs() => new(M, E, false);

    /// <summary>Moves the value one unit of the last place toward zero (down) or away from it: the side the exact result is on.</summary>
    public Q Nudge(bool up) => IsZero ? this : up ? new Q(M == UInt128.MaxValue ? M : M + 1, E, Neg) : new Q(M - 1, E, Neg);

    public static Q operator *(Q a, Q b)
    {
        if (a.IsZero || b.IsZero)
        {
            return new Q(0, 0, a.Neg ^ b.Neg);
        }

        var al = (ulong)a.M;
        var ah = (ulong)(a.M >> 64);
        var bl = (ulong)b.M;
        var bh = (ulong)(b.M >> 64);
        var p0 = (UInt128)al * bl;
        var p1 = (UInt128)ah * bl;
        var p2 = (UInt128)al * bh;
        var p3 = (UInt128)ah * bh;
        var t = (p0 >> 64) + (ulong)p1 + (ulong)p2;
        var hi = p3 + (p1 >> 64) + (p2 >> 64) + (t >> 64);
        var e = a.E + b.E + 1;
        if ((hi >> 127) == 0)
        {
            hi = (hi << 1) | ((ulong)t >> 63);
            e--;
        }

        return new Q(hi, e, a.Neg ^ b.Neg);
    }

    public static Q operator +(Q a, Q b)
    {
        if (a.IsZero)
        {
            return b;
        }

        if (b.IsZero)
        {
            return a;
        }

        if (a.E < b.E || (a.E == b.E && a.M < b.M))
        {
            (a, b) = (b, a);
        }

        var d = a.E - b.E;
        if (d >= 130)
        {
            return a;
        }

        var am = a.M >> 1;
        var bm = d >= 127 ? UInt128.Zero : (b.M >> 1) >> d;
        return a.Neg == b.Neg ? new Q(am + bm, a.E + 1, a.Neg) : new Q(am - bm, a.E + 1, a.Neg);
    }

    public static Q operator -(Q a, Q b) => a + b.Negate();

    /// <summary>Division by a small positive integer.</summary>
    public static Q operator /(Q a, uint n)
    {
        var q = a.M / n;
        var r = a.M - (q * n);
        var lz = (int)UInt128.LeadingZeroCount(q);
        if (lz > 0)
        {
            q = (q << lz) | ((r << lz) / n);
        }

        return new Q(q, a.E - lz, a.Neg);
    }

    public static Q operator /(Q a, Q b)
    {
        if (a.IsZero)
        {
            return a;
        }

        UInt128 r = a.M, q = 0;
        var carry = false;
        for (var i = 0; i < 128; i++)
        {
            q <<= 1;
            if (carry || r >= b.M)
            {
                r -= b.M;
                q |= 1;
            }

            carry = (r >> 127) != 0;
            r <<= 1;
        }

        return new Q(q, a.E - b.E, a.Neg ^ b.Neg);
    }

    /// <summary>Rounds to an extended value with the FCW's rounding control (64 bits; PE, UE, OE and C1 as the hardware reports them).</summary>
    /// <remarks>The hardware reports every such result as inexact, even when it happens to be exact (log2 of a power of two).</remarks>
    public Float80 Round(ushort fcw, ref uint flags)
    {
        flags |= F80.PE;
        if (IsZero)
        {
            return F80.Zero(Neg);
        }

        // Tiny after rounding, and never exact: underflow.
        var r = F80.Round64(Neg, E, M, fcw, ref flags);
        if ((r.SignExponent & 0x7FFF) == 0)
        {
            flags |= F80.UE;
        }

        return r;
    }
}

/// <summary>
/// The x87 transcendental instructions: F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS,
/// FSINCOS. Each is evaluated to about 125 bits and rounded once, so results are correctly
/// rounded except within ~2^-120 of a rounding boundary. Like the hardware, FSIN, FCOS,
/// FSINCOS and FPTAN reduce their argument modulo π/2 with π rounded down to 66 bits (the
/// reduction itself is exact), which is what makes large arguments match the host.
/// </summary>
internal static unsafe class X87Transcendental
{
    private static readonly Q Ln2 = new(new UInt128(0xB172_17F7_D1CF_79AB, 0xC9E3_B398_03F2_F6AF), -1);
    private static readonly Q Log2E = new(new UInt128(0xB8AA_3B29_5C17_F0BB, 0xBE87_FED0_691D_3E88), 0);
    private static readonly Q Pi = new(new UInt128(0xC90F_DAA2_2168_C234, 0xC4C6_628B_80DC_1CD1), 1);
    private static readonly Q PiOver2 = new(new UInt128(0xC90F_DAA2_2168_C234, 0xC4C6_628B_80DC_1CD1), 0);

    /// <summary>atan(k/8) for k = 0..8.</summary>
    private static readonly Q[] AtanTable =
    [
        new(0, 0),
        new(new UInt128(0xFEAD_D4D5_617B_6E32, 0xC897_989F_3E88_8EF7), -4),
        new(new UInt128(0xFADB_AFC9_6406_EB15, 0x6DC7_9EF5_F7A2_17E5), -3),
        new(new UInt128(0xB7B0_CA0F_26F7_8473, 0x8AA3_2122_DCFE_4483), -2),
        new(new UInt128(0xED63_382B_0DDA_7B45, 0x6FE4_45EC_BC3A_8D03), -2),
        new(new UInt128(0x8F00_5D5E_F7F5_9F9B, 0x5C83_5E16_65C4_3747), -1),
        new(new UInt128(0xA4BC_7D19_34F7_0924, 0x19A8_7F2A_457D_AC9E), -1),
        new(new UInt128(0xB805_3E2B_C231_9E73, 0xCB2D_A552_10A4_443D), -1),
        new(new UInt128(0xC90F_DAA2_2168_C234, 0xC4C6_628B_80DC_1CD1), -1),
    ];

    /// <summary>π/2 as the hardware reduces by it: floor(π·2^64)·2^-65.</summary>
    private static readonly UInt128 ReductionPi = new(0x3, 0x243F_6A88_85A3_08D3);

    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.F2xm1, SystemOps.Simple(&F2xm1));
        OpTable.AddMnemonic(Mnemonic.Fyl2x, SystemOps.Simple(&Fyl2x));
        OpTable.AddMnemonic(Mnemonic.Fyl2xp1, SystemOps.Simple(&Fyl2xp1));
        OpTable.AddMnemonic(Mnemonic.Fpatan, SystemOps.Simple(&Fpatan));
        OpTable.AddMnemonic(Mnemonic.Fptan, SystemOps.Simple(&Fptan));
        OpTable.AddMnemonic(Mnemonic.Fsin, SystemOps.Simple(&Fsin));
        OpTable.AddMnemonic(Mnemonic.Fcos, SystemOps.Simple(&Fcos));
        OpTable.AddMnemonic(Mnemonic.Fsincos, SystemOps.Simple(&Fsincos));
    }

    // ---------------------------------------------------------------- series

    /// <summary>2·atanh(s) = ln((1+s)/(1−s)) for |s| ≤ 0.18.</summary>
    private static Q TwoAtanh(Q s)
    {
        var s2 = s * s;
        var power = s;
        var sum = s;
        for (uint n = 3; n < 200; n += 2)
        {
            power *= s2;
            var term = power / n;
            if (term.IsZero || term.E < sum.E - 130)
            {
                break;
            }

            sum += term;
        }

        return sum + sum;
    }

    /// <summary>log2(x) for a positive finite x; exact (an integer) when x is a power of two.</summary>
    private static Q Log2(Q x)
    {
        var e = x.E;
        var m = new Q(x.M, 0);

        // m in [1, 2); fold to [√½, √2) so the series argument stays small.
        if (x.M > new UInt128(0xB504_F333_F9DE_6484, 0x597D_89B3_754A_BE9F))
        {
            m = new Q(x.M, -1);
            e++;
        }

        var one = Q.One;
        var frac = m.M == ((UInt128)1 << 127) && m.E == 0 ? new Q(0, 0) : TwoAtanh((m - one) / (m + one)) * Log2E;
        return Q.FromInt(e) + frac;
    }

    /// <summary>2^x − 1 = expm1(x·ln 2).</summary>
    private static Q Exp2m1(Q x)
    {
        var t = x * Ln2;
        var term = t;
        var sum = t;
        for (uint n = 2; n < 120; n++)
        {
            term = term * t / n;
            if (term.IsZero || term.E < sum.E - 130)
            {
                break;
            }

            sum += term;
        }

        return sum;
    }

    /// <summary>sin and cos of |r| ≤ π/4 (Taylor), each a hair toward zero of the computed sum so exact-looking sums round like the true values.</summary>
    private static (Q Sin, Q Cos) SinCos(Q r)
    {
        if (r.IsZero)
        {
            return (r, Q.One);
        }

        var r2 = r * r;
        var s = r;
        var c = Q.One;
        var ts = r;
        var tc = Q.One;
        for (uint n = 1; n < 40; n++)
        {
            ts = ts * r2 / ((2 * n) * ((2 * n) + 1));
            tc = tc * r2 / ((2 * n) * ((2 * n) - 1));
            var small = (ts.IsZero || ts.E < s.E - 130) && (tc.IsZero || tc.E < -130);
            if ((n & 1) != 0)
            {
                s -= ts;
                c -= tc;
            }
            else
            {
                s += ts;
                c += tc;
            }

            if (small)
            {
                break;
            }
        }

        return (s.Nudge(false), c.Nudge(false));
    }

    /// <summary>atan(t) for 0 ≤ t ≤ 1.</summary>
    private static Q Atan(Q t)
    {
        // k = round(8t); atan(t) = atan(k/8) + atan((t − k/8)/(1 + t·k/8)).
        var k = t.IsZero ? 0 : (int)Math.Min(8, Math.Round((double)(t.M >> 64) * Math.ScaleB(1.0, t.E - 63 + 3)));
        var c = Q.FromUInt((uint)k, -3);
        var u = k == 0 ? t : (t - c) / (Q.One + (t * c));
        var u2 = u * u;
        var power = u;
        var sum = u;
        for (uint n = 3; n < 200; n += 2)
        {
            power *= u2;
            var term = power / n;
            if (term.IsZero || term.E < sum.E - 130)
            {
                break;
            }

            sum = ((n >> 1) & 1) != 0 ? sum - term : sum + term;
        }

        return k == 0 ? sum.Nudge(false) : AtanTable[k] + sum;
    }

    /// <summary>
    /// Reduces a finite |x| &lt; 2^63 modulo the hardware's π/2: x = k·π/2 + r exactly, |r| ≤ π/4
    /// (of that π). Returns r and k mod 4.
    /// </summary>
    private static (Q R, int Quadrant) Reduce(Float80 x)
    {
        F80.Normalize(x, out var e, out var m);
        if (e < -2)
        {
            return (Q.From(F80.Abs(x)), 0);
        }

        var big = (UInt128)m << (e + 2);
        var k = big / ReductionPi;
        var rem = big - (k * ReductionPi);
        var neg = false;
        if ((rem << 1) > ReductionPi)
        {
            k++;
            rem = ReductionPi - rem;
            neg = true;
        }

        return (Q.FromUInt(rem, -65, neg), (int)((ulong)k & 3));
    }

    // ---------------------------------------------------------------- handlers

    /// <summary>Common prologue: #MF, FIP, and the stack-underflow response for the operands ST(0)..ST(n−1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Begin(CpuState c, Op* op, int operands, out int result, bool pushes = false)
    {
        result = 0;
        if (X87.Pending(c))
        {
            result = X87.Fault(c, op);
            return false;
        }

        c.X87Note(op->Rip);
        if (c.StEmpty(0) || (operands > 1 && c.StEmpty(1)))
        {
            if (c.X87Underflow())
            {
                if (operands > 1)
                {
                    c.X87Set(1, Float80.Indefinite);
                    c.X87Pop();
                }
                else
                {
                    c.X87Set(0, Float80.Indefinite);
                    if (pushes)
                    {
                        c.X87Push(Float80.Indefinite, 0);
                    }
                }
            }

            return false;
        }

        return true;
    }

    private static int F2xm1(CpuState c, Op* op)
    {
        if (!Begin(c, op, 1, out var result))
        {
            return result;
        }

        var x = c.St(0);
        uint f = 0;
        Float80 r;
        var k = F80.Classify(x, out var denormal);
        if (k >= F80.Kind.QNaN)
        {
            r = F80.NaNResult(x, k, ref f);
        }
        else if (k == F80.Kind.Zero)
        {
            r = x;
        }
        else if (k == F80.Kind.Inf)
        {
            r = x.Negative ? new Float80(0xBFFF, 0x8000_0000_0000_0000) : x;
        }
        else
        {
            if (denormal)
            {
                f |= F80.DE;
            }

            // Outside [-1, 1] the hardware leaves the operand as it is (inexact); 2^-1 - 1 is exactly -1/2.
            if ((x.SignExponent & 0x7FFF) >= F80.Bias + 1 || ((x.SignExponent & 0x7FFF) == F80.Bias && x.Significand != 1UL << 63))
            {
                f |= F80.PE;
                r = x;
            }
            else if (x == new Float80(0xBFFF, 0x8000_0000_0000_0000))
            {
                f |= F80.PE;
                r = new Float80(0xBFFE, 0x8000_0000_0000_0000);
            }
            else
            {
                r = Exp2m1(Q.From(x)).Round(c.X87.Control, ref f);
            }
        }

        if (c.X87Commit(f))
        {
            c.X87Set(0, r);
        }

        return 0;
    }

    /// <summary>FYL2X and FYL2XP1: ST(1) = ST(1)·log2(ST(0) [+ 1]), then pop.</summary>
    private static int Log(CpuState c, Op* op, bool plusOne)
    {
        if (!Begin(c, op, 2, out var result))
        {
            return result;
        }

        var x = c.St(0);
        var y = c.St(1);
        uint f = 0;
        var r = plusOne ? Yl2xp1(x, y, c.X87.Control, ref f) : Yl2x(x, y, c.X87.Control, ref f);
        if (c.X87Commit(f))
        {
            c.X87Set(1, r);
            c.X87Pop();
        }

        return 0;
    }

    private static int Fyl2x(CpuState c, Op* op) => Log(c, op, false);

    private static int Fyl2xp1(CpuState c, Op* op) => Log(c, op, true);

    private static Float80 Yl2x(Float80 x, Float80 y, ushort fcw, ref uint f)
    {
        var kx = F80.Classify(x, out var dx);
        var ky = F80.Classify(y, out var dy);
        if (kx >= F80.Kind.QNaN || ky >= F80.Kind.QNaN)
        {
            return F80.NaNResult(x, kx, y, ky, ref f);
        }

        if (x.Negative && kx != F80.Kind.Zero)
        {
            f |= F80.IE;
            return Float80.Indefinite;
        }

        var ys = y.Negative;
        if (kx == F80.Kind.Zero)
        {
            // Invalid and divide-by-zero outrank the denormal operand.
            if (ky == F80.Kind.Zero)
            {
                f |= F80.IE;
                return Float80.Indefinite;
            }

            f |= ky != F80.Kind.Inf ? F80.ZE : 0;
            return F80.Inf(!ys);
        }

        if (dx || dy)
        {
            f |= F80.DE;
        }

        if (kx == F80.Kind.Inf)
        {
            if (ky == F80.Kind.Zero)
            {
                f |= F80.IE;
                return Float80.Indefinite;
            }

            return F80.Inf(ys);
        }

        var lg = Log2(Q.From(x));
        if (ky == F80.Kind.Inf)
        {
            if (lg.IsZero)
            {
                f |= F80.IE;
                return Float80.Indefinite;
            }

            return F80.Inf(ys ^ lg.Neg);
        }

        if (ky == F80.Kind.Zero)
        {
            return F80.Zero(ys ^ lg.Neg);
        }

        if (lg.IsZero)
        {
            return F80.Zero(ys);
        }

        return (Q.From(y) * lg).Round(fcw, ref f);
    }

    private static Float80 Yl2xp1(Float80 x, Float80 y, ushort fcw, ref uint f)
    {
        var kx = F80.Classify(x, out var dx);
        var ky = F80.Classify(y, out var dy);
        if (kx >= F80.Kind.QNaN || ky >= F80.Kind.QNaN)
        {
            return F80.NaNResult(x, kx, y, ky, ref f);
        }

        var ys = y.Negative;
        if (kx == F80.Kind.Zero)
        {
            if (ky == F80.Kind.Inf)
            {
                f |= F80.IE;
                return Float80.Indefinite;
            }

            if (dy)
            {
                f |= F80.DE;
            }

            return F80.Zero(ys ^ x.Negative);
        }

        if (dx || dy)
        {
            f |= F80.DE;
        }

        var qx = Q.From(x);
        var onePlus = qx + Q.One;
        if (kx == F80.Kind.Inf)
        {
            if (!x.Negative && ky != F80.Kind.Zero)
            {
                return F80.Inf(ys);
            }

            f = (f & ~F80.DE) | F80.IE;
            return Float80.Indefinite;
        }

        if (onePlus.Neg || onePlus.IsZero)
        {
            // x ≤ −1 is outside the domain: the hardware answers with x (zeros and infinities of y take the sign of y·x).
            switch (ky)
            {
                case F80.Kind.Zero:
                    return F80.Zero(!ys);
                case F80.Kind.Inf:
                    return F80.Inf(!ys);
                default:
                    f |= F80.PE;
                    return x;
            }
        }

        if (ky == F80.Kind.Inf)
        {
            return F80.Inf(ys ^ x.Negative);
        }

        if (ky == F80.Kind.Zero)
        {
            return F80.Zero(ys ^ x.Negative);
        }

        // Small x: 2·atanh(x/(2+x)) keeps full relative precision; larger x go through log2(1+x).
        var lg = qx.E < -2 ? TwoAtanh(qx / (qx + Q.FromInt(2))) * Log2E : Log2(onePlus);
        return (Q.From(y) * lg).Round(fcw, ref f);
    }

    private static int Fpatan(CpuState c, Op* op)
    {
        if (!Begin(c, op, 2, out var result))
        {
            return result;
        }

        var x = c.St(0);
        var y = c.St(1);
        uint f = 0;
        var r = Atan2(y, x, c.X87.Control, ref f);
        if (c.X87Commit(f))
        {
            c.X87Set(1, r);
            c.X87Pop();
        }

        return 0;
    }

    private static Float80 Atan2(Float80 y, Float80 x, ushort fcw, ref uint f)
    {
        var kx = F80.Classify(x, out var dx);
        var ky = F80.Classify(y, out var dy);
        if (kx >= F80.Kind.QNaN || ky >= F80.Kind.QNaN)
        {
            return F80.NaNResult(x, kx, y, ky, ref f);
        }

        if (dx || dy)
        {
            f |= F80.DE;
        }

        var ys = y.Negative;
        Q theta;
        if (ky == F80.Kind.Zero)
        {
            if (!x.Negative)
            {
                return F80.Zero(ys);
            }

            theta = Pi;
        }
        else if (ky == F80.Kind.Inf)
        {
            theta = kx != F80.Kind.Inf ? PiOver2 : x.Negative ? Pi - (PiOver2 / 2) : PiOver2 / 2;
        }
        else if (kx == F80.Kind.Inf)
        {
            if (!x.Negative)
            {
                return F80.Zero(ys);
            }

            theta = Pi;
        }
        else if (kx == F80.Kind.Zero)
        {
            theta = PiOver2;
        }
        else
        {
            var ax = Q.From(F80.Abs(x));
            var ay = Q.From(F80.Abs(y));
            theta = ay.E < ax.E || (ay.E == ax.E && ay.M <= ax.M) ? Atan(ay / ax) : PiOver2 - Atan(ax / ay);
            if (x.Negative)
            {
                theta = Pi - theta;
            }
        }

        return (ys ? theta.Negate() : theta).Round(fcw, ref f);
    }

    /// <summary>The common part of FSIN, FCOS, FSINCOS and FPTAN: false (C2 set, nothing changed) when |ST(0)| ≥ 2^63.</summary>
    private static bool TrigArgument(CpuState c, Float80 x, out F80.Kind k, out bool denormal)
    {
        k = F80.Classify(x, out denormal);
        if (k == F80.Kind.Finite && (x.SignExponent & 0x7FFF) >= F80.Bias + 63)
        {
            c.X87.Status |= 0x400;
            return false;
        }

        c.X87.Status &= 0xFBFF;
        return true;
    }

    private static int Fsin(CpuState c, Op* op) => SinOrCos(c, op, false);

    private static int Fcos(CpuState c, Op* op) => SinOrCos(c, op, true);

    private static int SinOrCos(CpuState c, Op* op, bool cosine)
    {
        if (!Begin(c, op, 1, out var result))
        {
            return result;
        }

        var x = c.St(0);
        if (!TrigArgument(c, x, out var k, out var denormal))
        {
            return 0;
        }

        uint f = 0;
        Float80 r;
        if (k >= F80.Kind.QNaN)
        {
            r = F80.NaNResult(x, k, ref f);
        }
        else if (k == F80.Kind.Inf)
        {
            f |= F80.IE;
            r = Float80.Indefinite;
        }
        else if (k == F80.Kind.Zero)
        {
            r = cosine ? new Float80(0x3FFF, 0x8000_0000_0000_0000) : x;
        }
        else
        {
            if (denormal)
            {
                f |= F80.DE;
            }

            var (s, co) = Trig(x);
            r = (cosine ? co : s).Round(c.X87.Control, ref f);
        }

        if (c.X87Commit(f))
        {
            c.X87Set(0, r);
        }

        return 0;
    }

    /// <summary>sin and cos of a finite non-zero x (|x| &lt; 2^63), through the hardware's reduction.</summary>
    private static (Q Sin, Q Cos) Trig(Float80 x)
    {
        var (r, quadrant) = Reduce(x);
        var (s, co) = SinCos(r.Abs());
        if (r.Neg)
        {
            s = s.Negate();
        }

        (s, co) = quadrant switch
        {
            0 => (s, co),
            1 => (co, s.Negate()),
            2 => (s.Negate(), co.Negate()),
            _ => (co.Negate(), s),
        };
        return (x.Negative ? s.Negate() : s, co);
    }

    private static int Fsincos(CpuState c, Op* op) => TwoResults(c, op, false);

    private static int Fptan(CpuState c, Op* op) => TwoResults(c, op, true);

    /// <summary>FSINCOS (ST(0) = sin, push cos) and FPTAN (ST(0) = tan, push 1).</summary>
    private static int TwoResults(CpuState c, Op* op, bool tangent)
    {
        if (!Begin(c, op, 1, out var result, true))
        {
            return result;
        }

        var x = c.St(0);
        if (!TrigArgument(c, x, out var k, out var denormal))
        {
            return 0;
        }

        if (!c.StEmpty(7))
        {
            if (c.X87Commit(F80.IE | F80.SF | F80.C1))
            {
                c.X87Set(0, Float80.Indefinite);
                c.X87Push(Float80.Indefinite, F80.C1);
            }

            return 0;
        }

        uint f = 0;
        Float80 first, second;
        if (k >= F80.Kind.QNaN)
        {
            first = second = F80.NaNResult(x, k, ref f);
        }
        else if (k == F80.Kind.Inf)
        {
            f |= F80.IE;
            first = second = Float80.Indefinite;
        }
        else if (k == F80.Kind.Zero)
        {
            first = x;
            second = new Float80(0x3FFF, 0x8000_0000_0000_0000);
        }
        else
        {
            if (denormal)
            {
                f |= F80.DE;
            }

            if (tangent)
            {
                var (r, quadrant) = Reduce(x);
                var (rs, rc) = SinCos(r.Abs());
                var t = (quadrant & 1) == 0 ? (rs / rc).Nudge(true) : (rc / rs).Nudge(false).Negate();
                if (r.Neg)
                {
                    t = t.Negate();
                }

                first = (x.Negative ? t.Negate() : t).Round(c.X87.Control, ref f);
                second = new Float80(0x3FFF, 0x8000_0000_0000_0000);
            }
            else
            {
                var (s, co) = Trig(x);
                first = s.Round(c.X87.Control, ref f);
                second = co.Round(c.X87.Control, ref f);
            }
        }

        if (c.X87Commit(f))
        {
            c.X87Set(0, first);
            c.X87Push(second, f);

            // C1 tells how the first result was rounded; the push does not clear it.
            c.X87.Status = (ushort)((c.X87.Status & 0xFDFFu) | (f & F80.C1));
        }

        return 0;
    }
}
