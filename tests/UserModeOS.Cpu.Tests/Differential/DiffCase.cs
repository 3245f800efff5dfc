namespace UserModeOS.Cpu.Tests.Differential;

/// <summary>
/// One differential test: machine code and the register and memory state it starts from.
/// The harness runs it on the host CPU and on our executor and compares what it leaves.
/// </summary>
public sealed class DiffCase
{
    /// <summary>Shown in failure reports; make it say what the case exercises.</summary>
    public required string Name { get; init; }

    /// <summary>The instructions under test, emitted at the case's address (no <c>ret</c> needed).</summary>
    public required Action<Iced.Intel.Assembler> Code { get; init; }

    /// <summary>
    /// Initial RAX..R15 in encoding order. RSP (index 4) is ignored: the harness points it at
    /// the top of a private per-case stack and compares its final value like any other.
    /// </summary>
    public ulong[] Gpr { get; init; } = new ulong[16];

    /// <summary>Initial CF|PF|AF|ZF|SF|OF (DF may be set too), loaded with <c>popfq</c>.</summary>
    public ulong Flags { get; init; }

    public UInt128[] Xmm { get; init; } = new UInt128[16];

    /// <summary>
    /// Initial contents of the scratch page at <see cref="Differential.ScratchAddress"/>
    /// (at most 4096 bytes, zero-padded); null is an all-zero page.
    /// </summary>
    public byte[]? Scratch { get; init; }

    /// <summary>RFLAGS bits compared; clear the bits the SDM leaves undefined for the instruction.</summary>
    public ulong FlagsMask { get; init; } = 0x8D5;

    public uint Mxcsr { get; init; } = 0x1F80;

    /// <summary>
    /// Whether the x87 state the case leaves (FCW, FSW, tags, FOP/FIP/FDP and ST0-7 as FXSAVE
    /// stores them) is compared. Every case starts from a clean FPU (FNINIT, registers zero).
    /// </summary>
    public bool CompareX87 { get; init; } = true;
}
