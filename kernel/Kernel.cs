using UserModeOS.Cpu;
using UserModeOS.Kernel.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel;

/// <summary>What a kernel instance is built from: its root filesystem, its syscall layer and its ports.</summary>
public sealed class KernelConfig
{
    /// <summary>The instance's VFS, with its mounts ("/" at least) already in place.</summary>
    public required VirtualFileSystem Vfs { get; init; }
    public required ISyscallDispatcher Syscalls { get; init; }
    public required IKernelLog Log { get; init; }

    /// <summary>Trace every syscall to <see cref="IKernelLog.Trace"/>.</summary>
    public bool Strace { get; init; }

    public string Hostname { get; init; } = "umos";

    /// <summary>Address-space layout randomisation for execve (personality(ADDR_NO_RANDOMIZE) turns it off per process).</summary>
    public bool Aslr { get; init; } = true;

    /// <summary>The most tasks (threads) the instance may hold; clone fails with EAGAIN past it.</summary>
    public int MaxTasks { get; init; } = 4096;
}

/// <summary>What to run: the argument and environment vectors, directory and stdio.</summary>
public sealed class SpawnRequest
{
    public required string Path { get; init; }
    public required IReadOnlyList<string> Argv { get; init; }
    public IReadOnlyList<string> Envp { get; init; } = Array.Empty<string>();
    public string WorkingDirectory { get; init; } = "/";

    /// <summary>Who the process runs as (root unless the box says otherwise).</summary>
    public Credentials Credentials { get; init; } = Credentials.Root;

    /// <summary>The open files for fds 0, 1 and 2 (the kernel takes over their references).</summary>
    public required OpenFile[] Stdio { get; init; }
}

/// <summary>
/// One instance of the OS (a "box"): its processes, pid space and root filesystem. Many
/// kernels can live in one host process; they share nothing. Like a PID namespace, the
/// first process is pid 1, adopts orphans, and its death ends every other process.
/// </summary>
public sealed partial class Kernel : ICpuLog
{
    private readonly Dictionary<int, ThreadGroup> _processes = new();
    private readonly Dictionary<int, Task> _tasks = new();
    private readonly Lock _table = new();
    private int _lastPid;

    public Kernel(KernelConfig config)
    {
        Config = config;
        BootTime = DateTimeOffset.UtcNow;
        Ptys = new Tty.Ptys(this);
    }

    public KernelConfig Config { get; }
    public IKernelLog Log => Config.Log;
    public ISyscallDispatcher Syscalls => Config.Syscalls;
    public VirtualFileSystem Vfs => Config.Vfs;
    public DateTimeOffset BootTime { get; }
    public Futexes Futexes { get; } = new();

    /// <summary>The advisory file locks (flock, POSIX and OFD record locks) of every process of this kernel.</summary>
    public FileLocks FileLocks { get; } = new();

    /// <summary>The pages of files mapped MAP_SHARED, shared by every process of this kernel.</summary>
    public Memory.PageCache PageCache { get; } = new();

    /// <summary>The AF_UNIX sockets of every process of this kernel: their names and their lock.</summary>
    public Net.UnixNames UnixSockets { get; } = new();

    /// <summary>The pseudo-terminals of every process of this kernel (what /dev/pts lists).</summary>
    public Tty.Ptys Ptys { get; }

    /// <summary>The instance's first process (pid 1), which adopts orphans.</summary>
    public ThreadGroup? Init { get; private set; }

    /// <summary>Number of processes, zombies included.</summary>
    public int ProcessCount
    {
        get
        {
            lock (_table)
            {
                return _processes.Count;
            }
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _reportedInstructions = new();

    /// <summary>Each unimplemented or invalid encoding is reported once per instance.</summary>
    void ICpuLog.InvalidInstruction(string bytes, string message)
    {
        if (_reportedInstructions.TryAdd(bytes, true))
        {
            Log.Warn(message);
        }
    }

    public ThreadGroup? FindProcess(int pid)
    {
        lock (_table)
        {
            return _processes.GetValueOrDefault(pid);
        }
    }

    public Task? FindTask(int tid)
    {
        lock (_table)
        {
            return _tasks.GetValueOrDefault(tid);
        }
    }

    /// <summary>Every live (not yet reaped) process.</summary>
    public List<ThreadGroup> Processes()
    {
        lock (_table)
        {
            return new List<ThreadGroup>(_processes.Values);
        }
    }

    /// <summary>Registers a new task and its pid; fails when the instance is at its task limit.</summary>
    private int Register(Func<int, Task> create, out Task? task)
    {
        lock (_table)
        {
            if (_tasks.Count >= Config.MaxTasks)
            {
                task = null;
                return -(int)Errno.EAGAIN;
            }

            var tid = ++_lastPid;
            task = create(tid);
            _tasks[tid] = task;
            if (task.Tid == task.Group.Pid)
            {
                _processes[tid] = task.Group;
            }

            return tid;
        }
    }

    /// <summary>A thread other than a main thread has ended: it leaves the task table.</summary>
    internal void TaskGone(Task task)
    {
        lock (_table)
        {
            _tasks.Remove(task.Tid);
        }
    }

    /// <summary>Starts a new top-level process; on failure returns null with the errno and a one-line reason.</summary>
    public ThreadGroup? Spawn(SpawnRequest request, out Errno errno, out string? error)
    {
        var fds = new FdTable();
        for (var fd = 0; fd < request.Stdio.Length; fd++)
        {
            fds.Set(fd, request.Stdio[fd], closeOnExec: false);
        }

        var mm = new AddressSpace();
        Task? task = null;
        // The cwd is a canonical path, as chdir leaves it: symlinks in the requested one are resolved.
        var cwd = PathNames.Normalize("/", request.WorkingDirectory);
        if (Vfs.Walk(null, cwd, WalkFlags.Follow, out var walked) == Errno.None && walked.IsDirectory)
        {
            cwd = walked.Path;
        }

        var fs = new FsContext(cwd);
        var r = Register(tid => new Task(new ThreadGroup(this, tid, null, mm, fds, fs, new SignalHandlers()), tid, new CpuState(mm.Memory, this)), out task);
        if (r < 0 || task is null)
        {
            fds.Release();
            mm.Release();
            errno = (Errno)(-r);
            error = "too many tasks";
            return null;
        }

        var group = task.Group;
        task.Cred = request.Credentials;
        errno = Exec(task, request.Path, request.Argv, request.Envp, out error);
        if (errno != Errno.None)
        {
            lock (_table)
            {
                _tasks.Remove(task.Tid);
                _processes.Remove(task.Tid);
            }

            fds.Release();
            group.Mm.Release();
            return null;
        }

        lock (_table)
        {
            Init ??= group;
        }

        group.AddTask(task);
        task.Start();
        return group;
    }
}
