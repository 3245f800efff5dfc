using UserModeOS.Kernel.Memory;
using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel;

/// <summary>Where a process is in its life, as wait(2) sees it.</summary>
public enum ProcessState
{
    Running,
    Stopped,

    /// <summary>Exited, waiting for its parent to collect the status.</summary>
    Zombie,

    /// <summary>Collected by wait(2) (or never had a waiting parent); gone from the process table.</summary>
    Reaped,
}

/// <summary>
/// A process (Linux's thread group): the tasks that share one address space, fd table,
/// filesystem context and signal handlers, its place in the process tree and the exit
/// status its parent waits for.
/// </summary>
public sealed class ThreadGroup
{
    private readonly List<Task> _tasks = new();
    private readonly List<ThreadGroup> _children = new();
    private readonly System.Threading.Tasks.TaskCompletionSource<int> _exited =
        new(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);

    private int _exitStatus = -1;

    internal ThreadGroup(Kernel kernel, int pid, ThreadGroup? parent, AddressSpace mm, FdTable fds, FsContext fs, SignalHandlers handlers)
    {
        Kernel = kernel;
        Pid = pid;
        Parent = parent;
        Mm = mm;
        Fds = fds;
        Fs = fs;
        Handlers = handlers;
        ProcessGroup = parent?.ProcessGroup ?? pid;
        Session = parent?.Session ?? pid;
        RealTimer = new RealTimer(this);
    }

    public Kernel Kernel { get; }
    public int Pid { get; }

    /// <summary>The parent process; orphans are adopted by the instance's init (pid 1).</summary>
    public ThreadGroup? Parent { get; internal set; }

    public int ParentPid => Parent?.Pid ?? 0;

    public int ProcessGroup { get; set; }
    public int Session { get; set; }

    public AddressSpace Mm { get; internal set; }
    public FdTable Fds { get; internal set; }
    public FsContext Fs { get; internal set; }
    public SignalHandlers Handlers { get; internal set; }

    /// <summary>Signals sent to the process as a whole (any thread may take them).</summary>
    public PendingSignals SharedPending { get; } = new();

    /// <summary>Woken when a child of this process changes state (wait4, waitid).</summary>
    public WaitQueue ChildEvents { get; } = new();

    /// <summary>Woken when a stopped process continues or dies.</summary>
    public WaitQueue StopEvents { get; } = new();

    /// <summary>The signal sent to the parent when this process dies (clone's exit signal; SIGCHLD for fork).</summary>
    public int ExitSignal { get; init; } = Signals.SIGCHLD;

    /// <summary>Working directory (shorthand for <see cref="Fs"/>).</summary>
    public string Cwd
    {
        get => Fs.Cwd;
        set => Fs.Cwd = value;
    }

    public uint Umask
    {
        get => Fs.Umask;
        set => Fs.Umask = value;
    }

    /// <summary>The program being run (what /proc/self/exe names).</summary>
    public string ExePath { get; internal set; } = "";

    /// <summary>The main thread's credentials (kept after it exits, for a zombie).</summary>
    public Credentials Cred { get; internal set; } = Credentials.Root;

    /// <summary>The command name (comm): the program's file name, at most 15 bytes.</summary>
    public string Comm { get; set; } = "";

    public IReadOnlyList<string> Argv { get; internal set; } = Array.Empty<string>();
    public IReadOnlyList<string> Envp { get; internal set; } = Array.Empty<string>();

    /// <summary>The auxiliary vector execve gave the program, as raw pairs (/proc/[pid]/auxv).</summary>
    public byte[] Auxv { get; internal set; } = [];

    /// <summary>Resource limits (getrlimit(2)), indexed by RLIMIT_* number.</summary>
    public ResourceLimit[] Limits { get; internal set; } = ResourceLimit.Defaults();

    public ProcessState State { get; internal set; }

    /// <summary>personality(2): the execution domain and flags (ADDR_NO_RANDOMIZE), kept across execve and fork.</summary>
    public uint Personality { get; set; }

    /// <summary>PR_SET_DUMPABLE.</summary>
    public bool Dumpable { get; set; } = true;

    /// <summary>A state change the parent has not collected with WUNTRACED/WCONTINUED yet (a wait status), or 0.</summary>
    internal int UnreportedStopStatus { get; set; }

