using System.Buffers.Binary;
using UserModeOS.Cpu;

namespace UserModeOS.Kernel;

// Signal delivery to a task: pick a pending signal, take its action (ignore, a default
// action, or a handler on a real rt_sigframe), and rt_sigreturn back (signal(7), sigaction(2)).
public sealed partial class Task
{
    private const int TrapDivideError = 0, TrapBreakpoint = 3, TrapInvalidOpcode = 6, TrapGeneralProtection = 13, TrapPageFault = 14, TrapFloatingPoint = 16;

    /// <summary>sigaltstack(2) state.</summary>
    public ulong AltStackBase { get; set; }

    public ulong AltStackSize { get; set; }

    public bool AltStackDisabled { get; set; } = true;

    public const int SsOnStack = 1, SsDisable = 2;

    /// <summary>The mask to restore after the handler when a call (sigsuspend, ppoll) changed it temporarily.</summary>
    public ulong? SavedSignalMask { get; set; }

    /// <summary>The syscall number of the call being made (orig_rax), for restarts.</summary>
    public ulong SyscallNumber { get; set; }

    /// <summary>A restart code (-ERESTART*) the last syscall returned, waiting for signal delivery to settle it.</summary>
    public long PendingRestart { get; set; }

    private int _trapNumber;

    public bool IsOnAltStack(ulong sp) => !AltStackDisabled && sp - AltStackBase < AltStackSize;

    /// <summary>
    /// A signal caused by the instruction just executed (force_sig): if it is blocked or
    /// ignored it cannot be put off, so its default action applies.
    /// </summary>
    private void ForceSignal(SigInfo info, int trap)
    {
        _trapNumber = trap;
        var sig = info.Signo;
        var bit = PendingSignals.Bit(sig);
        if ((SignalMask & bit) != 0 || Group.Handlers[sig].Handler == SigAction.Ignore)
        {
            Group.Handlers[sig] = default;
            SignalMask &= ~bit;
        }

        Pending.Add(info);
    }

    /// <summary>Delivers pending signals before returning to guest code.</summary>
    private void DeliverSignals()
    {
        // The common case after a syscall: nothing to deliver, nothing to restart.
        if (((Pending.Mask | Group.SharedPending.Mask) & ~SignalMask) == 0 && PendingRestart == 0 && SavedSignalMask is null)
        {
            return;
        }

        var handlerRan = false;
        while (!_exitRequested && !Group.IsExiting && Group.State != ProcessState.Stopped)
        {
            var info = Pending.Take(SignalMask) ?? Group.SharedPending.Take(SignalMask);
            if (info is null)
            {
                break;
            }

            var sig = info.Signo;
            var action = Group.Handlers[sig];
            if (action.Handler == SigAction.Ignore)
            {
                continue;
            }

            if (action.Handler == SigAction.Default)
            {
                TakeDefaultAction(info);
                continue;
            }

            SettleRestart(action);
            SetupFrame(info, action);
            handlerRan = true;
            break;
        }

        if (!handlerRan && PendingRestart != 0)
        {
            // No handler ran: the interrupted call simply starts again.
            RewindSyscall();
        }

        if (!handlerRan && SavedSignalMask is { } saved && PendingRestart == 0)
        {
            SignalMask = saved;
            SavedSignalMask = null;
        }
    }

    private void TakeDefaultAction(SigInfo info)
    {
        var sig = info.Signo;
        switch (sig)
        {
            case Signals.SIGCHLD or Signals.SIGURG or Signals.SIGWINCH or Signals.SIGCONT:
                return;
            case Signals.SIGSTOP or Signals.SIGTSTP or Signals.SIGTTIN or Signals.SIGTTOU:
                Kernel.StopProcess(Group, sig);
                return;
            default:
                if (Signals.DumpsCore(sig) && info.Layout == SigInfoLayout.Fault)
                {
                    Kernel.Log.Warn($"pid {Group.Pid} ({Group.Comm}) killed by {Signals.Name(sig)} at rip 0x{Cpu.Rip:x}" +
                        (sig == Signals.SIGSEGV ? $", address 0x{info.Address:x}" : ""));
                }

                Group.Exit(ThreadGroup.KilledStatus(sig));
                return;
        }
    }

