using System.Buffers.Binary;
using System.Numerics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>BT, BTS, BTR or BTC: the new value from the old and the selected bit's mask.</summary>
internal interface IBitTestOp : IModifyOp
{
    static abstract bool Writes { get; }
}

/// <summary>Where BT* find the bit: an imm8 offset, or a register offset that may address beyond the operand.</summary>
internal unsafe interface IBitOffset
{
    static abstract int Bit<W>(CpuState c, Op* op)
        where W : IWidth;

    static abstract ulong Address<W>(CpuState c, Op* op)
        where W : IWidth;
}

/// <summary>BSF, BSR, TZCNT, LZCNT or POPCNT into a register.</summary>
internal interface ICountOp
{
    static abstract void Exec<W>(CpuState c, byte dst, ulong src)
        where W : IWidth;
}

/// <summary>The bit tests (with LOCK), bit scans and counts, and BSWAP.</summary>
internal static unsafe class BitOps
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Bt, BuildBitTest<BtOp>);
        OpTable.AddMnemonic(Mnemonic.Bts, BuildBitTest<BtsOp>);
        OpTable.AddMnemonic(Mnemonic.Btr, BuildBitTest<BtrOp>);
        OpTable.AddMnemonic(Mnemonic.Btc, BuildBitTest<BtcOp>);
        OpTable.AddMnemonic(Mnemonic.Bsf, BuildCount<BsfOp>);
        OpTable.AddMnemonic(Mnemonic.Bsr, BuildCount<BsrOp>);
        OpTable.AddMnemonic(Mnemonic.Tzcnt, BuildCount<TzcntOp>);
        OpTable.AddMnemonic(Mnemonic.Lzcnt, BuildCount<LzcntOp>);
        OpTable.AddMnemonic(Mnemonic.Popcnt, BuildCount<PopcntOp>);
        OpTable.AddMnemonic(Mnemonic.Bswap, BuildBswap);
    }

    private static bool BuildBitTest<B>(in Instruction insn, ref Op op)
        where B : struct, IBitTestOp
    {
        var byReg = insn.Op1Kind == OpKind.Register;
        if (byReg)
        {
            op.R1 = Operands.Gpr(insn.Op1Register);
        }

        int size;
        if (insn.Op0Kind == OpKind.Register)
        {
            op.R0 = Operands.Gpr(insn.Op0Register);
            size = insn.Op0Register.GetSize();
            if (!byReg)
            {
                op.Aux = (byte)(insn.GetImmediate(1) & (ulong)((size * 8) - 1));
            }

            op.Handler = byReg
                ? Sized.Pick(size, null, &R<B, W16, RegOffset>, &R<B, W32, RegOffset>, &R<B, W64, RegOffset>)
                : Sized.Pick(size, null, &R<B, W16, ImmOffset>, &R<B, W32, ImmOffset>, &R<B, W64, ImmOffset>);
            return op.Handler != null;
        }

        if (!Operands.Mem(insn, ref op))
        {
            return false;
        }

        size = insn.MemorySize.GetSize();
        if (!byReg)
        {
            op.Aux = (byte)(insn.GetImmediate(1) & (ulong)((size * 8) - 1));
        }

        if (insn.HasLockPrefix && B.Writes)
        {
            op.Handler = byReg
                ? Sized.Pick(size, null, &L<B, W16, RegOffset>, &L<B, W32, RegOffset>, &L<B, W64, RegOffset>)
                : Sized.Pick(size, null, &L<B, W16, ImmOffset>, &L<B, W32, ImmOffset>, &L<B, W64, ImmOffset>);
        }
        else
        {
            op.Handler = byReg
                ? Sized.Pick(size, null, &M<B, W16, RegOffset>, &M<B, W32, RegOffset>, &M<B, W64, RegOffset>)
                : Sized.Pick(size, null, &M<B, W16, ImmOffset>, &M<B, W32, ImmOffset>, &M<B, W64, ImmOffset>);
        }

        return op.Handler != null;
    }

    private static bool BuildCount<K>(in Instruction insn, ref Op op)
        where K : struct, ICountOp
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        var size = RmSource.Fill(insn, 1, ref op, out var memory);
        op.Handler = memory
            ? Sized.Pick(size, null, &Count<K, RmSource.Mem, W16>, &Count<K, RmSource.Mem, W32>, &Count<K, RmSource.Mem, W64>)
            : Sized.Pick(size, null, &Count<K, RmSource.Reg, W16>, &Count<K, RmSource.Reg, W32>, &Count<K, RmSource.Reg, W64>);
        return op.Handler != null;
    }

    private static bool BuildBswap(in Instruction insn, ref Op op)
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        op.Handler = Sized.Pick(insn.Op0Register.GetSize(), null, &Bswap16, &Bswap32, &Bswap64);
        return op.Handler != null;
    }

    /// <summary>BT* change only CF; SDM leaves OF/SF/AF/PF undefined, and hardware keeps them.</summary>
    private static void SetCarry(CpuState c, ulong cf) => c.UpdateFlags(CpuState.CF, cf);

    private static int R<B, W, O>(CpuState c, Op* op)
        where B : struct, IBitTestOp
        where W : IWidth
        where O : struct, IBitOffset
    {
        var bit = O.Bit<W>(c, op);
        var v = W.Get(c, op->R0);
        if (B.Writes)
        {
            W.Set(c, op->R0, B.Apply<W>(v, 1UL << bit));
        }

        SetCarry(c, (v >> bit) & 1);
        return 0;
    }

    private static int M<B, W, O>(CpuState c, Op* op)
        where B : struct, IBitTestOp
        where W : IWidth
        where O : struct, IBitOffset
    {
        var bit = O.Bit<W>(c, op);
        var a = O.Address<W>(c, op);
        var v = W.Load(c, a);
        if (B.Writes)
        {
            W.Store(c, a, B.Apply<W>(v, 1UL << bit));
        }

        SetCarry(c, (v >> bit) & 1);
        return 0;
    }

    private static int L<B, W, O>(CpuState c, Op* op)
        where B : struct, IBitTestOp
        where W : IWidth
        where O : struct, IBitOffset
    {
        var bit = O.Bit<W>(c, op);
        var old = Atomic.Modify<B, W>(c, O.Address<W>(c, op), 1UL << bit);
        SetCarry(c, (old >> bit) & 1);
        return 0;
    }

    private static int Count<K, S, W>(CpuState c, Op* op)
        where K : struct, ICountOp
        where S : struct, RmSource.ISource
        where W : IWidth
    {
        K.Exec<W>(c, op->R0, S.Read<W>(c, op));
        return 0;
    }

    /// <summary>BSWAP r16 is undefined in the SDM; hardware (Intel and AMD) clears the 16-bit register.</summary>
    private static int Bswap16(CpuState c, Op* op)
    {
        W16.Set(c, op->R0, 0);
        return 0;
    }

    private static int Bswap32(CpuState c, Op* op)
    {
        W32.Set(c, op->R0, BinaryPrimitives.ReverseEndianness((uint)W32.Get(c, op->R0)));
        return 0;
    }

    private static int Bswap64(CpuState c, Op* op)
    {
        c.Reg64(op->R0) = BinaryPrimitives.ReverseEndianness(c.Reg64(op->R0));
        return 0;
    }

    /// <summary>PF as an RFLAGS bit: set when the low byte has an even number of ones.</summary>
    internal static ulong Parity(ulong v) => (ulong)(~BitOperations.PopCount(v & 0xFF) & 1) << 2;

    /// <summary>Replaces all six arithmetic flags with <paramref name="flags"/> (RFLAGS bits).</summary>
    internal static void SetAllFlags(CpuState c, ulong flags) => c.SetFlags(FlagKind.Materialized, 0, 0, 0, flags);
}

