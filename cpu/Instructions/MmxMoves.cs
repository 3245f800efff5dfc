using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using static UserModeOS.Cpu.Instructions.Mmx;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// MMX data movement and state: MOVD/MOVQ/MOVNTQ, the MM-XMM moves, MASKMOVQ, EMMS, and the
/// SSE/SSE2 conversions between packed dwords in an MM register and XMM floats.
/// </summary>
internal static unsafe class MmxMoves
{
    public static void Register()
    {
        // MM destination: a zero-extended load from r32/r64/m32/m64/mm; else the low bytes of the MM source.
        Add(Mnemonic.Movd, FromMm<Copy>());
        Add(Mnemonic.Movq, FromMm<Copy>());
        Add(Mnemonic.Movntq, FromMm<Copy>());
        Add(Mnemonic.Movdq2q, Op<Copy>());
        Add(Mnemonic.Movq2dq, Sse.Xmm<Copy>());
        Add(Mnemonic.Maskmovq, SseEstimates.BuildMaskmov);
        OpTable.Add(Code.Emms, static (in Instruction insn, ref Op op) =>
        {
            op.Handler = &Emms;
            return true;
        });

        // Only the MM-source forms make the x87-to-MMX transition (through SrcMm), as on hardware.
        Add(Mnemonic.Cvtpi2ps, Sse.Xmm<CvtPi2Ps>());
        Add(Mnemonic.Cvtpi2pd, Sse.Xmm<CvtDq2Pd>());
        Add(Mnemonic.Cvtps2pi, Op<LowQword<CvtPs2Dq<No>>>());
        Add(Mnemonic.Cvttps2pi, Op<LowQword<CvtPs2Dq<Yes>>>());
        Add(Mnemonic.Cvtpd2pi, Op<CvtPd2Dq<No>>());
        Add(Mnemonic.Cvttpd2pi, Op<CvtPd2Dq<Yes>>());
    }

    private static int Emms(CpuState c, Op* op)
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        c.Emms();
        return 0;
    }
}

/// <summary>CVTPI2PS: two dwords to the low two singles (MXCSR rounding); the high quadword is kept.</summary>
internal struct CvtPi2Ps : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        Sse.Make(Sse.Lo(CvtDq2Ps.Exec(c, a, (ulong)b, imm)), Sse.Hi(a));
}
