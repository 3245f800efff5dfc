using System.Numerics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>A shift or rotate by a masked, non-zero count; sets the flags and returns the result.</summary>
internal interface IShiftOp
{
    static abstract ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth;
}

/// <summary>SHLD/SHRD by a masked, non-zero count: <paramref name="s"/> supplies the bits shifted in.</summary>
internal interface IDoubleShiftOp
{
    static abstract ulong Exec<W>(CpuState c, ulong v, ulong s, int n)
        where W : IWidth;
}

/// <summary>Where the shift count comes from: the instruction (1 or imm8) or CL.</summary>
internal unsafe interface IShiftCount
{
    static abstract int Raw(CpuState c, Op* op);
}

/// <summary>
/// SHL/SAL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD and SHRD in all sizes and operand forms.
/// </summary>
/// <remarks>
/// The count is masked to 5 bits (6 for 64-bit operands); a masked count of 0 changes no
/// flags, but the destination is still written: a 32-bit register is zero-extended and a
/// memory operand needs write access (both observed on hardware). Flags the SDM leaves
/// undefined (OF for counts above 1, AF, and everything for 16-bit SHLD/SHRD beyond 16)
/// follow what the AMD Zen host does, as checked by the differential tests.
/// </remarks>
internal static unsafe class Shifts
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Shl, Build<ShlOp>);
        OpTable.AddMnemonic(Mnemonic.Sal, Build<ShlOp>);
        OpTable.AddMnemonic(Mnemonic.Shr, Build<ShrOp>);
        OpTable.AddMnemonic(Mnemonic.Sar, Build<SarOp>);
        OpTable.AddMnemonic(Mnemonic.Rol, Build<RolOp>);
        OpTable.AddMnemonic(Mnemonic.Ror, Build<RorOp>);
        OpTable.AddMnemonic(Mnemonic.Rcl, Build<RclOp>);
        OpTable.AddMnemonic(Mnemonic.Rcr, Build<RcrOp>);
        OpTable.AddMnemonic(Mnemonic.Shld, BuildDouble<ShldOp>);
        OpTable.AddMnemonic(Mnemonic.Shrd, BuildDouble<ShrdOp>);
    }

    private static bool Build<S>(in Instruction insn, ref Op op)
        where S : struct, IShiftOp
    {
        var byCl = insn.Op1Kind == OpKind.Register;
        if (byCl)
        {
            if (insn.Op1Register != Iced.Intel.Register.CL)
            {
                return false;
            }
        }
        else
        {
            // D0/D1 (count 1) decode as an implied immediate 1.
            op.Aux = (byte)insn.GetImmediate(1);
        }

        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            var size = insn.Op0Register.GetSize();
            op.Handler = byCl
                ? Sized.Pick(size, &R<S, W8, ClCount>, &R<S, W16, ClCount>, &R<S, W32, ClCount>, &R<S, W64, ClCount>)
                : Sized.Pick(size, &R<S, W8, ImmCount>, &R<S, W16, ImmCount>, &R<S, W32, ImmCount>, &R<S, W64, ImmCount>);
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            var size = insn.MemorySize.GetSize();
            op.Handler = byCl
                ? Sized.Pick(size, &M<S, W8, ClCount>, &M<S, W16, ClCount>, &M<S, W32, ClCount>, &M<S, W64, ClCount>)
                : Sized.Pick(size, &M<S, W8, ImmCount>, &M<S, W16, ImmCount>, &M<S, W32, ImmCount>, &M<S, W64, ImmCount>);
        }

        return op.Handler != null;
    }

    private static bool BuildDouble<D>(in Instruction insn, ref Op op)
        where D : struct, IDoubleShiftOp
    {
        var byCl = insn.Op2Kind == OpKind.Register;
        if (byCl)
        {
            if (insn.Op2Register != Iced.Intel.Register.CL)
            {
                return false;
            }
        }
        else
        {
            op.Aux = (byte)insn.GetImmediate(2);
        }

        op.R1 = Operands.Gpr(insn.Op1Register);
        var size = insn.Op1Register.GetSize();
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            op.Handler = byCl
                ? Sized.Pick(size, null, &DR<D, W16, ClCount>, &DR<D, W32, ClCount>, &DR<D, W64, ClCount>)
                : Sized.Pick(size, null, &DR<D, W16, ImmCount>, &DR<D, W32, ImmCount>, &DR<D, W64, ImmCount>);
        }
        else
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }

            op.Handler = byCl
                ? Sized.Pick(size, null, &DM<D, W16, ClCount>, &DM<D, W32, ClCount>, &DM<D, W64, ClCount>)
                : Sized.Pick(size, null, &DM<D, W16, ImmCount>, &DM<D, W32, ImmCount>, &DM<D, W64, ImmCount>);
        }

        return op.Handler != null;
    }

    private static int Mask<W>()
        where W : IWidth => W.Bits == 64 ? 63 : 31;

    private static int R<S, W, C>(CpuState c, Op* op)
        where S : struct, IShiftOp
        where W : IWidth
        where C : struct, IShiftCount
    {
        var n = C.Raw(c, op) & Mask<W>();
        var v = W.Get(c, op->R0);
        W.Set(c, op->R0, n == 0 ? v : S.Exec<W>(c, v, n));
        return 0;
    }

    private static int M<S, W, C>(CpuState c, Op* op)
        where S : struct, IShiftOp
        where W : IWidth
        where C : struct, IShiftCount
    {
        var n = C.Raw(c, op) & Mask<W>();
        var a = c.Ea(op);
        var v = W.Load(c, a);
        W.Store(c, a, n == 0 ? v : S.Exec<W>(c, v, n));
        return 0;
    }

    private static int DR<D, W, C>(CpuState c, Op* op)
        where D : struct, IDoubleShiftOp
        where W : IWidth
        where C : struct, IShiftCount
    {
        var n = C.Raw(c, op) & Mask<W>();
        var v = W.Get(c, op->R0);
        W.Set(c, op->R0, n == 0 ? v : D.Exec<W>(c, v, W.Get(c, op->R1), n));
        return 0;
    }

    private static int DM<D, W, C>(CpuState c, Op* op)
        where D : struct, IDoubleShiftOp
        where W : IWidth
        where C : struct, IShiftCount
    {
        var n = C.Raw(c, op) & Mask<W>();
        var a = c.Ea(op);
        var v = W.Load(c, a);
        W.Store(c, a, n == 0 ? v : D.Exec<W>(c, v, W.Get(c, op->R1), n));
        return 0;
    }
}

