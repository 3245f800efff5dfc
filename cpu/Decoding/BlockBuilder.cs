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
    private readonly bool[] _followed = new bool[MaxInstructions];
    private readonly List<ulong> _pages = new();

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
        for (var i = 0; i < count; i++)
        {
            ref var insn = ref _insns[i];
            var op = new Op { Rip = insn.IP, Len = (byte)insn.Length, Base = RegSlot.Zero, Index = RegSlot.Zero, Seg = RegSlot.Zero };
            if (_followed[i] && i < count - 1)
            {
                // A direct jump or call inlined into the block: the jump needs no op at all,
                // the call only pushes its return address.
                if (insn.Mnemonic == Mnemonic.Call)
                {
                    op.Imm = (long)insn.NextIP;
                    op.Handler = &Branches.PushReturn;
                    _ops.Add(op);
                }

                continue;
            }

            var built = (_flagsDead[i] && FlagFree.TryBuild(in insn, ref op)) || OpTable.Build(in insn, ref op);
            if (!built || (i == count - 1 && endsUndefined))
            {
                op.Handler = &CoreOps.Undefined;
                op.Len = (byte)Math.Max(insn.Length, 1);
                _ops.Add(op);
                return Finish(rip, insn.IP + op.Len, i + 1, open: false);
            }

            if (i == count - 1 && i > 0 && insn.FlowControl != FlowControl.Next && !_followed[i - 1])
            {
                // A block's last two instructions may fuse (compare-and-branch).
                var first = _ops[^1];
                if (Fused.TryFuse(in _insns[i - 1], in insn, ref first, in op))
                {
                    _ops[^1] = first;
                    return Finish(rip, insn.NextIP, count, open: false);
                }
            }

            _ops.Add(op);
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
        return new Block(rip, _pages.ToArray(), ops, count);
    }

    /// <summary>
    /// Decodes up to the end of the basic block into <see cref="_insns"/>; returns how many,
    /// or -1 after an exec fault on the first one. Direct jumps and calls are followed (a
    /// trace through them is one block); a block ends at any other branch, before an
    /// instruction that runs into an unmapped page, and at one we cannot run (which becomes #UD).
    /// </summary>
    private int Decode(ulong rip, out ulong end, out bool endsUndefined)
    {
        var ip = rip;
        var count = 0;
        endsUndefined = false;
        _pages.Clear();
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

            _followed[count] = false;
            count++;
            var length = (ulong)Math.Max(insn.Length, 1);
            AddPages(ip, length);
            if (insn.IsInvalid || !OpTable.IsImplemented(insn.Code))
            {
                ip += length;
                endsUndefined = true;
                break;
            }

            if (IsFollowable(in insn, rip, count))
            {
                _followed[count - 1] = true;
                ip = insn.NearBranch64;
                continue;
            }

            ip += length;

            // HLT always leaves the block (a #GP in user mode), so the state there must be exact.
            if (insn.FlowControl != FlowControl.Next || insn.Mnemonic == Mnemonic.Hlt)
            {
                break;
            }
        }

        if (count > 0 && _followed[count - 1])
        {
            // The trace ended right after a followed branch (its target is unmapped or the
            // block is full): that branch ends the block as a real one.
            ip = _insns[count - 1].NextIP;
        }

        end = ip;
        return count;
    }

    /// <summary>A direct JMP or CALL whose target starts no instruction already in this trace.</summary>
    private bool IsFollowable(in Instruction insn, ulong rip, int count)
    {
        if (insn.Code is not (Code.Jmp_rel8_64 or Code.Jmp_rel32_64 or Code.Call_rel32_64) || count >= MaxInstructions - 1)
        {
            return false;
        }

        var target = insn.NearBranch64;
        if (target == rip)
        {
            return false;
        }

        for (var i = 0; i < count; i++)
        {
            if (_insns[i].IP == target)
            {
                return false;
            }
        }

        return true;
    }

    private void AddPages(ulong ip, ulong length)
    {
        for (var page = ip & GuestMemory.PageMask; page <= ((ip + length - 1) & GuestMemory.PageMask); page += GuestMemory.PageSize)
        {
            if (!_pages.Contains(page))
            {
                _pages.Add(page);
            }
        }
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