    /// <summary>An interrupted syscall and a handler about to run: restart the call, or fail it with EINTR.</summary>
    private void SettleRestart(SigAction action)
    {
        var code = (Errno)(-PendingRestart);
        if (PendingRestart == 0)
        {
            return;
        }

        if (code == Errno.ERESTARTNOINTR || (code == Errno.ERESTARTSYS && (action.Flags & SignalHandlers.SaRestart) != 0))
        {
            RewindSyscall();
        }
        else
        {
            Cpu[Reg.Rax] = unchecked((ulong)-(long)Errno.EINTR);
            PendingRestart = 0;
        }
    }

    private void RewindSyscall()
    {
        // The syscall instruction is two bytes; running it again repeats the call.
        Cpu[Reg.Rax] = SyscallNumber;
        Cpu.Rip -= 2;
        PendingRestart = 0;
    }

    // struct rt_sigframe (arch/x86/include/asm/sigframe.h): pretcode, ucontext, siginfo.
    private const int UcOffset = 8;
    private const int UcStackOffset = UcOffset + 16;
    private const int McontextOffset = UcOffset + 40;
    private const int UcSigmaskOffset = McontextOffset + 256;
    private const int InfoOffset = UcSigmaskOffset + 8;
    private const int FrameSize = InfoOffset + SigInfo.Size;
    private const int FpStateSize = 512;
    private const ulong RedZone = 128;

    // sigcontext register order (arch/x86/include/uapi/asm/sigcontext.h).
    private static readonly Reg[] McontextRegs =
    {
        Reg.R8, Reg.R9, Reg.R10, Reg.R11, Reg.R12, Reg.R13, Reg.R14, Reg.R15,
        Reg.Rdi, Reg.Rsi, Reg.Rbp, Reg.Rbx, Reg.Rdx, Reg.Rax, Reg.Rcx, Reg.Rsp,
    };