internal unsafe struct ImmCount : IShiftCount
{
    public static int Raw(CpuState c, Op* op) => op->Aux;
}

internal unsafe struct ClCount : IShiftCount
{
    /// <summary>CL: the low byte of RCX (register-file offset 8).</summary>
    public static int Raw(CpuState c, Op* op) => (int)W8.Get(c, 8);
}

/// <summary>Shared flag arithmetic for the shift family.</summary>
internal static class ShiftFlags
{
    public static ulong Msb<W>(ulong v)
        where W : IWidth => (v >> (W.Bits - 1)) & 1;

    /// <summary>MSB(r) XOR MSB-1(r): the SDM's OF for a one-bit right shift or rotate, applied by hardware to any count.</summary>
    public static ulong TopTwoDiffer<W>(ulong r)
        where W : IWidth => ((r >> (W.Bits - 1)) ^ (r >> (W.Bits - 2))) & 1;

    /// <summary>SHL/SHR/SAR/SHLD/SHRD: CF and OF as given, AF set (the Zen host always sets it), SF/ZF/PF from the result.</summary>
    public static void Set<W>(CpuState c, ulong r, ulong cf, ulong of)
        where W : IWidth => c.SetFlagsExplicit(W.SizeLog, r, cf | (of << 11) | CpuState.AF);

    /// <summary>Rotates change only CF and OF.</summary>
    public static void SetRotate(CpuState c, ulong cf, ulong of) =>
        c.UpdateFlags(CpuState.CF | CpuState.OF, cf | (of << 11));
}

/// <summary>SHL/SAL (SDM Vol. 2B "SAL/SAR/SHL/SHR"): CF = last bit out; OF = CF XOR MSB(result) for every count.</summary>
internal struct ShlOp : IShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth
    {
        var r = (v << n) & W.Mask;

        // 8/16-bit operands can be shifted by more than their width (count up to 31): CF is then 0.
        var cf = n <= W.Bits ? (v >> (W.Bits - n)) & 1 : 0;
        ShiftFlags.Set<W>(c, r, cf, cf ^ ShiftFlags.Msb<W>(r));
        return r;
    }
}

/// <summary>SHR: CF = last bit out; OF = MSB(r) XOR MSB-1(r) (the original MSB for count 1).</summary>
internal struct ShrOp : IShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth
    {
        var r = v >> n;
        ShiftFlags.Set<W>(c, r, (v >> (n - 1)) & 1, ShiftFlags.TopTwoDiffer<W>(r));
        return r;
    }
}

/// <summary>SAR: CF = last bit out (the sign once the count reaches the width); OF = 0.</summary>
internal struct SarOp : IShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth
    {
        var s = W.Sext(v);
        var r = (ulong)(s >> n) & W.Mask;
        ShiftFlags.Set<W>(c, r, (ulong)(s >> (n - 1)) & 1, 0);
        return r;
    }
}