/// <summary>The bit offset is an imm8 already reduced modulo the operand width at decode time (SDM "BT").</summary>
internal unsafe struct ImmOffset : IBitOffset
{
    public static int Bit<W>(CpuState c, Op* op)
        where W : IWidth => op->Aux;

    public static ulong Address<W>(CpuState c, Op* op)
        where W : IWidth => c.Ea(op);
}

/// <summary>
/// A register bit offset. On a register operand it is taken modulo the width; on memory it
/// is a signed bit index from the operand's address (the "bit base"), reaching
/// -2^63 .. 2^63 - 1 bits away. The access is the operand-sized unit holding the bit.
/// </summary>
internal unsafe struct RegOffset : IBitOffset
{
    public static int Bit<W>(CpuState c, Op* op)
        where W : IWidth => (int)(W.Get(c, op->R1) & (ulong)(W.Bits - 1));

    public static ulong Address<W>(CpuState c, Op* op)
        where W : IWidth
    {
        var offset = W.Sext(W.Get(c, op->R1));
        return c.Ea(op) + (ulong)((offset >> (W.SizeLog + 3)) << W.SizeLog);
    }
}

internal struct BtOp : IBitTestOp
{
    public static bool Writes => false;

    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => old;
}

internal struct BtsOp : IBitTestOp
{
    public static bool Writes => true;

    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => old | arg;
}

