using System.Buffers.Binary;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// SSE data movement: whole-register moves, the 32/64-bit and half-register moves, GPR
/// transfers, sign-mask extraction, MXCSR access and FXSAVE/FXRSTOR.
/// </summary>
internal static unsafe class SseMoves
{
    public static void Register()
    {
        // Aligned moves fault (#GP) on a misaligned memory operand; the U forms do not.
        Sse.Add(Mnemonic.Movdqa, Build128(aligned: true));
        Sse.Add(Mnemonic.Movaps, Build128(aligned: true));
        Sse.Add(Mnemonic.Movapd, Build128(aligned: true));
        Sse.Add(Mnemonic.Movntdq, Build128(aligned: true));
        Sse.Add(Mnemonic.Movntps, Build128(aligned: true));
        Sse.Add(Mnemonic.Movntpd, Build128(aligned: true));
        Sse.Add(Mnemonic.Movdqu, Build128(aligned: false));
        Sse.Add(Mnemonic.Movups, Build128(aligned: false));
        Sse.Add(Mnemonic.Movupd, Build128(aligned: false));

        Sse.Add(Mnemonic.Movq, BuildMovq);
        Sse.Add(Mnemonic.Movd, BuildMovd);
        Sse.Add(Mnemonic.Movss, BuildScalar<Merge32>);
        Sse.Add(Mnemonic.Movsd, BuildScalar<Merge64>);
        Sse.Add(Mnemonic.Movlps, BuildHalf<LoadLow>);
        Sse.Add(Mnemonic.Movlpd, BuildHalf<LoadLow>);
        Sse.Add(Mnemonic.Movhps, BuildHalf<LoadHigh>);
        Sse.Add(Mnemonic.Movhpd, BuildHalf<LoadHigh>);
        Sse.Add(Mnemonic.Movhlps, Sse.Xmm<HighToLow>());
        Sse.Add(Mnemonic.Movlhps, Sse.Xmm<LowToHigh>());
        Sse.Add(Mnemonic.Movmskps, BuildMask(&MovmskPs));
        Sse.Add(Mnemonic.Movmskpd, BuildMask(&MovmskPd));

        Sse.Add(Mnemonic.Ldmxcsr, BuildMem(&Ldmxcsr));
        Sse.Add(Mnemonic.Stmxcsr, BuildMem(&Stmxcsr));
        Sse.Add(Mnemonic.Fxsave, BuildMem(&Fxsave));
        Sse.Add(Mnemonic.Fxsave64, BuildMem(&Fxsave));
        Sse.Add(Mnemonic.Fxrstor, BuildMem(&Fxrstor));
        Sse.Add(Mnemonic.Fxrstor64, BuildMem(&Fxrstor));
    }

    private static OpBuilder Build128(bool aligned) => (in Instruction insn, ref Op op) =>
    {
        if (insn.Op0Kind == OpKind.Memory)
        {
            if (!insn.Op1Register.IsXMM() || !Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.R1 = Operands.Xmm(insn.Op1Register);
            op.Handler = aligned ? &Store128A : &Store128;
            return true;
        }

        return Sse.BuildXmm<Copy>(insn, ref op, aligned);
    };

    /// <summary>MOVQ: xmm &lt;- xmm/m64 (zeroing the top), xmm/m64 &lt;- xmm, and the GPR forms with REX.W.</summary>
    private static bool BuildMovq(in Instruction insn, ref Op op)
    {
        if (insn.Op0Kind == OpKind.Register && insn.Op0Register.IsGPR64())
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.R1 = Operands.Xmm(insn.Op1Register);
            op.Handler = &XmmToGpr<W64>;
            return true;
        }

        if (insn.Op1Kind == OpKind.Register && insn.Op1Register.IsGPR64())
        {
            op.R0 = Operands.Xmm(insn.Op0Register);
            op.R1 = Operands.Gpr(insn.Op1Register);
            op.Handler = &GprToXmm<W64>;
            return true;
        }

        if (insn.Op0Kind == OpKind.Memory)
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.R1 = Operands.Xmm(insn.Op1Register);
            op.Handler = &Store64;
            return true;
        }

