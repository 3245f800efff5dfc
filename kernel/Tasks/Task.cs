using System.Text;
using UserModeOS.Cpu;

namespace UserModeOS.Kernel;

/// <summary>
/// A guest thread (Linux's task_struct): a CPU state run by its own host thread, in a
/// thread group. The loop is: run guest code until it needs the kernel, handle that,
/// deliver pending signals, repeat.
/// </summary>
public sealed class Task
{
    private Thread? _thread;

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

    /// <summary>Blocked signals (rt_sigprocmask).</summary>
    public ulong SignalMask { get; set; }

    /// <summary>set_tid_address: cleared and futex-woken when the task exits.</summary>
    public ulong ClearChildTid { get; set; }

    /// <summary>set_robust_list head and length.</summary>
    public ulong RobustListHead { get; set; }

    /// <summary>The exit(2) status of this thread as a wait status.</summary>
    public int ExitStatus { get; private set; }

    private bool _exitRequested;

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

    private void Run()
    {
        try
        {
            while (!_exitRequested && !Group.IsExiting)
            {
                var exit = Cpu.Run();
                switch (exit)
                {
                    case ExitReason.Syscall:
                        Kernel.Syscalls.Dispatch(this);
                        break;
                    case ExitReason.PageFault:
                        Fault(Signals.SIGSEGV, $"address 0x{Cpu.FaultAddress:x}");
                        break;
                    case ExitReason.InvalidOpcode:
                        Fault(Signals.SIGILL, "invalid instruction");
                        break;
                    case ExitReason.DivideError:
                        Fault(Signals.SIGFPE, "integer divide error");
                        break;
                    case ExitReason.Breakpoint:
                        Fault(Signals.SIGTRAP, "breakpoint");
                        break;
                    case ExitReason.GeneralProtection:
                        Fault(Signals.SIGSEGV, "general protection fault");
                        break;
                }
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
            Group.TaskExited(this);
        }
    }

    /// <summary>
    /// A synchronous signal from the CPU. Until signal delivery exists, every such signal
    /// takes its default action: the process dies.
    /// </summary>
    private void Fault(int signal, string detail)
    {
        Kernel.Log.Warn($"pid {Group.Pid} ({Group.Comm}) killed by {Signals.Name(signal)}: {detail} at rip 0x{Cpu.Rip:x}");
        Group.Exit(ThreadGroup.KilledStatus(signal));
    }

    /// <summary>copy_from_user into a span; false on a bad address.</summary>
    public bool CopyIn(ulong address, Span<byte> destination) => Cpu.Memory.TryRead(address, destination);

    /// <summary>copy_to_user; false on a bad address.</summary>
    public bool CopyOut(ulong address, ReadOnlySpan<byte> source) => Cpu.Memory.TryWrite(address, source);

    /// <summary>Reads a NUL-terminated string of at most <paramref name="max"/> bytes; null on a bad address or no terminator.</summary>
    public string? ReadString(ulong address, int max = 4096)
    {
        var bytes = new List<byte>();
        Span<byte> chunk = stackalloc byte[1];
        while (bytes.Count < max)
        {
            if (!Cpu.Memory.TryRead(address + (ulong)bytes.Count, chunk))
            {
                return null;
            }

            if (chunk[0] == 0)
            {
                return Encoding.UTF8.GetString(bytes.ToArray());
            }

            bytes.Add(chunk[0]);
        }

        return null;
    }
}
