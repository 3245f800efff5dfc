using BenchmarkDotNet.Attributes;
using Iced.Intel;
using UserModeOS.Cpu;
using UserModeOS.Cpu.Memory;
using static Iced.Intel.AssemblerRegisters;

namespace UserModeOS.Bench;

/// <summary>
/// The interpreter alone: guest loops assembled with Iced, placed straight into a
/// <see cref="GuestMemory"/> and run on a <see cref="CpuState"/> until their final
/// <c>syscall</c>. No kernel is involved. OperationsPerInvoke is the number of guest
/// instructions each loop executes, so Mean is ns per guest instruction (see the
/// "Guest MIPS" column), and Allocated must stay 0: the run loop allocates nothing once
/// its blocks are decoded.
/// </summary>
public class ExecutorBenchmarks : IDisposable
{
    private const ulong CodeAddress = 0x40_0000;
    private const ulong IntegerLoopAddress = CodeAddress;
    private const ulong MemoryLoopAddress = CodeAddress + 0x1000;
    private const ulong BufferAddress = 0x1000_0000;
    private const int BufferBytes = 1 << 20;

    /// <summary>Iterations of the integer loop.</summary>
    public const int IntegerIterations = 1_000_000;

    /// <summary>mov ecx, N; N x (add, xor, dec, jnz); syscall.</summary>
    public const int IntegerInstructions = 1 + (4 * IntegerIterations) + 1;

    /// <summary>Passes of the memory loop over the 1 MiB buffer.</summary>
    public const int MemoryPasses = 4;

    private const int MemoryQwords = BufferBytes / 8;

    /// <summary>mov r8d, P; P x (mov, mov, Q x (load, add, xor, store, add, dec, jnz), dec, jnz); syscall.</summary>
    public const int MemoryInstructions = 1 + (MemoryPasses * (2 + (7 * MemoryQwords) + 2)) + 1;

    private GuestMemory _memory = null!;
    private CpuState _cpu = null!;

    [GlobalSetup]
    public void Setup()
    {
        _memory = new GuestMemory();
        _memory.MapPage(IntegerLoopAddress, PageProt.Read | PageProt.Exec, Assemble(IntegerLoop, IntegerLoopAddress));
        _memory.MapPage(MemoryLoopAddress, PageProt.Read | PageProt.Exec, Assemble(MemoryLoop, MemoryLoopAddress));
        var fill = new byte[GuestMemory.PageSize];
        for (ulong page = 0; page < BufferBytes; page += GuestMemory.PageSize)
        {
            Random.Shared.NextBytes(fill);
            _memory.MapPage(BufferAddress + page, PageProt.Read | PageProt.Write, fill);
        }

        _cpu = new CpuState(_memory, new ConsoleLog());

        // Decode the blocks once and check the instruction counts OperationsPerInvoke claims.
        Check(nameof(IntegerLoop), IntegerLoopAddress, IntegerInstructions);
        Check(nameof(MemoryLoop), MemoryLoopAddress, MemoryInstructions);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _memory?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary><c>l: add rax, rcx; xor rdx, rax; dec rcx; jnz l</c>, 1M iterations.</summary>
    [Benchmark(OperationsPerInvoke = IntegerInstructions)]
    public ulong IntegerLoop() => RunAt(IntegerLoopAddress);

    /// <summary>Load, add, xor, store every qword of a 1 MiB buffer, 4 passes.</summary>
    [Benchmark(OperationsPerInvoke = MemoryInstructions)]
    public ulong MemoryLoop() => RunAt(MemoryLoopAddress);

    private ulong RunAt(ulong rip)
    {
        var cpu = _cpu;
        cpu.Rip = rip;
        if (cpu.Run() != ExitReason.Syscall)
        {
            throw new InvalidOperationException($"guest loop stopped with {cpu.Exit} at 0x{cpu.Rip:x}");
        }

        return cpu[Reg.Rdx];
    }

    private void Check(string name, ulong rip, long expected)
    {
        var before = _cpu.InstructionCount;
        RunAt(rip);
        var counted = _cpu.InstructionCount - before;
        if (counted != expected)
        {
            Console.WriteLine($"// note: {name}: the CPU counted {counted} instructions, OperationsPerInvoke says {expected}");
        }
    }

    private static void IntegerLoop(Assembler a)
    {
        var loop = a.CreateLabel();
        a.mov(ecx, IntegerIterations);
        a.Label(ref loop);
        a.add(rax, rcx);
        a.xor(rdx, rax);
        a.dec(rcx);
        a.jnz(loop);
        a.syscall();
    }

    private static void MemoryLoop(Assembler a)
    {
        var outer = a.CreateLabel();
        var inner = a.CreateLabel();
        a.mov(r8d, MemoryPasses);
        a.Label(ref outer);
        a.mov(esi, (uint)BufferAddress);
        a.mov(ecx, MemoryQwords);
        a.Label(ref inner);
        a.mov(rax, __qword_ptr[rsi]);
        a.add(rdx, rax);
        a.xor(rax, rdx);
        a.mov(__qword_ptr[rsi], rax);
        a.add(rsi, 8);
        a.dec(rcx);
        a.jnz(inner);
        a.dec(r8);
        a.jnz(outer);
        a.syscall();
    }

    internal static byte[] Assemble(Action<Assembler> emit, ulong address)
    {
        var a = new Assembler(64);
        emit(a);
        var stream = new MemoryStream();
        a.Assemble(new StreamCodeWriter(stream), address);
        return stream.ToArray();
    }

    private sealed class ConsoleLog : ICpuLog
    {
        public void InvalidInstruction(string bytes, string message) => Console.WriteLine($"// cpu: {message}");
    }
}
