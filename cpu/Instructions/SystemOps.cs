using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>SYSCALL, the NOP family, HLT and other instructions that talk to the machine.</summary>
internal static unsafe class SystemOps
{
    public static void Register()
    {
        OpTable.AddMnemonic(Mnemonic.Syscall, Simple(&Syscall));
        OpTable.AddMnemonic(Mnemonic.Nop, Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Endbr64, Simple(&Nop));
        OpTable.AddMnemonic(Mnemonic.Hlt, Simple(&Privileged));
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

    private static int Privileged(CpuState c, Op* op) => c.ExitAt(op, ExitReason.GeneralProtection);
}
