using System.Runtime.InteropServices;

namespace UserModeOS.Cpu.Decoding;

/// <summary>
/// One pre-decoded guest instruction: the handler chosen for its instruction and operand
/// form, and the fields that handler reads. Register fields are byte offsets into the
/// <see cref="RegisterFile"/> (so AH is RAX's offset + 1); XMM fields are register numbers.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct Op
{
    /// <summary>Runs the instruction; returns 0 to fall through to the next op, non-zero when RIP was set.</summary>
    public delegate*<CpuState, Op*, int> Handler;

    /// <summary>Guest address of this instruction.</summary>
    public ulong Rip;

    /// <summary>Immediate operand, or the branch target.</summary>
    public long Imm;

    /// <summary>Memory displacement (absolute for RIP-relative operands).</summary>
    public long Disp;

    /// <summary>First (usually destination) register, byte offset.</summary>
    public byte R0;

    /// <summary>Second (usually source) register, byte offset.</summary>
    public byte R1;

    /// <summary>Memory base register, byte offset (<see cref="RegSlot.Zero"/> when absent).</summary>
    public byte Base;

    /// <summary>Memory index register, byte offset (<see cref="RegSlot.Zero"/> when absent).</summary>
    public byte Index;

    /// <summary>Index scale as a shift count (0-3).</summary>
    public byte Scale;

    /// <summary>Segment base slot: <see cref="RegSlot.Zero"/>, <see cref="RegSlot.FsBase"/> or <see cref="RegSlot.GsBase"/>.</summary>
    public byte Seg;

    /// <summary>Instruction length in bytes.</summary>
    public byte Len;

    /// <summary>A per-handler extra: a condition code, an immediate byte, an operand size.</summary>
    public byte Aux;

    public readonly ulong NextRip => Rip + Len;
}
