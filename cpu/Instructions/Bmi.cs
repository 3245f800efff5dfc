using System.Numerics;
using System.Runtime.Intrinsics.X86;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// A BMI1/BMI2 operation. Its operands: R0 is the ModRM.reg register, Aux the VEX.vvvv register
/// (both byte offsets) and <paramref name="rm"/> the value of the r/m operand.
/// </summary>
internal unsafe interface IBmiOp
{
    static abstract void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth;
}

/// <summary>
/// BMI1 (ANDN, BEXTR, BLSI, BLSMSK, BLSR; TZCNT is in <see cref="BitOps"/>), BMI2 (BZHI, MULX,
/// PDEP, PEXT, RORX, SARX, SHLX, SHRX) and ADX (ADCX, ADOX). The BMI forms are VEX-encoded and
/// registered code by code.
/// </summary>
/// <remarks>
/// Flags the SDM leaves undefined follow the AMD (Zen) host: PF from the low byte of the result
/// and AF clear, except BEXTR, which sets AF and clears SF. MULX, PDEP, PEXT, RORX and the
/// shift-by-register forms change no flags; ADCX changes only CF and ADOX only OF.
/// </remarks>
internal static unsafe class Bmi
{
    public static void Register()
    {
        Add<AndnOp>(Code.VEX_Andn_r32_r32_rm32, Code.VEX_Andn_r64_r64_rm64, rm: 2, vvvv: 1);
        Add<BextrOp>(Code.VEX_Bextr_r32_rm32_r32, Code.VEX_Bextr_r64_rm64_r64, rm: 1, vvvv: 2);
        Add<BlsiOp>(Code.VEX_Blsi_r32_rm32, Code.VEX_Blsi_r64_rm64, rm: 1, vvvv: 0);
        Add<BlsmskOp>(Code.VEX_Blsmsk_r32_rm32, Code.VEX_Blsmsk_r64_rm64, rm: 1, vvvv: 0);
        Add<BlsrOp>(Code.VEX_Blsr_r32_rm32, Code.VEX_Blsr_r64_rm64, rm: 1, vvvv: 0);

        Add<BzhiOp>(Code.VEX_Bzhi_r32_rm32_r32, Code.VEX_Bzhi_r64_rm64_r64, rm: 1, vvvv: 2);
        Add<MulxOp>(Code.VEX_Mulx_r32_r32_rm32, Code.VEX_Mulx_r64_r64_rm64, rm: 2, vvvv: 1);
        Add<PdepOp>(Code.VEX_Pdep_r32_r32_rm32, Code.VEX_Pdep_r64_r64_rm64, rm: 2, vvvv: 1);
        Add<PextOp>(Code.VEX_Pext_r32_r32_rm32, Code.VEX_Pext_r64_r64_rm64, rm: 2, vvvv: 1);
        Add<RorxOp>(Code.VEX_Rorx_r32_rm32_imm8, Code.VEX_Rorx_r64_rm64_imm8, rm: 1, vvvv: -1);
        Add<ShlxOp>(Code.VEX_Shlx_r32_rm32_r32, Code.VEX_Shlx_r64_rm64_r64, rm: 1, vvvv: 2);
        Add<ShrxOp>(Code.VEX_Shrx_r32_rm32_r32, Code.VEX_Shrx_r64_rm64_r64, rm: 1, vvvv: 2);
        Add<SarxOp>(Code.VEX_Sarx_r32_rm32_r32, Code.VEX_Sarx_r64_rm64_r64, rm: 1, vvvv: 2);

        OpTable.AddMnemonic(Mnemonic.Adcx, BuildAdx<CarryIn>);
        OpTable.AddMnemonic(Mnemonic.Adox, BuildAdx<OverflowIn>);
    }

    private static void Add<O>(Code code32, Code code64, int rm, int vvvv)
        where O : struct, IBmiOp
    {
        OpBuilder builder = (in Instruction insn, ref Op op) => Build<O>(insn, ref op, rm, vvvv);
        OpTable.Add(code32, builder);
        OpTable.Add(code64, builder);
    }

