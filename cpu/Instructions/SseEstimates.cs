using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>One single-precision lane of a reciprocal estimate.</summary>
internal interface IEstimate
{
    static abstract uint Lane(uint x);
}

/// <summary>
/// The SSE reciprocal estimates RCPPS/RCPSS and RSQRTPS/RSQRTSS, and MASKMOVDQU.
/// </summary>
/// <remarks>
/// <para>
/// The estimates are table lookups on hardware, and the tables differ between vendors (and
/// generations): the SDM only bounds the relative error by 1.5·2^-12. We return the exactly
/// rounded (round to nearest even) 1/x and 1/√x instead, which is within that bound, the
/// same on every host and independent of the MXCSR rounding mode, as the estimates are.
/// </para>
/// <para>
/// Special cases follow the SDM: a zero or denormal source (denormals always read as zero
/// here, DAZ or not) gives an infinity of its sign; +∞ gives +0; a NaN is returned quieted;
/// RSQRT of a negative number or -∞ gives the real indefinite QNaN; RCP results below the
/// smallest normal (|x| &gt; 2^126) are flushed to a zero of the source's sign. The estimates
/// raise no MXCSR exception flags.
/// </para>
/// </remarks>
internal static unsafe class SseEstimates
{
    private const uint Sign = 0x8000_0000, Inf = 0x7F80_0000, Quiet = 0x0040_0000, Indefinite = 0xFFC0_0000;
    private const uint MinNormal = 0x0080_0000;

    /// <summary>2^126: the largest magnitude whose reciprocal is still normal.</summary>
    private const uint RcpLimit = 0x7E80_0000;

    public static void Register()
    {
        Sse.Add(Mnemonic.Rcpps, Sse.Xmm<EstimatePacked<Rcp>>());
        Sse.Add(Mnemonic.Rcpss, Sse.Xmm<EstimateScalar<Rcp>>());
        Sse.Add(Mnemonic.Rsqrtps, Sse.Xmm<EstimatePacked<Rsqrt>>());
        Sse.Add(Mnemonic.Rsqrtss, Sse.Xmm<EstimateScalar<Rsqrt>>());
        Sse.Add(Mnemonic.Maskmovdqu, BuildMaskmov);
    }

    /// <summary>The RCP estimate of one lane: exactly rounded 1/x with the special cases above.</summary>
    public static uint Reciprocal(uint x)
    {
        var sign = x & Sign;
        var abs = x & ~Sign;
        if (abs > Inf)
        {
            return x | Quiet;
        }

        if (abs == Inf)
        {
            return sign;
        }

        if (abs < MinNormal)
        {
            return sign | Inf;
        }

        if (abs > RcpLimit)
        {
            return sign;
        }

        var f = (double)BitConverter.UInt32BitsToSingle(abs);
        var d = 1.0 / f;
        var y = (float)d;
        if (y != d)
        {
            // d is within 2^-53 of 1/f, so only the midpoint between y and its neighbour on d's
            // side can separate them. mid·f has at most 49 significant bits: exact.
            var n = d > y ? MathF.BitIncrement(y) : MathF.BitDecrement(y);
            var mid = ((double)y + n) / 2;
            var residual = (mid * f) - 1.0;
            if (d > y ? residual < 0 : residual > 0)
            {
                y = n;
            }
        }

        return sign | BitConverter.SingleToUInt32Bits(y);
    }

    /// <summary>The RSQRT estimate of one lane: exactly rounded 1/√x with the special cases above.</summary>
    public static uint ReciprocalSqrt(uint x)
    {
        var abs = x & ~Sign;
        if (abs > Inf)
        {
            return x | Quiet;
        }

        if (abs < MinNormal)
        {
            return (x & Sign) | Inf;
        }

        if ((x & Sign) != 0)
        {
            return Indefinite;
        }

        if (x == Inf)
        {
            return 0;
        }

        var f = (double)BitConverter.UInt32BitsToSingle(x);
        var d = 1.0 / Math.Sqrt(f);
        var y = (float)d;
        if (y != d)
        {
            // As for the reciprocal: mid² is exact (50 bits) and the fused mid²·f - 1 has the
            // exact sign of the residual (it cannot be zero: mid is not a power of two).
            var n = d > y ? MathF.BitIncrement(y) : MathF.BitDecrement(y);
            var mid = ((double)y + n) / 2;
            var residual = Math.FusedMultiplyAdd(mid * mid, f, -1.0);
            if (d > y ? residual < 0 : residual > 0)
            {
                y = n;
            }
        }

        return BitConverter.SingleToUInt32Bits(y);
    }

