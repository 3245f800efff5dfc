using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu.Decoding;

/// <summary>
/// A decoded basic block: ops in a pinned array (their addresses are stable for the
/// handlers), the guest range they came from and the successors last seen after it.
/// </summary>
public sealed unsafe class Block
{
    private readonly Op[] _ops;

    internal Block(ulong rip, ulong[] pages, Op[] ops, int instructionCount)
    {
        Rip = rip;
        Pages = pages;
        _ops = ops;
        Ops = (Op*)Unsafe.AsPointer(ref ops[0]);
        InstructionCount = instructionCount;
    }

    /// <summary>Guest address of the first instruction.</summary>
    public ulong Rip { get; }

    /// <summary>The guest pages the block's instructions were decoded from (a trace may span several).</summary>
    public IReadOnlyList<ulong> Pages { get; }

    /// <summary>Number of guest instructions (the trailing fall-through op is not one).</summary>
    public int InstructionCount { get; }

    internal Op* Ops { get; }

    /// <summary>Cleared when the code under the block is written or unmapped.</summary>
    internal volatile bool Valid = true;

    /// <summary>
    /// Marks the block stale and turns each of its ops into <see cref="Instructions.CoreOps.Resync"/>,
    /// so a CPU in the middle of it stops before running old decodings of new bytes.
    /// </summary>
    internal void Invalidate()
    {
        Valid = false;
        for (var i = 0; i < _ops.Length; i++)
        {
            Volatile.Write(ref Unsafe.AsRef<nint>(&Ops[i].Handler), (nint)(delegate*<CpuState, Op*, int>)&Instructions.CoreOps.Resync);
        }
    }

    // The blocks that followed this one last time (a taken and a not-taken path).
    internal Block? Successor0;
    internal Block? Successor1;
}
