using System.Diagnostics;
using System.Text;
using UserModeOS.Cpu;
using UserModeOS.Kernel.Sched;

namespace UserModeOS.Kernel;

/// <summary>
/// A guest thread (Linux's task_struct): a CPU state run by its own host thread, in a
/// thread group. The loop is: run guest code until it needs the kernel, handle that,
/// deliver pending signals, repeat.
/// </summary>
public sealed partial class Task
{
    private Thread? _thread;
    private volatile bool _exitRequested;

    internal Task(ThreadGroup group, int tid, CpuState cpu)
    {
        Group = group;
        Tid = tid;
        Cpu = cpu;
    }

    public ThreadGroup Group { get; }
    public Kernel Kernel => Group.Kernel;
    public int Tid { get; }
    public CpuState Cpu { get; }

    private string? _comm;

    /// <summary>
    /// The thread's name (PR_SET_NAME, /proc/self/task/N/comm); the process's until set. The
    /// main thread's name is the process's name, as in Linux.
    /// </summary>
    public string Comm
    {
        get => _comm ?? Group.Comm;
        set
        {
            if (Tid == Group.Pid)
            {
                Group.Comm = value;
                _comm = null;
            }
            else
            {
                _comm = value;
            }
        }
    }

    /// <summary>PR_SET_PDEATHSIG: the signal this thread gets when its parent dies.</summary>
    public int ParentDeathSignal { get; set; }

    /// <summary>
    /// Who this task is (its objective and subjective credentials, which we do not tell apart:
    /// only access(2) acts with other ids, and it passes them explicitly). The main thread's
    /// are the process's, as /proc/[pid]/status and kill(2) see them.
    /// </summary>
    public Credentials Cred
    {
        get => _cred;
        set
        {
            _cred = value;
            if (Tid == Group.Pid)
            {
                Group.Cred = value;
            }
        }
    }

    private Credentials _cred = Credentials.Root;

    /// <summary>PR_SET_NO_NEW_PRIVS.</summary>
    public bool NoNewPrivileges { get; set; }

    /// <summary>Blocked signals (rt_sigprocmask).</summary>
    public ulong SignalMask { get; set; }

    /// <summary>Signals sent to this thread only (tgkill, faults).</summary>
    public PendingSignals Pending { get; } = new();

    /// <summary>set_tid_address / CLONE_CHILD_CLEARTID: cleared and futex-woken when the task exits.</summary>
    public ulong ClearChildTid { get; set; }

    /// <summary>set_robust_list head.</summary>
    public ulong RobustListHead { get; set; }

    /// <summary>The exit(2) status of this thread as a wait status.</summary>
    public int ExitStatus { get; private set; }

    /// <summary>The wait queue this task is blocked on, so a signal can wake it.</summary>
    internal volatile WaitQueue? BlockedOn;

    /// <summary>
    /// CPU time this task has used: its lifetime minus the time it spent blocked on wait
    /// queues. Keeping it this way costs nothing per syscall or per guest block.
    /// </summary>
    public TimeSpan CpuTime
    {
        get
        {
            var now = Stopwatch.GetTimestamp();
            var blocked = Interlocked.Read(ref _blockedTicks);
            var since = Interlocked.Read(ref _blockedSince);
            if (since != 0)
            {
                blocked += now - since;
            }

            return Stopwatch.GetElapsedTime(_startTimestamp, now - blocked);
        }
    }

    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private long _blockedTicks;
    private long _blockedSince;

    internal void BlockBegin() => Interlocked.Exchange(ref _blockedSince, Stopwatch.GetTimestamp());

    internal void BlockEnd()
    {
        var since = Interlocked.Exchange(ref _blockedSince, 0);
        if (since != 0)
        {
            Interlocked.Add(ref _blockedTicks, Stopwatch.GetTimestamp() - since);
        }
    }

    /// <summary>True when the task must leave a blocking call: a deliverable signal, or its death.</summary>
    public bool HasPendingInterruption =>
        _exitRequested || Group.IsExiting ||
        ((Pending.Mask | Group.SharedPending.Mask) & ~SignalMask) != 0;

    /// <summary>Starts the host thread that runs this task.</summary>
    public void Start()
    {
        _thread = new Thread(Run, 4 << 20)
        {
            IsBackground = true,
            Name = $"umos task {Tid}",
        };
        _thread.Start();
    }

    /// <summary>exit(2): ends this thread only.</summary>
    public void ExitThread(int code)
    {
        ExitStatus = ThreadGroup.ExitedStatus(code);
        _exitRequested = true;
    }

    /// <summary>Makes the task notice a signal or its death: leave guest code and any blocking call.</summary>
    public void Interrupt()
    {
        Cpu.RequestInterrupt();
        BlockedOn?.WakeAll();
    }

    /// <summary>Ends this thread because another thread of its group is replacing the program (execve).</summary>
    internal void Kill()
    {
        _exitRequested = true;
        Interrupt();
    }

    /// <summary>Waits until the host thread has finished (used by execve when ending the other threads).</summary>
    internal void Join() => _thread?.Join();