    /// <summary>Operand <paramref name="rm"/> is the r/m operand, <paramref name="vvvv"/> the VEX.vvvv register (or -1); the rest is ModRM.reg.</summary>
    private static bool Build<O>(in Instruction insn, ref Op op, int rm, int vvvv)
        where O : struct, IBmiOp
    {
        for (var i = 0; i < insn.OpCount; i++)
        {
            if (i == rm || insn.GetOpKind(i) != OpKind.Register)
            {
                continue;
            }

            if (i == vvvv)
            {
                op.Aux = Operands.Gpr(insn.GetOpRegister(i));
            }
            else
            {
                op.R0 = Operands.Gpr(insn.GetOpRegister(i));
            }
        }

        if (insn.OpCount > 2 && insn.GetOpKind(2) == OpKind.Immediate8)
        {
            op.Imm = insn.Immediate8;
        }

        var size = RmSource.Fill(insn, rm, ref op, out var memory);
        op.Handler = memory
            ? Sized.Pick(size, null, null, &Run<O, W32, RmSource.Mem>, &Run<O, W64, RmSource.Mem>)
            : Sized.Pick(size, null, null, &Run<O, W32, RmSource.Reg>, &Run<O, W64, RmSource.Reg>);
        return op.Handler != null;
    }

    private static int Run<O, W, S>(CpuState c, Op* op)
        where O : struct, IBmiOp
        where W : IWidth
        where S : struct, RmSource.ISource
    {
        O.Exec<W>(c, op, S.Read<W>(c, op));
        return 0;
    }

    private static bool BuildAdx<F>(in Instruction insn, ref Op op)
        where F : struct, IAdxFlag
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        var size = RmSource.Fill(insn, 1, ref op, out var memory);
        op.Handler = memory
            ? Sized.Pick(size, null, null, &Adx<F, W32, RmSource.Mem>, &Adx<F, W64, RmSource.Mem>)
            : Sized.Pick(size, null, null, &Adx<F, W32, RmSource.Reg>, &Adx<F, W64, RmSource.Reg>);
        return op.Handler != null;
    }

    /// <summary>ADCX/ADOX: an add with carry whose carry in and out is one flag (CF or OF); no other flag changes.</summary>
    private static int Adx<F, W, S>(CpuState c, Op* op)
        where F : struct, IAdxFlag
        where W : IWidth
        where S : struct, RmSource.ISource
    {
        var a = W.Get(c, op->R0);
        var b = S.Read<W>(c, op);
        var carryIn = F.Get(c) ? 1UL : 0;
        ulong sum;
        bool carry;
        if (W.Bits == 64)
        {
            var s1 = a + b;
            sum = s1 + carryIn;
            carry = s1 < a || sum < s1;
        }
        else
        {
            var wide = a + b + carryIn;
            sum = (uint)wide;
            carry = (wide >> 32) != 0;
        }

        W.Set(c, op->R0, sum);
        c.UpdateFlags(F.Mask, carry ? F.Mask : 0);
        return 0;
    }

    /// <summary>Records SF/ZF/PF from a result and CF (AF and OF clear).</summary>
    internal static void ResultFlags<W>(CpuState c, ulong res, bool cf)
        where W : IWidth => c.SetFlagsExplicit(W.SizeLog, res & W.Mask, cf ? CpuState.CF : 0);
}

/// <summary>The flag ADCX (CF) or ADOX (OF) carries through.</summary>
internal interface IAdxFlag
{
    static abstract ulong Mask { get; }

    static abstract bool Get(CpuState c);
}

internal readonly struct CarryIn : IAdxFlag
{
    public static ulong Mask => CpuState.CF;

    public static bool Get(CpuState c) => c.CarryFlag;
}

internal readonly struct OverflowIn : IAdxFlag
{
    public static ulong Mask => CpuState.OF;

    public static bool Get(CpuState c) => c.OverflowFlag;
}

/// <summary>ANDN: reg = ~vvvv &amp; r/m; SF/ZF/PF from the result, CF = OF = 0.</summary>
internal unsafe struct AndnOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        var r = ~W.Get(c, op->Aux) & rm & W.Mask;
        W.Set(c, op->R0, r);
        Bmi.ResultFlags<W>(c, r, false);
    }
}

/// <summary>BEXTR: reg = the field of r/m at start vvvv[7:0], length vvvv[15:8]; ZF/PF from the result, AF set (AMD), the rest clear.</summary>
internal unsafe struct BextrOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        var control = W.Get(c, op->Aux);
        var start = (int)(control & 0xFF);
        var length = (int)((control >> 8) & 0xFF);
        var r = start >= W.Bits ? 0 : rm >> start;
        if (length < 64)
        {
            r &= (1UL << length) - 1;
        }

        W.Set(c, op->R0, r);
        BitOps.SetAllFlags(c, (r == 0 ? CpuState.ZF : 0) | BitOps.Parity(r) | CpuState.AF);
    }
}

/// <summary>BLSI: vvvv = lowest set bit of r/m; CF = source non-zero.</summary>
internal unsafe struct BlsiOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        var r = (0 - rm) & rm;
        W.Set(c, op->Aux, r);
        Bmi.ResultFlags<W>(c, r, rm != 0);
    }
}

