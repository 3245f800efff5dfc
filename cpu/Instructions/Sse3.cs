using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using static UserModeOS.Cpu.Instructions.SoftFloat;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// SSE3 (the XMM part): ADDSUBPS/PD, the horizontal HADD/HSUB PS/PD, MOVSLDUP/MOVSHDUP/MOVDDUP
/// and LDDQU. The arithmetic goes through <see cref="SoftFloat"/> like SSE2's, so results and
/// MXCSR flags are bit-exact. FISTTP (also SSE3 in Iced's reckoning, with the FPU) is the x87
/// group's; MONITOR/MWAIT are their own CPUID feature (MONITOR), not SSE3, and stay #UD, as
/// Linux leaves them for user mode.
/// </summary>
internal static class Sse3Ops
{
    public static void Register()
    {
        Sse.Add(Mnemonic.Addsubps, CpuidFeature.SSE3, Sse.Xmm<AddSub<F32>>());
        Sse.Add(Mnemonic.Addsubpd, CpuidFeature.SSE3, Sse.Xmm<AddSub<F64>>());
        Sse.Add(Mnemonic.Haddps, CpuidFeature.SSE3, Sse.Xmm<Horizontal<AddF, F32>>());
        Sse.Add(Mnemonic.Haddpd, CpuidFeature.SSE3, Sse.Xmm<Horizontal<AddF, F64>>());
        Sse.Add(Mnemonic.Hsubps, CpuidFeature.SSE3, Sse.Xmm<Horizontal<SubF, F32>>());
        Sse.Add(Mnemonic.Hsubpd, CpuidFeature.SSE3, Sse.Xmm<Horizontal<SubF, F64>>());
        Sse.Add(Mnemonic.Movsldup, CpuidFeature.SSE3, Sse.Xmm<Movsldup>());
        Sse.Add(Mnemonic.Movshdup, CpuidFeature.SSE3, Sse.Xmm<Movshdup>());

        // MOVDDUP reads an m64 (no alignment); LDDQU is the unaligned 16-byte load.
        Sse.Add(Mnemonic.Movddup, CpuidFeature.SSE3, Sse.Xmm<Movddup>());
        Sse.Add(Mnemonic.Lddqu, CpuidFeature.SSE3, static (in Instruction insn, ref Op op) => Sse.BuildXmm<Copy>(insn, ref op, aligned: false));
    }
}

/// <summary>ADDSUBPS/PD: even lanes subtract, odd lanes add.</summary>
internal struct AddSub<F> : IXmmOp
    where F : IFp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        var r = a;
        for (var i = 0; i < F.Lanes; i++)
        {
            var x = Get<F>(a, i);
            var y = Get<F>(b, i);
            r = Set<F>(r, i, (i & 1) == 0 ? Sub<F>(x, y, mxcsr, ref flags) : Add<F>(x, y, mxcsr, ref flags));
        }

        c.Mxcsr |= flags;
        return r;
    }
}

/// <summary>
/// HADD/HSUB PS/PD: adjacent lanes of the destination combined into the low half of the
/// result, those of the source into the high half; the lower lane is the first operand.
/// </summary>
internal struct Horizontal<O, F> : IXmmOp
    where O : struct, IFpLaneOp
    where F : IFp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        uint flags = 0;
        var mxcsr = c.Mxcsr;
        UInt128 r = 0;
        var half = F.Lanes / 2;
        for (var i = 0; i < half; i++)
        {
            r = Set<F>(r, i, O.Op<F>(Get<F>(a, 2 * i), Get<F>(a, (2 * i) + 1), 0, mxcsr, ref flags));
            r = Set<F>(r, half + i, O.Op<F>(Get<F>(b, 2 * i), Get<F>(b, (2 * i) + 1), 0, mxcsr, ref flags));
        }

        c.Mxcsr |= flags;
        return r;
    }
}

/// <summary>MOVSLDUP: the even dwords of the source, each duplicated.</summary>
internal struct Movsldup : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var lo = (ulong)(uint)b;
        var hi = (ulong)(uint)(b >> 64);
        return Sse.Make(lo | (lo << 32), hi | (hi << 32));
    }
}

/// <summary>MOVSHDUP: the odd dwords of the source, each duplicated.</summary>
internal struct Movshdup : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        var lo = (ulong)b >> 32;
        var hi = (ulong)(b >> 96);
        return Sse.Make(lo | (lo << 32), hi | (hi << 32));
    }
}

/// <summary>MOVDDUP: the low quadword of the source in both halves.</summary>
internal struct Movddup : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => Sse.Make((ulong)b, (ulong)b);
}