    private void Run()
    {
        try
        {
            while (!_exitRequested && !Group.IsExiting)
            {
                if (Group.State == ProcessState.Stopped)
                {
                    WaitWhileStopped();
                    continue;
                }

                switch (Cpu.Run())
                {
                    case ExitReason.Syscall:
                        SyscallNumber = Cpu[Reg.Rax];
                        Kernel.Syscalls.Dispatch(this);
                        if ((long)Cpu[Reg.Rax] is -(long)Errno.ERESTARTSYS or -(long)Errno.ERESTARTNOINTR or
                            -(long)Errno.ERESTARTNOHAND or -(long)Errno.ERESTART_RESTARTBLOCK)
                        {
                            PendingRestart = (long)Cpu[Reg.Rax];
                        }

                        break;
                    case ExitReason.PageFault when Group.Mm.TakeBusError(Cpu.FaultAddress):
                        ForceSignal(SigInfo.Fault(Signals.SIGBUS, SigInfo.BusAdrErr, Cpu.FaultAddress), TrapPageFault);
                        break;
                    case ExitReason.PageFault:
                        // Linux's rule: an address inside a mapping is an access error, otherwise a mapping error
                        // (pages are populated lazily, so whether the page is present says nothing).
                        ForceSignal(SigInfo.Fault(Signals.SIGSEGV, Cpu.FaultOnPresentPage || Group.Mm.Find(Cpu.FaultAddress) is not null ? SigInfo.SegvAccErr : SigInfo.SegvMapErr, Cpu.FaultAddress), TrapPageFault);
                        break;
                    case ExitReason.InvalidOpcode:
                        ForceSignal(SigInfo.Fault(Signals.SIGILL, SigInfo.IllIllOpn, Cpu.Rip), TrapInvalidOpcode);
                        break;
                    case ExitReason.DivideError:
                        ForceSignal(SigInfo.Fault(Signals.SIGFPE, SigInfo.FpeIntDiv, Cpu.Rip), TrapDivideError);
                        break;
                    case ExitReason.FloatingPointError:
                        ForceSignal(SigInfo.Fault(Signals.SIGFPE, SigInfo.FloatingPointCode(Cpu.X87PendingExceptions), Cpu.Rip), TrapFloatingPoint);
                        break;
                    case ExitReason.Breakpoint:
                        ForceSignal(SigInfo.Fault(Signals.SIGTRAP, SigInfo.SiKernel, 0), TrapBreakpoint);
                        break;
                    case ExitReason.GeneralProtection:
                        ForceSignal(SigInfo.Fault(Signals.SIGSEGV, SigInfo.SiKernel, 0), TrapGeneralProtection);
                        break;
                }

                DeliverSignals();
            }
        }
        catch (Exception e)
        {
            // A bug in our kernel must not take the host down: the guest dies instead, loudly.
            Kernel.Log.Warn($"internal error in pid {Group.Pid} tid {Tid} at rip 0x{Cpu.Rip:x}: {e}");
            Group.Exit(ThreadGroup.KilledStatus(Signals.SIGSYS));
        }
        finally
        {
            ExitCleanup();
            Group.TaskExited(this);

            // The task no longer counts against the instance's limit; a process's main thread
            // does until the process is reaped (a zombie still holds its pid).
            if (Tid != Group.Pid)
            {
                Kernel.TaskGone(this);
            }
        }
    }

    private void WaitWhileStopped() =>
        Group.StopEvents.Wait(null, () => Group.State != ProcessState.Stopped || Group.IsExiting || _exitRequested);

    /// <summary>What a thread does on its way out: clear_child_tid and wake its futex (set_tid_address(2)).</summary>
    private void ExitCleanup()
    {
        Kernel.Futexes.ReleaseRobustList(this);
        if (ClearChildTid != 0 && !Group.IsExiting)
        {
            Span<byte> zero = stackalloc byte[4];
            if (CopyOut(ClearChildTid, zero))
            {
                Kernel.Futexes.Wake(this, ClearChildTid, 1, uint.MaxValue, isPrivate: false);
            }
        }
    }

    /// <summary>copy_from_user into a span; false on a bad address.</summary>
    public bool CopyIn(ulong address, Span<byte> destination) => Cpu.Memory.TryRead(address, destination);

    /// <summary>copy_to_user; false on a bad address.</summary>
    public bool CopyOut(ulong address, ReadOnlySpan<byte> source) => Cpu.Memory.TryWrite(address, source);

    /// <summary>Reads a NUL-terminated string of at most <paramref name="max"/> bytes; null on a bad address or no terminator.</summary>
    public string? ReadString(ulong address, int max = 4096)
    {
        var bytes = new List<byte>();
        Span<byte> chunk = stackalloc byte[64];
        while (bytes.Count < max)
        {
            // Read up to the end of the page only, so a string ending just before an unmapped page works.
            var inPage = (int)Math.Min((ulong)chunk.Length, 4096 - ((address + (ulong)bytes.Count) & 4095));
            var piece = chunk[..inPage];
            if (!Cpu.Memory.TryRead(address + (ulong)bytes.Count, piece))
            {
                return null;
            }

            var nul = piece.IndexOf((byte)0);
            if (nul >= 0)
            {
                foreach (var b in piece[..nul])
                {
                    bytes.Add(b);
                }

                return bytes.Count <= max ? Encoding.UTF8.GetString(bytes.ToArray()) : null;
            }

            foreach (var b in piece)
            {
                bytes.Add(b);
            }
        }

        return null;
    }
}
