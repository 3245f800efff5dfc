using System.Collections.Concurrent;
using UserModeOS.Cpu;
using UserModeOS.Kernel.Exec;
using UserModeOS.Kernel.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel;

/// <summary>What a kernel instance is built from: its root filesystem, its syscall layer and its ports.</summary>
public sealed class KernelConfig
{
    public required IHostFileSystem Root { get; init; }
    public required ISyscallDispatcher Syscalls { get; init; }
    public required IKernelLog Log { get; init; }

    /// <summary>Trace every syscall to <see cref="IKernelLog.Trace"/>.</summary>
    public bool Strace { get; init; }

    public string Hostname { get; init; } = "umos";
}

/// <summary>What to run: the argument and environment vectors, directory and stdio.</summary>
public sealed class SpawnRequest
{
    public required string Path { get; init; }
    public required IReadOnlyList<string> Argv { get; init; }
    public IReadOnlyList<string> Envp { get; init; } = Array.Empty<string>();
    public string WorkingDirectory { get; init; } = "/";

    /// <summary>The open files for fds 0, 1 and 2 (the kernel takes over their references).</summary>
    public required OpenFile[] Stdio { get; init; }
}

/// <summary>
/// One instance of the OS (a "box"): its processes, pid space and root filesystem. Many
/// kernels can live in one host process; they share nothing.
/// </summary>
public sealed class Kernel : ICpuLog
{
    private readonly ConcurrentDictionary<int, ThreadGroup> _groups = new();
    private int _lastPid;

    public Kernel(KernelConfig config)
    {
        Config = config;
        BootTime = DateTimeOffset.UtcNow;
    }

    public KernelConfig Config { get; }
    public IKernelLog Log => Config.Log;
    public ISyscallDispatcher Syscalls => Config.Syscalls;
    public IHostFileSystem Root => Config.Root;
    public DateTimeOffset BootTime { get; }

    /// <summary>Number of live processes.</summary>
    public int ProcessCount => _groups.Count;

    void ICpuLog.Warn(string message) => Log.Warn(message);

    private int AllocatePid() => Interlocked.Increment(ref _lastPid);

    /// <summary>Starts a new process; on failure returns null with the errno and a one-line reason.</summary>
    public ThreadGroup? Spawn(SpawnRequest request, out Errno errno, out string? error)
    {
        var cwd = PathNames.Normalize("/", request.WorkingDirectory);
        var fds = new FdTable();
        for (var fd = 0; fd < request.Stdio.Length; fd++)
        {
            fds.Set(fd, request.Stdio[fd], closeOnExec: false);
        }

        var mm = new AddressSpace();
        var pid = AllocatePid();
        var group = new ThreadGroup(this, pid, mm, fds, cwd);
        var task = new Task(group, pid, new CpuState(mm.Memory, this));
        errno = Exec(task, request.Path, request.Argv, request.Envp, out error);
        if (errno != Errno.None)
        {
            fds.CloseAll();
            group.Mm.Dispose();
            return null;
        }

        _groups[pid] = group;
        group.AddTask(task);
        task.Start();
        return group;
    }

    /// <summary>
    /// execve(2) for a task: loads the program into a fresh address space and points the
    /// CPU at it. The old address space is kept on failure.
    /// </summary>
    public Errno Exec(Task task, string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, out string? error)
    {
        var group = task.Group;
        var guestPath = PathNames.Normalize(group.Cwd, path);
        var image = ReadElf(guestPath, out var errno, out error);
        if (image is null)
        {
            return errno;
        }

        ElfImage? interp = null;
        if (image.Interpreter is { } interpPath)
        {
            interp = ReadElf(PathNames.Normalize("/", interpPath), out errno, out var interpError);
            if (interp is null)
            {
                error = $"{interpPath}: {interpError}";
                return errno;
            }
        }

        var mm = new AddressSpace();
        var bias = image.Type == ElfImage.TypeDyn ? ProgramLoader.PieBase - ProgramLoader.Span(image).Low : 0;
        var end = ProgramLoader.MapSegments(mm, image, bias);
        ulong interpBase = 0;
        var entry = image.Entry + bias;
        if (interp is not null)
        {
            var (low, high) = ProgramLoader.Span(interp);
            interpBase = mm.FindFree(high - low);
            ProgramLoader.MapSegments(mm, interp, interpBase - low);
            entry = interp.Entry + interpBase - low;
        }

        mm.BrkStart = mm.Brk = end;
        var sp = ProgramLoader.BuildStack(mm, new ProgramLoader.StackInfo(
            argv,
            envp,
            path,
            ProgramLoader.PhdrAddress(image, bias),
            (ulong)image.Headers.Count,
            image.Entry + bias,
            interpBase,
            CpuFeatures.Query(1, 0).Edx,
            0,
            0,
            0));

        var old = group.Mm;
        group.Mm = mm;
        old.Dispose();

        group.ExePath = guestPath;
        group.Comm = PathNames.FileName(guestPath) is { Length: > 15 } long15 ? long15[..15] : PathNames.FileName(guestPath);
        group.Argv = argv;
        group.Envp = envp;
        group.Fds.CloseOnExec();

        // x86-64 psABI process entry: RSP at argc, RDX = 0 (no rtld_fini for static
        // programs; glibc hands it to atexit), every other register zero.
        var cpu = task.Cpu;
        cpu.SwitchMemory(mm.Memory);
        cpu.Regs = default;
        cpu.Xmm = default;
        cpu.Rflags = 0x202;
        cpu.Mxcsr = 0x1F80;
        cpu[Reg.Rsp] = sp;
        cpu.Rip = entry;
        return Errno.None;
    }

    private ElfImage? ReadElf(string guestPath, out Errno errno, out string? error)
    {
        errno = Root.Stat(guestPath, followSymlink: true, out var st);
        if (errno != Errno.None)
        {
            error = errno == Errno.ENOENT ? "no such file or directory" : $"cannot open ({errno})";
            return null;
        }

        if (st.IsDirectory)
        {
            errno = Errno.EACCES;
            error = "is a directory";
            return null;
        }

        errno = Root.Open(guestPath, OpenFlags.ReadOnly, 0, out var file);
        if (errno != Errno.None || file is null)
        {
            error = $"cannot open ({errno})";
            return null;
        }

        try
        {
            var bytes = new byte[st.Size];
            long done = 0;
            while (done < bytes.Length)
            {
                var n = file.ReadAt(bytes.AsSpan((int)done), done);
                if (n <= 0)
                {
                    break;
                }

                done += n;
            }

            var image = ElfImage.Parse(bytes.AsSpan(0, (int)done).ToArray(), out error);
            errno = image is null ? Errno.ENOEXEC : Errno.None;
            return image;
        }
        finally
        {
            file.Release();
        }
    }

    internal void GroupExited(ThreadGroup group) => _groups.TryRemove(group.Pid, out _);

    public ThreadGroup? FindProcess(int pid) => _groups.GetValueOrDefault(pid);
}