        // xmm <- xmm or m64 (both encodings): the low quadword, top zeroed.
        return Sse.BuildXmm<Low64>(insn, ref op);
    }

    /// <summary>MOVD: xmm &lt;- r32/m32 (zero-extended to 128 bits) and r32/m32 &lt;- xmm.</summary>
    private static bool BuildMovd(in Instruction insn, ref Op op)
    {
        if (insn.Op0Kind == OpKind.Register && insn.Op0Register.IsXMM())
        {
            op.R0 = Operands.Xmm(insn.Op0Register);
            if (insn.Op1Kind == OpKind.Register)
            {
                op.R1 = Operands.Gpr(insn.Op1Register);
                op.Handler = &GprToXmm<W32>;
                return true;
            }

            return Sse.BuildXmm<Copy>(insn, ref op);
        }

        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.R1 = Operands.Xmm(insn.Op1Register);
            op.Handler = &XmmToGpr<W32>;
            return true;
        }

        if (!Operands.Mem(insn, ref op))
        {
            return false;
        }

        op.R1 = Operands.Xmm(insn.Op1Register);
        op.Handler = &Store32;
        return true;
    }

    /// <summary>MOVSS/MOVSD: register to register merges the low lane; a load zeroes the rest; a store writes the lane.</summary>
    private static bool BuildScalar<M>(in Instruction insn, ref Op op)
        where M : struct, IXmmOp
    {
        var size = insn.MemorySize.GetSize();
        if (insn.Op0Kind == OpKind.Memory)
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.R1 = Operands.Xmm(insn.Op1Register);
            op.Handler = size == 4 ? &Store32 : &Store64;
            return true;
        }

        // The memory forms load through SrcM32/SrcM64, which zero-extend: a plain copy.
        return insn.Op1Kind == OpKind.Memory ? Sse.BuildXmm<Copy>(insn, ref op) : Sse.BuildXmm<M>(insn, ref op);
    }

    /// <summary>MOVLPS/MOVHPS/MOVLPD/MOVHPD: load into one half keeping the other, or store one half.</summary>
    private static bool BuildHalf<L>(in Instruction insn, ref Op op)
        where L : struct, IXmmOp
    {
        if (insn.Op0Kind == OpKind.Memory)
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.R1 = Operands.Xmm(insn.Op1Register);
            op.Handler = typeof(L) == typeof(LoadHigh) ? &StoreHigh64 : &Store64;
            return true;
        }

        return insn.Op1Kind == OpKind.Memory && Sse.BuildXmm<L>(insn, ref op);
    }

    private static OpBuilder BuildMask(delegate*<CpuState, Op*, int> handler) => (in Instruction insn, ref Op op) =>
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        op.R1 = Operands.Xmm(insn.Op1Register);
        op.Handler = handler;
        return true;
    };

    private static OpBuilder BuildMem(delegate*<CpuState, Op*, int> handler) => (in Instruction insn, ref Op op) =>
    {
        op.Handler = handler;
        return Operands.Mem(insn, ref op);
    };

    private static int Store128(CpuState c, Op* op)
    {
        c.Write128(c.Ea(op), c.XmmReg(op->R1));
        return 0;
    }

    private static int Store128A(CpuState c, Op* op)
    {
        var a = c.Ea(op);
        if ((a & 15) != 0)
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        c.Write128(a, c.XmmReg(op->R1));
        return 0;
    }

    private static int Store64(CpuState c, Op* op)
    {
        c.Write64(c.Ea(op), (ulong)c.XmmReg(op->R1));
        return 0;
    }

    private static int StoreHigh64(CpuState c, Op* op)
    {
        c.Write64(c.Ea(op), (ulong)(c.XmmReg(op->R1) >> 64));
        return 0;
    }

    private static int Store32(CpuState c, Op* op)
    {
        c.Write32(c.Ea(op), (uint)c.XmmReg(op->R1));
        return 0;
    }

    private static int GprToXmm<W>(CpuState c, Op* op)
        where W : IWidth
    {
        c.XmmReg(op->R0) = W.Get(c, op->R1);
        return 0;
    }

    private static int XmmToGpr<W>(CpuState c, Op* op)
        where W : IWidth
    {
        W.Set(c, op->R0, (ulong)c.XmmReg(op->R1));
        return 0;
    }

    private static int MovmskPs(CpuState c, Op* op)
    {
        var x = c.XmmReg(op->R1);
        var lo = (ulong)x;
        var hi = (ulong)(x >> 64);
        c.Reg64(op->R0) = ((lo >> 31) & 1) | ((lo >> 62) & 2) | ((hi >> 29) & 4) | ((hi >> 60) & 8);
        return 0;
    }

    private static int MovmskPd(CpuState c, Op* op)
    {
        var x = c.XmmReg(op->R1);
        c.Reg64(op->R0) = ((ulong)x >> 63) | ((ulong)(x >> 127) << 1);
        return 0;
    }

    private static int Ldmxcsr(CpuState c, Op* op)
    {
        var v = c.Read32(c.Ea(op));
        if ((v & ~Sse.MxcsrMask) != 0)
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        c.Mxcsr = v;
        return 0;
    }

    private static int Stmxcsr(CpuState c, Op* op)
    {
        c.Write32(c.Ea(op), c.Mxcsr);
        return 0;
    }

    /// <summary>
    /// FXSAVE: the legacy 512-byte image. We model no x87 state, so that part is the
    /// FNINIT state (FCW 0x37F, all registers empty); bytes 416-511 are not written, as on hardware.
    /// </summary>
    private static int Fxsave(CpuState c, Op* op)
    {
        var a = c.Ea(op);
        if ((a & 15) != 0)
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        // Probe the last byte first so a fault leaves the area untouched.
        c.Write8(a + CpuState.FxStateBytes - 1, 0);
        Span<byte> image = stackalloc byte[CpuState.FxStateBytes];
        c.SaveFxState(image);
        for (var i = 0; i < CpuState.FxStateBytes; i += 8)
        {
            c.Write64(a + (ulong)i, BinaryPrimitives.ReadUInt64LittleEndian(image[i..]));
        }

        return 0;
    }

    /// <summary>FXRSTOR: MXCSR (reserved bits set is #GP) and XMM0-15; the x87 part is ignored.</summary>
    private static int Fxrstor(CpuState c, Op* op)
    {
        var a = c.Ea(op);
        if ((a & 15) != 0)
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        // Read everything before changing anything, so a fault midway leaves the state intact.
        c.Read8(a + 511);
        Span<byte> image = stackalloc byte[CpuState.FxStateBytes];
        for (var i = 0; i < CpuState.FxStateBytes; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image[i..], c.Read64(a + (ulong)i));
        }

        return c.RestoreFxState(image) ? 0 : c.ExitAt(op, ExitReason.GeneralProtection);
    }
}