/// <summary>BLSMSK: vvvv = mask up to and including the lowest set bit; CF = source zero.</summary>
internal unsafe struct BlsmskOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        var r = ((rm - 1) ^ rm) & W.Mask;
        W.Set(c, op->Aux, r);
        Bmi.ResultFlags<W>(c, r, rm == 0);
    }
}

/// <summary>BLSR: vvvv = r/m with its lowest set bit cleared; CF = source zero.</summary>
internal unsafe struct BlsrOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        var r = (rm - 1) & rm;
        W.Set(c, op->Aux, r);
        Bmi.ResultFlags<W>(c, r, rm == 0);
    }
}

/// <summary>BZHI: reg = r/m with bits from index vvvv[7:0] up cleared; CF = index beyond the width.</summary>
internal unsafe struct BzhiOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        var n = (int)(W.Get(c, op->Aux) & 0xFF);
        var r = n < W.Bits ? rm & ((1UL << n) - 1) : rm;
        W.Set(c, op->R0, r);
        Bmi.ResultFlags<W>(c, r, n > W.Bits - 1);
    }
}

/// <summary>MULX: reg:vvvv = EDX/RDX * r/m, unsigned, no flags; the high half is written last (it wins when both name one register).</summary>
internal unsafe struct MulxOp : IBmiOp
{
    private const byte Rdx = 2 * 8;

    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        ulong hi, lo;
        if (W.Bits == 64)
        {
            hi = Math.BigMul(c.Reg64(Rdx), rm, out lo);
        }
        else
        {
            var p = (ulong)(uint)c.Reg64(Rdx) * (uint)rm;
            hi = p >> 32;
            lo = (uint)p;
        }

        W.Set(c, op->Aux, lo);
        W.Set(c, op->R0, hi);
    }
}

/// <summary>PDEP: reg = the low bits of vvvv deposited at the set bits of the r/m mask.</summary>
internal unsafe struct PdepOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth => W.Set(c, op->R0, Deposit(W.Get(c, op->Aux), rm));

    public static ulong Deposit(ulong value, ulong mask)
    {
        if (Bmi2.X64.IsSupported)
        {
            return Bmi2.X64.ParallelBitDeposit(value, mask);
        }

        return Soft(value, mask);
    }

    /// <summary>The portable path.</summary>
    public static ulong Soft(ulong value, ulong mask)
    {
        ulong r = 0;
        for (var bit = 1UL; mask != 0; bit <<= 1)
        {
            var low = mask & (0 - mask);
            if ((value & bit) != 0)
            {
                r |= low;
            }

            mask ^= low;
        }

        return r;
    }
}

/// <summary>PEXT: reg = the bits of vvvv at the set bits of the r/m mask, packed at the bottom.</summary>
internal unsafe struct PextOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth => W.Set(c, op->R0, Extract(W.Get(c, op->Aux), rm));

    public static ulong Extract(ulong value, ulong mask)
    {
        if (Bmi2.X64.IsSupported)
        {
            return Bmi2.X64.ParallelBitExtract(value, mask);
        }

        return Soft(value, mask);
    }

    /// <summary>The portable path.</summary>
    public static ulong Soft(ulong value, ulong mask)
    {
        ulong r = 0;
        for (var bit = 1UL; mask != 0; bit <<= 1)
        {
            var low = mask & (0 - mask);
            if ((value & low) != 0)
            {
                r |= bit;
            }

            mask ^= low;
        }

        return r;
    }
}

/// <summary>RORX: reg = r/m rotated right by imm8 (mod the width); no flags.</summary>
internal unsafe struct RorxOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth
    {
        var n = (int)op->Imm & (W.Bits - 1);
        W.Set(c, op->R0, W.Bits == 64 ? BitOperations.RotateRight(rm, n) : BitOperations.RotateRight((uint)rm, n));
    }
}

/// <summary>SHLX: reg = r/m &lt;&lt; (vvvv mod width); no flags.</summary>
internal unsafe struct ShlxOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth => W.Set(c, op->R0, rm << (int)(W.Get(c, op->Aux) & (ulong)(W.Bits - 1)));
}

/// <summary>SHRX: logical right shift by vvvv mod width; no flags.</summary>
internal unsafe struct ShrxOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth => W.Set(c, op->R0, rm >> (int)(W.Get(c, op->Aux) & (ulong)(W.Bits - 1)));
}

/// <summary>SARX: arithmetic right shift by vvvv mod width; no flags.</summary>
internal unsafe struct SarxOp : IBmiOp
{
    public static void Exec<W>(CpuState c, Op* op, ulong rm)
        where W : IWidth => W.Set(c, op->R0, (ulong)(W.Sext(rm) >> (int)(W.Get(c, op->Aux) & (ulong)(W.Bits - 1))));
}