    private void SetupFrame(SigInfo info, SigAction action)
    {
        var sig = info.Signo;
        var oldMask = SavedSignalMask ?? SignalMask;
        SavedSignalMask = null;
        var rsp = Cpu[Reg.Rsp];
        var onAltStack = IsOnAltStack(rsp);
        ulong sp;
        if ((action.Flags & SignalHandlers.SaOnStack) != 0 && !AltStackDisabled && !onAltStack)
        {
            sp = AltStackBase + AltStackSize;
        }
        else
        {
            sp = rsp - RedZone;
        }

        sp -= FpStateSize;
        sp &= ~63UL;
        var fpState = sp;
        sp -= FrameSize;
        sp = ((sp + 8) & ~15UL) - 8;

        var frame = new byte[FrameSize];
        var f = frame.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(f, action.Restorer);

        // uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, as 64-bit Linux sets them.
        BinaryPrimitives.WriteUInt64LittleEndian(f[UcOffset..], 6);
        BinaryPrimitives.WriteUInt64LittleEndian(f[UcStackOffset..], AltStackBase);
        BinaryPrimitives.WriteInt32LittleEndian(f[(UcStackOffset + 8)..], AltStackDisabled ? SsDisable : onAltStack ? SsOnStack : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(f[(UcStackOffset + 16)..], AltStackSize);

        var m = f[McontextOffset..];
        for (var i = 0; i < McontextRegs.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(m[(i * 8)..], Cpu[McontextRegs[i]]);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(m[128..], Cpu.Rip);
        BinaryPrimitives.WriteUInt64LittleEndian(m[136..], Cpu.Rflags);
        BinaryPrimitives.WriteUInt16LittleEndian(m[144..], 0x33);
        BinaryPrimitives.WriteUInt16LittleEndian(m[150..], 0x2B);
        BinaryPrimitives.WriteUInt64LittleEndian(m[160..], info.Layout == SigInfoLayout.Fault ? (ulong)_trapNumber : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(m[168..], oldMask);
        BinaryPrimitives.WriteUInt64LittleEndian(m[176..], info.Layout == SigInfoLayout.Fault ? info.Address : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(m[184..], fpState);
        BinaryPrimitives.WriteUInt64LittleEndian(f[UcSigmaskOffset..], oldMask);
        info.Write(f[InfoOffset..]);

        var fp = new byte[FpStateSize];
        Cpu.SaveFxState(fp);
        if (!CopyOut(fpState, fp) || !CopyOut(sp, frame))
        {
            // No room for the frame (a broken stack): Linux kills with SIGSEGV.
            Kernel.Log.Warn($"pid {Group.Pid} ({Group.Comm}): cannot write the {Signals.Name(sig)} frame at 0x{sp:x}; killed by SIGSEGV");
            Group.Exit(ThreadGroup.KilledStatus(Signals.SIGSEGV));
            return;
        }

        if ((action.Flags & SignalHandlers.SaResetHand) != 0)
        {
            Group.Handlers[sig] = default;
        }

        var block = action.Mask;
        if ((action.Flags & SignalHandlers.SaNoDefer) == 0)
        {
            block |= PendingSignals.Bit(sig);
        }

        SignalMask = (oldMask | block) & ~Signals.Unblockable;

        Cpu[Reg.Rdi] = (ulong)sig;
        Cpu[Reg.Rsi] = sp + InfoOffset;
        Cpu[Reg.Rdx] = sp + UcOffset;
        Cpu[Reg.Rax] = 0;
        Cpu[Reg.Rsp] = sp;
        Cpu.Rip = action.Handler;

        // The handler starts with DF clear (the ABI) and no single-stepping.
        Cpu.Rflags &= ~(CpuState.DF | 0x100UL);
    }

    /// <summary>rt_sigreturn(2): restores what <see cref="SetupFrame"/> saved; returns the restored RAX.</summary>
    public long SigReturn()
    {
        // The handler's ret popped pretcode, so the frame starts 8 bytes below RSP.
        var sp = Cpu[Reg.Rsp] - 8;
        var frame = new byte[FrameSize];
        if (!CopyIn(sp, frame))
        {
            Group.Exit(ThreadGroup.KilledStatus(Signals.SIGSEGV));
            return 0;
        }

        var f = frame.AsSpan();
        var m = f[McontextOffset..];
        for (var i = 0; i < McontextRegs.Length; i++)
        {
            Cpu[McontextRegs[i]] = BinaryPrimitives.ReadUInt64LittleEndian(m[(i * 8)..]);
        }

        Cpu.Rip = BinaryPrimitives.ReadUInt64LittleEndian(m[128..]);

        // Only the flags user code may change come back (Linux's FIX_EFLAGS).
        const ulong UserFlags = 0x40DD5 | 0x100;
        var flags = BinaryPrimitives.ReadUInt64LittleEndian(m[136..]);
        Cpu.Rflags = (Cpu.Rflags & ~UserFlags) | (flags & UserFlags);

        var fpState = BinaryPrimitives.ReadUInt64LittleEndian(m[184..]);
        if (fpState != 0)
        {
            var fp = new byte[FpStateSize];
            if (!CopyIn(fpState, fp) || !Cpu.RestoreFxState(fp))
            {
                Group.Exit(ThreadGroup.KilledStatus(Signals.SIGSEGV));
                return 0;
            }
        }

        SignalMask = BinaryPrimitives.ReadUInt64LittleEndian(f[UcSigmaskOffset..]) & ~Signals.Unblockable;
        PendingRestart = 0;
        return (long)Cpu[Reg.Rax];
    }
}