internal struct BtrOp : IBitTestOp
{
    public static bool Writes => true;

    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => old & ~arg;
}

internal struct BtcOp : IBitTestOp
{
    public static bool Writes => true;

    public static ulong Apply<W>(ulong old, ulong arg)
        where W : IWidth => old ^ arg;
}

/// <summary>
/// BSF: index of the lowest set bit. A zero source sets ZF and leaves the whole destination
/// register unchanged (no 32-bit zero-extension), as AMD documents and Intel does. The other
/// flags are undefined; we match the Zen host: PF from the index (set for a zero source), rest clear.
/// </summary>
internal struct BsfOp : ICountOp
{
    public static void Exec<W>(CpuState c, byte dst, ulong src)
        where W : IWidth
    {
        if (src == 0)
        {
            BitOps.SetAllFlags(c, CpuState.ZF | CpuState.PF);
            return;
        }

        var i = (ulong)BitOperations.TrailingZeroCount(src);
        W.Set(c, dst, i);
        BitOps.SetAllFlags(c, BitOps.Parity(i));
    }
}

/// <summary>BSR: index of the highest set bit; zero source as for BSF.</summary>
internal struct BsrOp : ICountOp
{
    public static void Exec<W>(CpuState c, byte dst, ulong src)
        where W : IWidth
    {
        if (src == 0)
        {
            BitOps.SetAllFlags(c, CpuState.ZF | CpuState.PF);
            return;
        }

        var i = (ulong)(63 - BitOperations.LeadingZeroCount(src));
        W.Set(c, dst, i);
        BitOps.SetAllFlags(c, BitOps.Parity(i));
    }
}

/// <summary>
/// TZCNT: trailing zeros, the width for a zero source. CF = source is zero, ZF = result is
/// zero; OF/SF/AF/PF are undefined: the Zen host keeps OF and clears the others, so do we.
/// </summary>
internal struct TzcntOp : ICountOp
{
    public static void Exec<W>(CpuState c, byte dst, ulong src)
        where W : IWidth
    {
        var n = src == 0 ? (ulong)W.Bits : (ulong)BitOperations.TrailingZeroCount(src);
        var of = c.OverflowFlag ? CpuState.OF : 0;
        W.Set(c, dst, n);
        BitOps.SetAllFlags(c, of | (src == 0 ? CpuState.CF : 0) | (n == 0 ? CpuState.ZF : 0));
    }
}

/// <summary>LZCNT: leading zeros within the operand size; flags as for TZCNT.</summary>
internal struct LzcntOp : ICountOp
{
    public static void Exec<W>(CpuState c, byte dst, ulong src)
        where W : IWidth
    {
        var n = (ulong)(BitOperations.LeadingZeroCount(src) - (64 - W.Bits));
        var of = c.OverflowFlag ? CpuState.OF : 0;
        W.Set(c, dst, n);
        BitOps.SetAllFlags(c, of | (src == 0 ? CpuState.CF : 0) | (n == 0 ? CpuState.ZF : 0));
    }
}

/// <summary>POPCNT: ZF = source is zero, the other five flags cleared (SDM Vol. 2B "POPCNT").</summary>
internal struct PopcntOp : ICountOp
{
    public static void Exec<W>(CpuState c, byte dst, ulong src)
        where W : IWidth
    {
        W.Set(c, dst, (ulong)BitOperations.PopCount(src));
        BitOps.SetAllFlags(c, src == 0 ? CpuState.ZF : 0);
    }
}
