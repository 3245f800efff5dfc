using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu.Tests.Differential;

/// <summary>The state a case leaves behind, native or emulated.</summary>
internal sealed class CpuSnapshot
{
    /// <summary>True when the case ran to its end; otherwise <see cref="Exit"/> and <see cref="Rip"/> say where it stopped.</summary>
    public bool Finished { get; init; }

    public ExitReason Exit { get; init; }

    public ulong Rip { get; init; }

    public ulong FaultAddress { get; init; }

    public AccessKind FaultAccess { get; init; }

    public ulong[] Gpr { get; } = new ulong[16];

    public ulong Rflags { get; init; }

    public UInt128[] Xmm { get; } = new UInt128[16];

    public uint Mxcsr { get; init; }

    /// <summary>The FXSAVE image of the end state (its x87 part is what is compared).</summary>
    public byte[] Fx { get; } = new byte[TestProgram.FxSize];

    /// <summary>The scratch page after the case, or null when it is unchanged.</summary>
    public byte[]? Scratch { get; set; }
}

/// <summary>
/// Runs the cases of a <see cref="TestProgram"/> on a <see cref="CpuState"/>: the program is
/// loaded like the host kernel loads it, each case's state is put straight into the CPU, and a
/// <c>hlt</c> over the case's jump back to the driver ends it.
/// </summary>
internal sealed class Emulator : IDisposable, ICpuLog
{
    private const byte Hlt = 0xF4;
    private static readonly TimeSpan CaseTimeout = TimeSpan.FromSeconds(10);

    private readonly CpuState _cpu;
    private readonly List<string> _warnings = [];
    private readonly Timer _watchdog;
    private readonly byte[] _page = new byte[TestProgram.PageSize];

    public Emulator(TestProgram program)
    {
        Memory = new GuestMemory();
        ElfImage.Load(program.Elf, Memory);
        foreach (var code in program.Cases)
        {
            Memory.TryWriteInitial(code.End, [Hlt]);
        }

        _cpu = new CpuState(Memory, this);
        _watchdog = new Timer(_ => _cpu.RequestInterrupt());
    }

    public GuestMemory Memory { get; }

    public CpuSnapshot Run(DiffCase c, CaseCode code)
    {
        var cpu = _cpu;
        for (var g = 0; g < 16; g++)
        {
            cpu.Regs[g] = g == 4 ? code.StackTop : c.Gpr[g];
        }

        cpu.FsBase = 0;
        cpu.GsBase = 0;
        cpu.Rflags = c.Flags;
        for (var x = 0; x < 16; x++)
        {
            cpu.Xmm[x] = c.Xmm[x];
        }

        cpu.ResetFpu();
        cpu.Mxcsr = c.Mxcsr;
        var initial = Differential.InitialScratch(c);
        if (!Memory.TryWrite(Differential.ScratchAddress, initial))
        {
            throw new InvalidOperationException("the scratch page is not writable");
        }

        cpu.Rip = code.Start;
        _watchdog.Change(CaseTimeout, Timeout.InfiniteTimeSpan);
        var exit = cpu.Run();
        _watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        var snapshot = new CpuSnapshot
        {
            Finished = exit == ExitReason.GeneralProtection && cpu.Rip == code.End,
            Exit = exit,
            Rip = cpu.Rip,
            FaultAddress = cpu.FaultAddress,
            FaultAccess = cpu.FaultAccess,
            Rflags = cpu.Rflags,
            Mxcsr = cpu.Mxcsr,
        };
        for (var g = 0; g < 16; g++)
        {
            snapshot.Gpr[g] = cpu.Regs[g];
        }

        for (var x = 0; x < 16; x++)
        {
            snapshot.Xmm[x] = cpu.Xmm[x];
        }

        cpu.SaveFxState(snapshot.Fx);

        if (Memory.TryRead(Differential.ScratchAddress, _page) && !_page.AsSpan().SequenceEqual(initial))
        {
            snapshot.Scratch = (byte[])_page.Clone();
        }

        return snapshot;
    }

    /// <summary>Executor diagnostics since the last call (e.g. which instruction is unimplemented).</summary>
    public List<string> TakeWarnings()
    {
        lock (_warnings)
        {
            var w = _warnings.ToList();
            _warnings.Clear();
            return w;
        }
    }

    void ICpuLog.InvalidInstruction(string bytes, string message)
    {
        lock (_warnings)
        {
            _warnings.Add(message);
        }
    }

    public void Dispose()
    {
        _watchdog.Dispose();
        Memory.Dispose();
    }
}