    /// <summary>The process has called execve since it was forked (Linux's !PF_FORKNOEXEC): its parent can no longer setpgid it.</summary>
    public bool HasExeced { get; internal set; }

    /// <summary>Set while a vfork parent waits for this child to exec or exit.</summary>
    internal ManualResetEventSlim? VforkDone { get; set; }

    /// <summary>The ITIMER_REAL timer (alarm, setitimer).</summary>
    public RealTimer RealTimer { get; }

    /// <summary>The wait(2) status once the whole group has exited, or -1.</summary>
    public int ExitStatus => Volatile.Read(ref _exitStatus);

    public bool IsExiting => ExitStatus >= 0;

    /// <summary>Completes with the wait(2) status when the last task is gone.</summary>
    public System.Threading.Tasks.Task<int> Exited => _exited.Task;

    /// <summary>CPU time used by the tasks that have exited (for getrusage and times).</summary>
    internal TimeSpan ExitedTasksCpuTime { get; set; }

    /// <summary>CPU time of the whole process: its live threads and those that have exited (CLOCK_PROCESS_CPUTIME_ID, RUSAGE_SELF).</summary>
    public TimeSpan CpuTime
    {
        get
        {
            lock (_tasks)
            {
                var sum = ExitedTasksCpuTime;
                foreach (var t in _tasks)
                {
                    sum += t.CpuTime;
                }

                return sum;
            }
        }
    }

    /// <summary>CPU time of reaped children (RUSAGE_CHILDREN).</summary>
    internal TimeSpan ReapedChildrenCpuTime { get; set; }

    public List<Task> Tasks()
    {
        lock (_tasks)
        {
            return new List<Task>(_tasks);
        }
    }

    public List<ThreadGroup> Children()
    {
        lock (_children)
        {
            return new List<ThreadGroup>(_children);
        }
    }

    internal void AddChild(ThreadGroup child)
    {
        lock (_children)
        {
            _children.Add(child);
        }
    }

    internal void RemoveChild(ThreadGroup child)
    {
        lock (_children)
        {
            _children.Remove(child);
        }
    }

    internal void AddTask(Task task)
    {
        lock (_tasks)
        {
            _tasks.Add(task);
        }
    }

    public int TaskCount
    {
        get
        {
            lock (_tasks)
            {
                return _tasks.Count;
            }
        }
    }

    /// <summary>
    /// Starts the group's exit (exit_group, a fatal signal): every task stops at its next
    /// block boundary or blocking call. The first status set wins.
    /// </summary>
    public void Exit(int waitStatus)
    {
        if (Interlocked.CompareExchange(ref _exitStatus, waitStatus, -1) != -1)
        {
            return;
        }

        foreach (var t in Tasks())
        {
            t.Interrupt();
        }

        StopEvents.WakeAll();
    }

    internal void TaskExited(Task task)
    {
        bool last;
        lock (_tasks)
        {
            // Moved to the exited total in the same step, so the process's CPU time never dips.
            _tasks.Remove(task);
            ExitedTasksCpuTime += task.CpuTime;
            last = _tasks.Count == 0;
        }

        if (last)
        {
            // A group whose last thread called exit(2) exits with that thread's status.
            Interlocked.CompareExchange(ref _exitStatus, task.ExitStatus, -1);
            RealTimer.Cancel();
            Fds.Release();
            Mm.Release();
            VforkDone?.Set();
            Kernel.ProcessExited(this);
            _exited.TrySetResult(ExitStatus);
        }
    }

    /// <summary>The wait status of a normal exit with <paramref name="code"/>.</summary>
    public static int ExitedStatus(int code) => (code & 0xFF) << 8;

    /// <summary>The wait status of death by <paramref name="signal"/>.</summary>
    public static int KilledStatus(int signal) => signal | (Signals.DumpsCore(signal) ? 0x80 : 0);

    /// <summary>The wait status of a stop by <paramref name="signal"/>.</summary>
    public static int StoppedStatus(int signal) => (signal << 8) | 0x7F;

    /// <summary>The wait status of a continued process.</summary>
    public const int ContinuedStatus = 0xFFFF;

    /// <summary>What a shell reports for a wait status: the exit code, or 128 + the signal.</summary>
    public static int ShellStatus(int waitStatus) =>
        (waitStatus & 0x7F) == 0 ? (waitStatus >> 8) & 0xFF : 128 + (waitStatus & 0x7F);
}
