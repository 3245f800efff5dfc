using System.Runtime.CompilerServices;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// An MMX register (number in R1), zero-extended to 128 bits so the SSE lane bodies apply.
/// Reading it is the x87-to-MMX transition (TOP = 0, all tags valid), even for an XMM destination.
/// </summary>
internal readonly unsafe struct SrcMm : IXmmSrc
{
    public static bool Mmx => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Load(CpuState c, Op* op, out UInt128 value)
    {
        value = c.MmReg(op->R1);
        c.MmxTouched();
        return true;
    }
}

/// <summary>An MMX destination: the result's low quadword, the exponent set to all ones, and the x87-to-MMX transition.</summary>
internal readonly struct DstMm : IVecDst
{
    public static bool Mmx => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Get(CpuState c, byte reg) => c.MmReg(reg);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(CpuState c, byte reg, UInt128 value)
    {
        c.SetMm(reg, (ulong)value);
        c.MmxTouched();
    }
}

/// <summary>A general register destination (byte offset in R0) of width W: PMOVMSKB, PEXTRW, MOVD/MOVQ r, mm.</summary>
internal readonly struct DstGpr<W> : IVecDst
    where W : IWidth
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UInt128 Get(CpuState c, byte reg) => W.Get(c, reg);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Set(CpuState c, byte reg, UInt128 value) => W.Set(c, reg, (ulong)value);
}

/// <summary>
/// The MMX (64-bit MM register) forms. Like the x87 instructions, each first delivers an
/// unmasked x87 exception left pending (#MF, see <see cref="X87.Fault"/>). An MMX instruction computes with the SSE lane bodies
/// (<see cref="IXmmOp"/>) on zero-extended operands and keeps the low quadword: for lane-wise
/// operations, PUNPCKL*, PSADBW, PMULUDQ, the shifts (the count is the whole 64-bit source) and
/// PSHUFW (PSHUFLW's low half) that is exactly the 64-bit instruction. The few whose halves
/// interact are adapted (<see cref="HighHalves{O}"/>, <see cref="Joined{O}"/>).
/// </summary>
internal static unsafe class Mmx
{
    /// <summary>Registers the legacy forms of a mnemonic that have an MM register operand (the complement of <see cref="Sse.Add"/>).</summary>
    public static void Add(Mnemonic mnemonic, OpBuilder builder)
    {
        foreach (var code in OpTable.LegacyCodes(mnemonic))
        {
            if (HasMmOperand(code))
            {
                OpTable.Add(code, builder);
            }
        }
    }

    private static bool HasMmOperand(Code code)
    {
        var oc = code.ToOpCode();
        for (var i = 0; i < oc.OpCount; i++)
        {
            if (oc.GetOpKind(i) is OpCodeOperandKind.mm_reg or OpCodeOperandKind.mm_rm or OpCodeOperandKind.mm_or_mem)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>An MM register's number.</summary>
    public static byte Mm(Register r) => (byte)(r - Register.MM0);

    /// <summary>MM destination (R0); the source as for SSE (<see cref="Sse.BuildSource{O, D}"/>), a 16-byte one aligned.</summary>
    public static bool BuildMm<O>(in Instruction insn, ref Op op)
        where O : struct, IXmmOp
    {
        if (insn.Op0Kind != OpKind.Register || !insn.Op0Register.IsMM())
        {
            return false;
        }

        op.R0 = Mm(insn.Op0Register);
        return Sse.BuildSource<O, DstMm>(insn, ref op, aligned: true);
    }

    /// <summary>A builder for <see cref="BuildMm{O}"/>.</summary>
    public static OpBuilder Op<O>()
        where O : struct, IXmmOp => static (in Instruction insn, ref Op op) => BuildMm<O>(insn, ref op);

    /// <summary>
    /// An MM source into a general register (O's result; 32-bit writes zero-extend) or, for the
    /// moves, into memory (the register's low 4 or 8 bytes; O is ignored). An MM destination
    /// (MOVQ mm/m64, mm with mod=11) is a plain MMX op.
    /// </summary>
    public static OpBuilder FromMm<O>()
        where O : struct, IXmmOp => static (in Instruction insn, ref Op op) =>
    {
        if (insn.Op0Kind == OpKind.Register)
        {
            var r = insn.Op0Register;
            if (r.IsMM())
            {
                return BuildMm<O>(insn, ref op);
            }

            op.R0 = Operands.Gpr(r);
            return r.IsGPR64() ? Sse.BuildSource<O, DstGpr<W64>>(insn, ref op, true) : Sse.BuildSource<O, DstGpr<W32>>(insn, ref op, true);
        }

        op.R1 = Mm(insn.Op1Register);
        op.Handler = insn.MemorySize.GetSize() == 4 ? &ToMem<W32> : &ToMem<W64>;
        return insn.Op0Kind == OpKind.Memory && insn.Op1Register.IsMM() && Operands.Mem(insn, ref op);
    };

    /// <summary>MOVD/MOVQ/MOVNTQ to memory.</summary>
    private static int ToMem<W>(CpuState c, Op* op)
        where W : IWidth
    {
        if (X87.Pending(c))
        {
            return X87.Fault(c, op);
        }

        W.Store(c, c.Ea(op), c.MmReg(op->R1));
        c.MmxTouched();
        return 0;
    }
}

/// <summary>The 64-bit form of a PUNPCKH*: the low-half interleave of the two high dwords.</summary>
internal struct HighHalves<O> : IXmmOp
    where O : struct, IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => O.Exec(c, (ulong)a >> 32, (ulong)b >> 32, imm);
}

/// <summary>The 64-bit form of a PACK*: the 128-bit pack of destination:source (one register's worth of lanes).</summary>
internal struct Joined<O> : IXmmOp
    where O : struct, IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => O.Exec(c, Sse.Make((ulong)a, (ulong)b), 0, imm);
}

/// <summary>O on the low quadword of the source only, so lanes the 64-bit result drops raise no MXCSR flags (CVT(T)PS2PI).</summary>
internal struct LowQword<O> : IXmmOp
    where O : struct, IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => O.Exec(c, a, (ulong)b, imm);
}