    /// <summary>
    /// MASKMOVDQU xmm1, xmm2 (and MASKMOVQ mm1, mm2): the bytes of the first register whose byte
    /// in the second has its top bit set go to DS:[RDI] (or [EDI] with 67h).
    /// </summary>
    internal static bool BuildMaskmov(in Instruction insn, ref Op op)
    {
        if (insn.Op0Kind is not (OpKind.MemorySegRDI or OpKind.MemorySegEDI))
        {
            return false;
        }

        var mm = insn.Op1Register.IsMM();
        op.R0 = mm ? Mmx.Mm(insn.Op1Register) : Operands.Xmm(insn.Op1Register);
        op.R1 = mm ? Mmx.Mm(insn.Op2Register) : Operands.Xmm(insn.Op2Register);
        op.Seg = insn.MemorySegment switch
        {
            Iced.Intel.Register.FS => RegSlot.FsBase,
            Iced.Intel.Register.GS => RegSlot.GsBase,
            _ => RegSlot.Zero,
        };
        var a64 = insn.Op0Kind == OpKind.MemorySegRDI;
        op.Handler = mm ? (a64 ? &Maskmov<Yes, Yes> : &Maskmov<No, Yes>) : (a64 ? &Maskmov<Yes, No> : &Maskmov<No, No>);
        return true;
    }

    /// <summary>
    /// The non-temporal hint has no meaning here; unselected bytes are neither read nor written.
    /// MM says the registers are MMX ones (zero-extended, so their upper bytes select nothing).
    /// </summary>
    private static int Maskmov<A64, MM>(CpuState c, Op* op)
        where A64 : struct, IFlag
        where MM : struct, IFlag
    {
        if (MM.Value)
        {
            if (X87.Pending(c))
            {
                return X87.Fault(c, op);
            }

            c.MmxTouched();
        }

        var data = MM.Value ? c.MmReg(op->R0) : c.XmmReg(op->R0);
        var m = MM.Value ? c.MmReg(op->R1) : c.XmmReg(op->R1);

        // One bit per byte (PMOVMSKB of the mask).
        var select = 0;
        for (var i = 0; i < 16; i++)
        {
            select |= (int)((m >> ((8 * i) + 7)) & 1) << i;
        }

        if (select == 0)
        {
            return 0;
        }

        var rdi = c.Reg64(RegSlot.Of(Reg.Rdi));
        var a = (A64.Value ? rdi : (uint)rdi) + c.Reg64(op->Seg);

        // Probe the first and last selected bytes (16 bytes span at most two pages) so a fault
        // leaves memory untouched.
        var first = System.Numerics.BitOperations.TrailingZeroCount(select);
        var last = 31 - System.Numerics.BitOperations.LeadingZeroCount((uint)select);
        c.TranslateWrite(a + (ulong)first, 1);
        c.TranslateWrite(a + (ulong)last, 1);
        for (var i = first; i <= last; i++)
        {
            if ((select & (1 << i)) != 0)
            {
                c.Write8(a + (ulong)i, (byte)(data >> (8 * i)));
            }
        }

        return 0;
    }
}

internal struct Rcp : IEstimate
{
    public static uint Lane(uint x) => SseEstimates.Reciprocal(x);
}

internal struct Rsqrt : IEstimate
{
    public static uint Lane(uint x) => SseEstimates.ReciprocalSqrt(x);
}

/// <summary>RCPPS/RSQRTPS: all four lanes.</summary>
internal struct EstimatePacked<E> : IXmmOp
    where E : struct, IEstimate
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm)
    {
        UInt128 r = 0;
        for (var i = 0; i < 4; i++)
        {
            r |= (UInt128)E.Lane((uint)(src >> (32 * i))) << (32 * i);
        }

        return r;
    }
}

/// <summary>RCPSS/RSQRTSS: the low lane, the rest of the destination kept.</summary>
internal struct EstimateScalar<E> : IXmmOp
    where E : struct, IEstimate
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) =>
        (dst & ~(UInt128)uint.MaxValue) | E.Lane((uint)src);
}
