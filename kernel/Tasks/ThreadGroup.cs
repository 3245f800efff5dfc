using UserModeOS.Kernel.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel;

/// <summary>
/// A process (Linux's thread group): the tasks that share one address space, fd table,
/// working directory and signal table, and the exit status the parent waits for.
/// </summary>
public sealed class ThreadGroup
{
    private readonly List<Task> _tasks = new();
    private readonly System.Threading.Tasks.TaskCompletionSource<int> _exited =
        new(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);

    private int _exitStatus = -1;

    internal ThreadGroup(Kernel kernel, int pid, AddressSpace mm, FdTable fds, string cwd)
    {
        Kernel = kernel;
        Pid = pid;
        Mm = mm;
        Fds = fds;
        Cwd = cwd;
    }

    public Kernel Kernel { get; }
    public int Pid { get; }
    public int ParentPid { get; init; }
    public AddressSpace Mm { get; internal set; }
    public FdTable Fds { get; }

    /// <summary>Current working directory, a normalised guest path.</summary>
    public string Cwd { get; set; }

    /// <summary>The program being run (what /proc/self/exe names).</summary>
    public string ExePath { get; internal set; } = "";

    /// <summary>The command name (comm): the program's file name, at most 15 bytes.</summary>
    public string Comm { get; set; } = "";

    public IReadOnlyList<string> Argv { get; internal set; } = Array.Empty<string>();
    public IReadOnlyList<string> Envp { get; internal set; } = Array.Empty<string>();

    public uint Umask { get; set; } = 0x12;

    /// <summary>Resource limits (getrlimit(2)), indexed by RLIMIT_* number.</summary>
    public ResourceLimit[] Limits { get; } = ResourceLimit.Defaults();

    /// <summary>Signal dispositions, indexed by signal number.</summary>
    public SigAction[] SignalActions { get; } = new SigAction[Signals.Max + 1];

    /// <summary>The wait(2) status once the whole group has exited, or -1.</summary>
    public int ExitStatus => Volatile.Read(ref _exitStatus);

    public bool IsExiting => ExitStatus >= 0;

    /// <summary>Completes with the wait(2) status when the last task is gone.</summary>
    public System.Threading.Tasks.Task<int> Exited => _exited.Task;

    public List<Task> Tasks()
    {
        lock (_tasks)
        {
            return new List<Task>(_tasks);
        }
    }

    internal void AddTask(Task task)
    {
        lock (_tasks)
        {
            _tasks.Add(task);
        }
    }

    /// <summary>
    /// Starts the group's exit (exit_group, a fatal signal): every task stops at its next
    /// block boundary. The first status set wins.
    /// </summary>
    public void Exit(int waitStatus)
    {
        if (Interlocked.CompareExchange(ref _exitStatus, waitStatus, -1) != -1)
        {
            return;
        }

        foreach (var t in Tasks())
        {
            t.Cpu.RequestInterrupt();
        }
    }

    internal void TaskExited(Task task)
    {
        bool last;
        lock (_tasks)
        {
            _tasks.Remove(task);
            last = _tasks.Count == 0;
        }

        if (!last)
        {
            return;
        }

        // A group whose last thread called exit(2) exits with that thread's status.
        Interlocked.CompareExchange(ref _exitStatus, task.ExitStatus, -1);
        Fds.CloseAll();
        Mm.Dispose();
        Kernel.GroupExited(this);
        _exited.TrySetResult(ExitStatus);
    }

    /// <summary>The wait status of a normal exit with <paramref name="code"/>.</summary>
    public static int ExitedStatus(int code) => (code & 0xFF) << 8;

    /// <summary>The wait status of death by <paramref name="signal"/>.</summary>
    public static int KilledStatus(int signal) => signal | (Signals.DumpsCore(signal) ? 0x80 : 0);

    /// <summary>What a shell reports for a wait status: the exit code, or 128 + the signal.</summary>
    public static int ShellStatus(int waitStatus) =>
        (waitStatus & 0x7F) == 0 ? (waitStatus >> 8) & 0xFF : 128 + (waitStatus & 0x7F);
}