/// <summary>ROL: rotates by count mod width; CF = LSB(result), OF = MSB(result) XOR CF.</summary>
internal struct RolOp : IShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth
    {
        var k = n & (W.Bits - 1);
        var r = W.Bits == 64 ? BitOperations.RotateLeft(v, k) : ((v << k) | (v >> (W.Bits - k))) & W.Mask;
        var cf = r & 1;
        ShiftFlags.SetRotate(c, cf, cf ^ ShiftFlags.Msb<W>(r));
        return r;
    }
}

/// <summary>ROR: CF = MSB(result), OF = MSB(result) XOR MSB-1(result).</summary>
internal struct RorOp : IShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth
    {
        var k = n & (W.Bits - 1);
        var r = W.Bits == 64 ? BitOperations.RotateRight(v, k) : ((v >> k) | (v << (W.Bits - k))) & W.Mask;
        ShiftFlags.SetRotate(c, ShiftFlags.Msb<W>(r), ShiftFlags.TopTwoDiffer<W>(r));
        return r;
    }
}

/// <summary>
/// RCL: a (width + 1)-bit rotate through CF. 8/16-bit counts are taken mod 9/17, so a masked
/// count can rotate by 0 and still define OF = MSB(result) XOR CF.
/// </summary>
internal struct RclOp : IShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth
    {
        var k = W.Bits < 32 ? n % (W.Bits + 1) : n;
        var x = (UInt128)v | ((UInt128)(c.CarryFlag ? 1UL : 0) << W.Bits);
        var all = (UInt128.One << (W.Bits + 1)) - 1;
        x = ((x << k) | (x >> (W.Bits + 1 - k))) & all;
        var r = (ulong)x & W.Mask;
        var cf = (ulong)(x >> W.Bits);
        ShiftFlags.SetRotate(c, cf, cf ^ ShiftFlags.Msb<W>(r));
        return r;
    }
}

/// <summary>RCR: like RCL the other way; OF = MSB(result) XOR MSB-1(result).</summary>
internal struct RcrOp : IShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, int n)
        where W : IWidth
    {
        var k = W.Bits < 32 ? n % (W.Bits + 1) : n;
        var x = (UInt128)v | ((UInt128)(c.CarryFlag ? 1UL : 0) << W.Bits);
        var all = (UInt128.One << (W.Bits + 1)) - 1;
        x = ((x >> k) | (x << (W.Bits + 1 - k))) & all;
        var r = (ulong)x & W.Mask;
        ShiftFlags.SetRotate(c, (ulong)(x >> W.Bits), ShiftFlags.TopTwoDiffer<W>(r));
        return r;
    }
}

/// <summary>
/// SHLD: shifts v left, filling from the top of s. CF = last bit out of v; OF = CF XOR
/// MSB(result). A 16-bit count above 16 is undefined in the SDM; the Zen host rotates s
/// left by count - 16 and clears CF and OF, and for exactly 16 sets OF = CF.
/// </summary>
internal struct ShldOp : IDoubleShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, ulong s, int n)
        where W : IWidth
    {
        if (W.Bits == 16 && n >= 16)
        {
            if (n == 16)
            {
                ShiftFlags.Set<W>(c, s, v & 1, v & 1);
                return s;
            }

            var k = n - 16;
            var rot = ((s << k) | (s >> (16 - k))) & 0xFFFF;
            ShiftFlags.Set<W>(c, rot, 0, 0);
            return rot;
        }

        var r = ((v << n) | (s >> (W.Bits - n))) & W.Mask;
        var cf = (v >> (W.Bits - n)) & 1;
        ShiftFlags.Set<W>(c, r, cf, cf ^ ShiftFlags.Msb<W>(r));
        return r;
    }
}

/// <summary>
/// SHRD: shifts v right, filling from the bottom of s. CF = last bit out of v; OF = MSB(result)
/// XOR MSB-1(result). For a 16-bit count above 16 the Zen host shifts the 48-bit s:s:v and clears CF.
/// </summary>
internal struct ShrdOp : IDoubleShiftOp
{
    public static ulong Exec<W>(CpuState c, ulong v, ulong s, int n)
        where W : IWidth
    {
        ulong r, cf;
        if (W.Bits == 16 && n > 16)
        {
            r = (((s << 32) | (s << 16) | v) >> n) & 0xFFFF;
            cf = 0;
        }
        else
        {
            // n == width (16-bit only) leaves s; C# would mask the shift count, so spell it out.
            r = ((v >> n) | (n == W.Bits ? s : s << (W.Bits - n))) & W.Mask;
            cf = (v >> (n - 1)) & 1;
        }

        ShiftFlags.Set<W>(c, r, cf, ShiftFlags.TopTwoDiffer<W>(r));
        return r;
    }
}
