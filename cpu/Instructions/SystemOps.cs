using System.Diagnostics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>SYSCALL, CPUID, RDTSC, the NOP/hint/fence family, traps and other instructions that talk to the machine.</summary>
internal static unsafe class SystemOps
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Syscall, Simple(&Syscall));
        OpTable.AddMnemonic(Mnemonic.Nop, Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Endbr64, Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Hlt, Simple(&Privileged));
        OpTable.AddMnemonic(Mnemonic.Int, Simple(&Privileged));
        OpTable.AddMnemonic(Mnemonic.Int3, Simple(&Breakpoint));

        // INT1 (ICEBP) raises #DB, which Linux reports as SIGTRAP after the instruction: closest to INT3.
        OpTable.AddMnemonic(Mnemonic.Int1, Simple(&Breakpoint));

        // Deliberately undefined opcodes: #UD without the "unimplemented" diagnostic.
        OpTable.AddMnemonic(Mnemonic.Ud2, Simple(&InvalidOpcode));
        OpTable.AddMnemonic(Mnemonic.Ud1, Simple(&InvalidOpcode));
        OpTable.AddMnemonic(Mnemonic.Ud0, Simple(&InvalidOpcode));

        OpTable.AddMnemonic(Mnemonic.Cpuid, Simple(&Cpuid));
        OpTable.AddMnemonic(Mnemonic.Rdtsc, Simple(&Rdtsc));
        OpTable.AddMnemonic(Mnemonic.Rdtscp, Simple(&Rdtscp));

        // Hints and fences. Guest threads run on host threads, so the fences are real
        // barriers; prefetches and the reserved hint NOPs (0F 18-1F) have no effect at all.
        OpTable.AddMnemonic(Mnemonic.Pause, Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Lfence, Simple(&Fence));
        OpTable.AddMnemonic(Mnemonic.Mfence, Simple(&Fence));
        OpTable.AddMnemonic(Mnemonic.Sfence, Simple(&Fence));
        foreach (var m in new[]
        {
            Mnemonic.Prefetchnta, Mnemonic.Prefetcht0, Mnemonic.Prefetcht1, Mnemonic.Prefetcht2, Mnemonic.Prefetch,
            Mnemonic.Prefetchw, Mnemonic.Prefetchwt1, Mnemonic.Prefetchit0, Mnemonic.Prefetchit1, Mnemonic.Reservednop,
        })
        {
            OpTable.AddMnemonic(m, Simple(&Nop));
        }

        // CLFLUSH/CLFLUSHOPT have nothing to flush, but fault on an unmapped line like a read.
        OpTable.AddMnemonic(Mnemonic.Clflush, BuildProbe);
        OpTable.AddMnemonic(Mnemonic.Clflushopt, BuildProbe);
    }

    private static bool BuildProbe(in Instruction insn, ref Op op)
    {
        op.Handler = &Probe;
        return Operands.Mem(insn, ref op);
    }

    /// <summary>A builder for instructions whose op needs no fields.</summary>
    internal static OpBuilder Simple(delegate*<CpuState, Op*, int> handler) => (in Instruction _, ref Op op) =>
    {
        op.Handler = handler;
        return true;
    };

    private static int Syscall(CpuState c, Op* op)
    {
        // SYSCALL leaves the return address in RCX and RFLAGS in R11 (Intel SDM, SYSCALL).
        c[Reg.Rcx] = op->NextRip;
        c[Reg.R11] = c.Rflags;
        c.Rip = op->NextRip;
        c.Exit = ExitReason.Syscall;
        return 1;
    }

    private static int Nop(CpuState c, Op* op) => 0;

    private static int Fence(CpuState c, Op* op)
    {
        Interlocked.MemoryBarrier();
        return 0;
    }

    private static int Probe(CpuState c, Op* op)
    {
        c.Read8(c.Ea(op));
        return 0;
    }

    private static int Breakpoint(CpuState c, Op* op)
    {
        // #BP is a trap: RIP already points past the instruction.
        c.Rip = op->NextRip;
        c.Exit = ExitReason.Breakpoint;
        return 1;
    }

    private static int InvalidOpcode(CpuState c, Op* op) => c.ExitAt(op, ExitReason.InvalidOpcode);

    private static int Cpuid(CpuState c, Op* op)
    {
        var (a, b, cx, d) = CpuFeatures.Query((uint)c[Reg.Rax], (uint)c[Reg.Rcx]);
        c[Reg.Rax] = a;
        c[Reg.Rbx] = b;
        c[Reg.Rcx] = cx;
        c[Reg.Rdx] = d;
        return 0;
    }

    private static int Rdtsc(CpuState c, Op* op)
    {
        var t = Tsc();
        c[Reg.Rax] = (uint)t;
        c[Reg.Rdx] = t >> 32;
        return 0;
    }

    private static int Rdtscp(CpuState c, Op* op)
    {
        var t = Tsc();
        c[Reg.Rax] = (uint)t;
        c[Reg.Rdx] = t >> 32;

        // IA32_TSC_AUX: Linux stores the CPU number there; we report CPU 0.
        c[Reg.Rcx] = 0;
        return 0;
    }

    /// <summary>
    /// A time-stamp counter ticking at a nominal 1 GHz from the host's monotonic clock, so it
    /// increases monotonically and at the same rate on every guest thread (an invariant TSC).
    /// </summary>
    internal static ulong Tsc()
    {
        var t = (ulong)Stopwatch.GetTimestamp();
        var f = (ulong)Stopwatch.Frequency;
        return f == 1_000_000_000 ? t : (ulong)((UInt128)t * 1_000_000_000 / f);
    }

    private static int Privileged(CpuState c, Op* op) => c.ExitAt(op, ExitReason.GeneralProtection);
}
