using System.Runtime.CompilerServices;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>A memory source operand of an x87 instruction, widened exactly to extended precision.</summary>
internal interface IX87Load
{
    static abstract Float80 Load(CpuState c, ulong ea, ref uint flags);
}

internal readonly struct M32Fp : IX87Load
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Load(CpuState c, ulong ea, ref uint flags) => F80.FromIeee(c.Read32(ea), 23, 8, ref flags);
}

internal readonly struct M64Fp : IX87Load
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Load(CpuState c, ulong ea, ref uint flags) => F80.FromIeee(c.Read64(ea), 52, 11, ref flags);
}

internal readonly struct M80Fp : IX87Load
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Load(CpuState c, ulong ea, ref uint flags)
    {
        var m = c.Read64(ea);
        return new Float80(c.Read16(ea + 8), m);
    }
}

internal readonly struct M16Int : IX87Load
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Load(CpuState c, ulong ea, ref uint flags) => F80.FromInt((short)c.Read16(ea));
}

internal readonly struct M32Int : IX87Load
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Load(CpuState c, ulong ea, ref uint flags) => F80.FromInt((int)c.Read32(ea));
}

internal readonly struct M64Int : IX87Load
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float80 Load(CpuState c, ulong ea, ref uint flags) => F80.FromInt((long)c.Read64(ea));
}

/// <summary>Shared pieces of the x87 instruction groups: operand decoding and the #MF check.</summary>
internal static unsafe class X87
{
    /// <summary>ST(i)'s index from an Iced ST register.</summary>
    public static byte St(Register r) => (byte)(r - Register.ST0);

    /// <summary>A builder for a memory-operand form, picking the handler by the operand's memory size.</summary>
    public static OpBuilder Mem(Func<MemorySize, nint> pick, byte aux = 0) => (in Instruction insn, ref Op op) =>
    {
        var h = pick(insn.MemorySize);
        if (h == 0 || !Operands.Mem(insn, ref op))
        {
            return false;
        }

        op.Handler = (delegate*<CpuState, Op*, int>)h;
        op.Aux = aux;
        return true;
    };

    /// <summary>
    /// The start of a waiting x87 instruction: an unmasked exception left pending by an earlier
    /// one is delivered now (#MF). True when the instruction must not run.
    /// </summary>
    /// <remarks>
    /// There is no exit reason for #MF yet, so it is reported as <see cref="ExitReason.DivideError"/>,
    /// which the kernel also turns into SIGFPE.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Pending(CpuState c) => (c.X87.Status & ~c.X87.Control & 0x3F) != 0;

    public static int Fault(CpuState c, Op* op) => c.ExitAt(op, ExitReason.FloatingPointError);

    /// <summary>The stack-underflow check of an operation reading ST(i) (and ST(j)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Empty(CpuState c, int i, int j) => c.StEmpty(i) || c.StEmpty(j);
}
