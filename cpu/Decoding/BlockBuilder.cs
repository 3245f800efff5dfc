using Iced.Intel;
using UserModeOS.Cpu.Instructions;
using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu.Decoding;

/// <summary>Decodes guest code a basic block at a time into ops.</summary>
internal sealed unsafe class BlockBuilder
{
    private const int MaxInstructions = 64;

    private readonly CpuState _cpu;
    private readonly GuestCodeReader _reader;
    private readonly Decoder _decoder;
    private readonly List<Op> _ops = new(MaxInstructions + 1);
    private readonly Instruction[] _insns = new Instruction[MaxInstructions];
    private readonly bool[] _flagsDead = new bool[MaxInstructions];

    public BlockBuilder(CpuState cpu)
    {
        _cpu = cpu;
        _reader = new GuestCodeReader();
        _decoder = Decoder.Create(64, _reader, 0, DecoderOptions.None);
    }

    /// <summary>
    /// Decodes the block at <paramref name="rip"/>, or returns null after setting an exec fault.
    /// Three steps: decode the instructions, find which flag results nothing reads before
    /// they are overwritten, then build the ops (flag-free forms where possible, and a
    /// fused compare-and-branch at the end).
    /// </summary>
    public Block? Build(ulong rip)
    {
        _reader.Begin(_cpu.Memory);
        var count = Decode(rip, out var end, out var endsUndefined);
        if (count < 0)
        {
            return null;
        }

        FindDeadFlags(count);
        _ops.Clear();
        var ip = rip;
        for (var i = 0; i < count; i++)
        {
            ref var insn = ref _insns[i];
            var op = new Op { Rip = ip, Len = (byte)insn.Length, Base = RegSlot.Zero, Index = RegSlot.Zero, Seg = RegSlot.Zero };
            var built = (_flagsDead[i] && FlagFree.TryBuild(in insn, ref op)) || OpTable.Build(in insn, ref op);
            if (!built || (i == count - 1 && endsUndefined))
            {
                op.Handler = &CoreOps.Undefined;
                op.Len = (byte)Math.Max(insn.Length, 1);
                _ops.Add(op);
                ip += op.Len;
                return Finish(rip, ip, i + 1, open: false);
            }

            if (i == count - 1 && i > 0 && insn.FlowControl != FlowControl.Next)
            {
                // A block's last two instructions may fuse (compare-and-branch).
                var first = _ops[^1];
                if (Fused.TryFuse(in _insns[i - 1], in insn, ref first, in op))
                {
                    _ops[^1] = first;
                    return Finish(rip, ip + op.Len, count, open: false);
                }
            }

            _ops.Add(op);
            ip += op.Len;
        }

        return Finish(rip, end, count, open: count == 0 || _insns[count - 1].FlowControl == FlowControl.Next);
    }

    private Block Finish(ulong rip, ulong end, int count, bool open)
    {
        if (open)
        {
            _ops.Add(new Op { Handler = &CoreOps.FallThrough, Rip = end, Imm = (long)end });
        }

        var ops = GC.AllocateUninitializedArray<Op>(_ops.Count, pinned: true);
        _ops.CopyTo(ops);
        return new Block(rip, Math.Max(end, rip + 1), ops, count);
    }

    /// <summary>
    /// Decodes up to the end of the basic block into <see cref="_insns"/>; returns how many,
    /// or -1 after an exec fault on the first one. A block also ends before an instruction
    /// that runs into an unmapped page and at one we cannot run (which becomes #UD).
    /// </summary>
    private int Decode(ulong rip, out ulong end, out bool endsUndefined)
    {
        var ip = rip;
        var count = 0;
        endsUndefined = false;
        while (count < MaxInstructions)
        {
            _reader.Reset(_cpu.Memory, ip);
            _decoder.IP = ip;
            ref var insn = ref _insns[count];
            _decoder.Decode(out insn);
            if (insn.IsInvalid && _decoder.LastError == DecoderError.NoMoreBytes)
            {
                if (count == 0)
                {
                    _cpu.SetExecFault(_reader.FaultAddress);
                    end = ip;
                    return -1;
                }

                break;
            }

            count++;
            ip += (ulong)Math.Max(insn.Length, 1);
            if (insn.IsInvalid || !OpTable.IsImplemented(insn.Code))
            {
                endsUndefined = true;
                break;
            }

            // HLT always leaves the block (a #GP in user mode), so the state there must be exact.
            if (insn.FlowControl != FlowControl.Next || insn.Mnemonic == Mnemonic.Hlt)
            {
                break;
            }
        }

        end = ip;
        return count;
    }

    private const RflagsBits ArithmeticFlags = RflagsBits.OF | RflagsBits.SF | RflagsBits.ZF | RflagsBits.AF | RflagsBits.CF | RflagsBits.PF;

    /// <summary>
    /// Backward liveness of the arithmetic flags: an instruction's flag results are dead
    /// when every flag it writes is written again before anything reads it. Everything is
    /// live at the end of a block, so state is exact at every block boundary; inside a
    /// block, only a signal handler looking at the saved RFLAGS of a faulting instruction
    /// could tell.
    /// </summary>
    private void FindDeadFlags(int count)
    {
        var live = ArithmeticFlags;
        for (var i = count - 1; i >= 0; i--)
        {
            ref var insn = ref _insns[i];
            var written = insn.RflagsModified & ArithmeticFlags;
            _flagsDead[i] = written != 0 && (written & live) == 0;
            if (!KeepsFlagsSometimes(in insn))
            {
                live &= ~written;
            }

            live |= insn.RflagsRead & ArithmeticFlags;
        }
    }

    /// <summary>Shifts and rotates by CL (or by a masked count of 0) leave the flags as they were.</summary>
    private static bool KeepsFlagsSometimes(in Instruction insn) =>
        insn.Mnemonic is Mnemonic.Shl or Mnemonic.Shr or Mnemonic.Sar or Mnemonic.Sal or Mnemonic.Rol or Mnemonic.Ror or
            Mnemonic.Rcl or Mnemonic.Rcr or Mnemonic.Shld or Mnemonic.Shrd &&
        (insn.OpCount < 2 || insn.GetOpKind(insn.OpCount - 1) == OpKind.Register || (insn.GetImmediate(insn.OpCount - 1) & 0x1F) == 0);

    /// <summary>Feeds Iced bytes from guest memory with execute permission.</summary>
    private sealed class GuestCodeReader : CodeReader
    {
        private GuestMemory? _memory;
        private ulong _address;
        private ulong _page = ulong.MaxValue;
        private nint _host;

        public ulong FaultAddress { get; private set; }

        /// <summary>Starts a block: forget the cached page, whose mapping may have changed since.</summary>
        public void Begin(GuestMemory memory)
        {
            _memory = memory;
            _page = ulong.MaxValue;
        }

        public void Reset(GuestMemory memory, ulong address)
        {
            _memory = memory;
            _address = address;
        }

        public override int ReadByte()
        {
            var page = _address & GuestMemory.PageMask;
            if (page != _page)
            {
                var host = _memory!.Translate(_address, AccessKind.Execute);
                if (host == 0)
                {
                    FaultAddress = _address;
                    return -1;
                }

                _page = page;
                _host = host - (nint)(_address & ~GuestMemory.PageMask);
            }

            var b = *(byte*)(_host + (nint)(_address & ~GuestMemory.PageMask));
            _address++;
            return b;
        }
    }
}
