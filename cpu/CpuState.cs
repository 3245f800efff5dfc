using System.Runtime.CompilerServices;
using UserModeOS.Cpu.Decoding;
using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu;

/// <summary>
/// One guest hardware thread: the x86-64 user register state, a TLB over an address space
/// and the loop that runs decoded blocks until something needs the kernel.
/// </summary>
/// <remarks>
/// Threading: a CpuState is driven by exactly one host thread at a time (its task's). Other
/// threads may only call <see cref="RequestInterrupt"/>. Several CpuStates may share one
/// <see cref="GuestMemory"/>.
/// </remarks>
public sealed unsafe partial class CpuState
{
    private const int L1Size = 4096;

    public RegisterFile Regs;
    public XmmFile Xmm;
    public ulong Rip;
    public uint Mxcsr = 0x1F80;

    private readonly Block?[] _l1 = new Block?[L1Size];
    private readonly BlockBuilder _builder;
    private volatile bool _interruptRequested;

    public CpuState(GuestMemory memory, ICpuLog? log = null)
    {
        Memory = memory;
        Log = log;
        _builder = new BlockBuilder(this);
    }

    /// <summary>The address space this CPU runs in; set a new one on execve.</summary>
    public GuestMemory Memory { get; private set; }

    /// <summary>Where diagnostics (an unimplemented instruction) are reported.</summary>
    public ICpuLog? Log { get; }

    /// <summary>Why the last <see cref="Run"/> returned.</summary>
    public ExitReason Exit { get; internal set; }

    /// <summary>Guest instructions run so far (counted per block entered).</summary>
    public long InstructionCount;

    public ref ulong this[Reg r] => ref Regs[(int)r];

    public ulong FsBase
    {
        get => Regs[RegSlot.FsBase / 8];
        set => Regs[RegSlot.FsBase / 8] = value;
    }

    public ulong GsBase
    {
        get => Regs[RegSlot.GsBase / 8];
        set => Regs[RegSlot.GsBase / 8] = value;
    }

    /// <summary>Switches to another address space (execve) and forgets everything cached for the old one.</summary>
    public void SwitchMemory(GuestMemory memory)
    {
        Memory = memory;
        Array.Clear(_l1);
        FlushTlb();
    }

    /// <summary>Copies the user-visible register state of another CPU (fork, clone).</summary>
    public void CopyRegistersFrom(CpuState other)
    {
        Regs = other.Regs;
        Xmm = other.Xmm;
        Rip = other.Rip;
        Mxcsr = other.Mxcsr;
        X87 = other.X87;
        FlagOp = other.FlagOp;
        FlagRes = other.FlagRes;
        FlagDst = other.FlagDst;
        FlagSrc = other.FlagSrc;
        FlagsOther = other.FlagsOther;
    }

    /// <summary>Asks the CPU to return <see cref="ExitReason.Interrupted"/> at its next block boundary. Any thread.</summary>
    public void RequestInterrupt() => _interruptRequested = true;

    /// <summary>Runs guest code from <see cref="Rip"/> until an exit; see <see cref="ExitReason"/>.</summary>
    public ExitReason Run()
    {
        Exit = ExitReason.None;
        Block? previous = null;
        while (true)
        {
            if (_interruptRequested)
            {
                _interruptRequested = false;
                return Exit = ExitReason.Interrupted;
            }

            var block = FindBlock(Rip, previous);
            if (block is null)
            {
                return Exit;
            }

            // After the lookup: decoding a block marks its pages as code, which must reach
            // this CPU's write TLB before the block runs (a store into them invalidates it).
            if (_tlbGeneration != Memory.Generation)
            {
                FlushTlb();
            }

            InstructionCount += block.InstructionCount;
            var op = block.Ops;
            try
            {
                while (op->Handler(this, op) == 0)
                {
                    op++;
                }
            }
            catch (GuestFaultException)
            {
                Rip = op->Rip;
                return Exit = ExitReason.PageFault;
            }

            if (Exit != ExitReason.None)
            {
                return Exit;
            }

            previous = block;
        }
    }

    private Block? FindBlock(ulong rip, Block? previous)
    {
        if (previous is not null)
        {
            var s = previous.Successor0;
            if (s is not null && s.Rip == rip && s.Valid)
            {
                return s;
            }

            s = previous.Successor1;
            if (s is not null && s.Rip == rip && s.Valid)
            {
                return s;
            }
        }

        ref var slot = ref _l1[(int)((rip ^ (rip >> 12)) & (L1Size - 1))];
        var block = slot;
        if (block is null || block.Rip != rip || !block.Valid)
        {
            block = Memory.Blocks.Find(rip);
            if (block is null)
            {
                block = _builder.Build(rip);
                if (block is null)
                {
                    return null;
                }

                block = Memory.Blocks.Add(block);
            }

            slot = block;
        }

        if (previous is not null)
        {
            if (previous.Successor0 is null || !previous.Successor0.Valid)
            {
                previous.Successor0 = block;
            }
            else
            {
                previous.Successor1 = block;
            }
        }

        return block;
    }

    /// <summary>Reports an exec fault found while decoding at <paramref name="address"/>.</summary>
    internal void SetExecFault(ulong address)
    {
        FaultAddress = address;
        FaultAccess = AccessKind.Execute;
        FaultOnPresentPage = Memory.IsMapped(address);
        Exit = ExitReason.PageFault;
    }

    /// <summary>Ends the current block with an exit at this instruction (handlers call this).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int ExitAt(Op* op, ExitReason reason)
    {
        Rip = op->Rip;
        Exit = reason;
        return 1;
    }

    /// <summary>The effective address of an op's memory operand.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Ea(Op* op)
    {
        ref var r = ref Unsafe.As<RegisterFile, byte>(ref Regs);
        var scale = op->Scale;
        var a = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref r, op->Base))
            + (Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref r, op->Index)) << (scale & 3))
            + (ulong)op->Disp;
        if (scale >= Operands.Address32)
        {
            // A 67h prefix: the address wraps at 4 GiB before the segment base is added.
            a = (uint)a;
        }

        return a + Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref r, op->Seg));
    }

    /// <summary>The register file as bytes, addressed by the offsets in <see cref="Op"/>.</summary>
    internal ref byte RegBytes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref Unsafe.As<RegisterFile, byte>(ref Regs);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref ulong Reg64(byte offset) => ref Unsafe.As<byte, ulong>(ref Unsafe.Add(ref RegBytes, offset));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref UInt128 XmmReg(int n) => ref Unsafe.Add(ref Unsafe.As<XmmFile, UInt128>(ref Xmm), n);
}

/// <summary>Where the CPU reports diagnostics; the kernel routes them to its log.</summary>
public interface ICpuLog
{
    /// <summary>
    /// An instruction raised #UD. <paramref name="bytes"/> (hex) identifies the encoding, so
    /// the log can report each one once; <paramref name="message"/> says where and what.
    /// </summary>
    void InvalidInstruction(string bytes, string message);
}
