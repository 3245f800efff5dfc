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
    private Instruction _previous;

    public BlockBuilder(CpuState cpu)
    {
        _cpu = cpu;
        _reader = new GuestCodeReader();
        _decoder = Decoder.Create(64, _reader, 0, DecoderOptions.None);
    }

    /// <summary>Decodes the block at <paramref name="rip"/>, or returns null after setting an exec fault.</summary>
    public Block? Build(ulong rip)
    {
        _ops.Clear();
        _reader.Begin(_cpu.Memory);
        var ip = rip;
        var count = 0;
        var open = true;
        while (open && count < MaxInstructions)
        {
            _reader.Reset(_cpu.Memory, ip);
            _decoder.IP = ip;
            _decoder.Decode(out var insn);
            var op = new Op { Rip = ip, Len = (byte)insn.Length, Base = RegSlot.Zero, Index = RegSlot.Zero, Seg = RegSlot.Zero };
            if (insn.IsInvalid && _decoder.LastError == DecoderError.NoMoreBytes)
            {
                if (count == 0)
                {
                    _cpu.SetExecFault(_reader.FaultAddress);
                    return null;
                }

                // The next instruction runs into an unmapped page: end here and fault
                // when (and if) execution gets there.
                break;
            }

            var undefined = insn.IsInvalid || !OpTable.Build(in insn, ref op);
            if (undefined)
            {
                op.Handler = &CoreOps.Undefined;
                op.Len = (byte)Math.Max(insn.Length, 1);
                open = false;
            }
            else
            {
                open = insn.FlowControl is FlowControl.Next;
            }

            // A block's last two instructions may fuse (compare-and-branch).
            if (!open && !undefined && _ops.Count > 0)
            {
                var first = _ops[^1];
                if (Fused.TryFuse(in _previous, in insn, ref first, in op))
                {
                    _ops[^1] = first;
                    count++;
                    ip += op.Len;
                    break;
                }
            }

            _previous = insn;
            _ops.Add(op);
            count++;
            ip += op.Len;
        }

        if (open || _ops.Count == 0)
        {
            _ops.Add(new Op { Handler = &CoreOps.FallThrough, Rip = ip, Imm = (long)ip });
        }

        var ops = GC.AllocateUninitializedArray<Op>(_ops.Count, pinned: true);
        _ops.CopyTo(ops);
        return new Block(rip, Math.Max(ip, rip + 1), ops, count);
    }

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