/// <summary>dst = src (whole register, or the zero-extended 32/64-bit load).</summary>
internal struct Copy : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => src;
}

/// <summary>dst = low quadword of src, top zeroed (MOVQ xmm, xmm).</summary>
internal struct Low64 : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => (ulong)src;
}

/// <summary>MOVSS xmm, xmm: replace the low dword.</summary>
internal struct Merge32 : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => (dst & ~(UInt128)uint.MaxValue) | (uint)src;
}

/// <summary>MOVSD xmm, xmm: replace the low qword.</summary>
internal struct Merge64 : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => Sse.Make((ulong)src, Sse.Hi(dst));
}

/// <summary>MOVLPS/MOVLPD xmm, m64.</summary>
internal struct LoadLow : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => Sse.Make((ulong)src, Sse.Hi(dst));
}

/// <summary>MOVHPS/MOVHPD xmm, m64.</summary>
internal struct LoadHigh : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => Sse.Make(Sse.Lo(dst), (ulong)src);
}

/// <summary>MOVHLPS: low quadword of dst = high quadword of src.</summary>
internal struct HighToLow : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => Sse.Make(Sse.Hi(src), Sse.Hi(dst));
}

/// <summary>MOVLHPS: high quadword of dst = low quadword of src.</summary>
internal struct LowToHigh : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) => Sse.Make(Sse.Lo(dst), Sse.Lo(src));
}
