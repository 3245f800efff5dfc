using UserModeOS.Drivers.Devfs;
using UserModeOS.Drivers.Devpts;
using UserModeOS.Drivers.Overlay;
using UserModeOS.Drivers.Procfs;
using UserModeOS.Drivers.Sysfs;
using UserModeOS.Drivers.Tmpfs;
using UserModeOS.Hosts.Linux;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;
using UserModeOS.Syscalls;

namespace UserModeOS.Hosting;

/// <summary>How a box is built.</summary>
public sealed class BoxOptions
{
    /// <summary>The host folder that is the guest's "/".</summary>
    public string RootPath { get; init; } = "/";

    /// <summary>
    /// A host folder that makes the root copy-on-write (`--overlay UPPER`): <see cref="RootPath"/>
    /// becomes the read-only lower layer of an overlay and is never written; changes land here.
    /// </summary>
    public string? OverlayUpper { get; init; }

    /// <summary>Trace every syscall to <see cref="Log"/>, strace-style.</summary>
    public bool Strace { get; init; }

    /// <summary>Where warnings (unknown syscalls, unimplemented instructions) and traces go; stderr by default.</summary>
    public TextWriter? Log { get; init; }

    public string Hostname { get; init; } = "umos";

    /// <summary>The most tasks (threads of all processes) the box may hold; fork and clone fail with EAGAIN past it.</summary>
    public int MaxTasks { get; init; } = 4096;

    /// <summary>Randomise where programs are loaded (ASLR), as Linux does by default.</summary>
    public bool Aslr { get; init; } = true;

    /// <summary>More host folders mounted in the guest (`--volume HOST:GUEST[:ro]`), in order.</summary>
    public IReadOnlyList<BoxVolume> Volumes { get; init; } = Array.Empty<BoxVolume>();

    /// <summary>
    /// Guest paths that get a fresh tmpfs (`--tmpfs GUEST[:size=N[k|m|g]]`), mounted after the
    /// volumes; without a size a tmpfs may hold half the host's memory, as on Linux.
    /// </summary>
    public IReadOnlyList<string> TmpfsMounts { get; init; } = Array.Empty<string>();
}

/// <summary>A host folder mounted at a guest path.</summary>
public sealed record BoxVolume(string HostPath, string GuestPath, bool ReadOnly = false)
{
    /// <summary>Parses `HOST:GUEST[:ro|:rw]`; null when malformed.</summary>
    public static BoxVolume? Parse(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length is < 2 or > 3 || parts[0].Length == 0 || !parts[1].StartsWith('/'))
        {
            return null;
        }

        if (parts.Length == 3 && parts[2] is not ("ro" or "rw"))
        {
            return null;
        }

        return new BoxVolume(parts[0], parts[1], parts.Length == 3 && parts[2] == "ro");
    }
}

/// <summary>A guest user and group by number: a process started as them has every id of each kind set to them.</summary>
public sealed record GuestUser(uint Uid, uint Gid)
{
    /// <summary>Parses `UID[:GID]` (the group defaults to the user's number); null when malformed.</summary>
    public static GuestUser? Parse(string spec)
    {
        var parts = spec.Split(':');
        if (parts.Length > 2 || !uint.TryParse(parts[0], out var uid) || uid == uint.MaxValue)
        {
            return null;
        }

        var gid = uid;
        if (parts.Length == 2 && (!uint.TryParse(parts[1], out gid) || gid == uint.MaxValue))
        {
            return null;
        }

        return new GuestUser(uid, gid);
    }
}

/// <summary>What to run in a box.</summary>
public sealed class GuestStartInfo
{
    /// <summary>The program, a guest path; argv[0] when <see cref="Arguments"/> is empty.</summary>
    public required string Program { get; init; }

    /// <summary>argv; when empty, argv is just the program path.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = Array.Empty<string>();

    /// <summary>envp, "NAME=value" strings.</summary>
    public IReadOnlyList<string> Environment { get; init; } = Array.Empty<string>();

    public string WorkingDirectory { get; init; } = "/";

    /// <summary>Who the program runs as; root when null.</summary>
    public GuestUser? User { get; init; }

    public GuestStdio Stdin { get; init; } = GuestStdio.Null;
    public GuestStdio Stdout { get; init; } = GuestStdio.Null;
    public GuestStdio Stderr { get; init; } = GuestStdio.Null;
}

/// <summary>A program that could not be started (not found, not an ELF for x86-64, ...).</summary>
public sealed class GuestStartException(string message, Errno errno) : Exception(message)
{
    public Errno Errno { get; } = errno;
}

/// <summary>
/// One isolated instance of UserModeOS: a kernel with its own root, processes and pids,
/// living in this host process. This is the embedding API; the umos CLI uses nothing else.
/// </summary>
public sealed class Box
{
    private readonly UserModeOS.Kernel.Kernel _kernel;

    private Box(UserModeOS.Kernel.Kernel kernel)
    {
        _kernel = kernel;
    }

    /// <summary>Builds a box whose root is a host folder.</summary>
    public static Box Create(BoxOptions options)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("this build of UserModeOS hosts boxes on Linux only");
        }

        if (!Directory.Exists(options.RootPath))
        {
            throw new DirectoryNotFoundException($"root folder '{options.RootPath}' does not exist");
        }

        foreach (var volume in options.Volumes)
        {
            if (!Directory.Exists(volume.HostPath))
            {
                throw new DirectoryNotFoundException($"volume folder '{volume.HostPath}' does not exist");
            }
        }

        if (options.OverlayUpper is { } upperPath && !Directory.Exists(upperPath))
        {
            throw new DirectoryNotFoundException($"overlay upper folder '{upperPath}' does not exist");
        }

        var vfs = new VirtualFileSystem();
        var rootHost = new HostFileSystem(options.RootPath);
        IFileSystem root = rootHost;
        var source = rootHost.HostFolder == "/" ? "/dev/root" : rootHost.HostFolder;
        if (options.OverlayUpper is { } upper)
        {
            var upperHost = new HostFileSystem(upper);
            if (IsSameOrBelow(upperHost.HostFolder, rootHost.HostFolder) || IsSameOrBelow(rootHost.HostFolder, upperHost.HostFolder))
            {
                throw new ArgumentException($"overlay upper folder '{upperHost.HostFolder}' and root '{rootHost.HostFolder}' must not contain each other");
            }

            root = new OverlayFileSystem(rootHost, upperHost);
            source = "overlay";
        }

        vfs.Mounts.Add("/", root, source);
        var kernel = new UserModeOS.Kernel.Kernel(new KernelConfig
        {
            Vfs = vfs,
            Syscalls = SyscallTable.CreateDefault(),
            Log = new HostLog(options.Log ?? Console.Error),
            Strace = options.Strace,
            Hostname = options.Hostname,
            MaxTasks = options.MaxTasks,
            Aslr = options.Aslr,
        });
        Mount(vfs, kernel, rootHost, options);
        return new Box(kernel);
    }

    private static bool IsSameOrBelow(string path, string folder) =>
        path == folder || folder == "/" || path.StartsWith(folder.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>
    /// Every root gets our /proc, /dev (with a tmpfs /dev/shm) and /sys, and a tmpfs /tmp
    /// unless the root folder has its own /tmp (the host's "/" has: its /tmp stays, as the
    /// guest shares temp folders with the host then); then the volumes and tmpfs mounts.
    /// The host's own /proc, /dev and /sys are never passed through.
    /// </summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static void Mount(VirtualFileSystem vfs, UserModeOS.Kernel.Kernel kernel, HostFileSystem root, BoxOptions options)
    {
        vfs.Mounts.Add("/proc", new Procfs(kernel), "proc");
        vfs.Mounts.Add("/dev", Devfs.Create(), "udev");
        vfs.Devices = Devfs.OpenDevice;
        vfs.Mounts.Add("/dev/pts", new Devpts(kernel.Ptys), "devpts");
        vfs.Mounts.Add("/dev/shm", new Tmpfs(), "tmpfs");
        vfs.Mounts.Add("/sys", new Sysfs(kernel.BootTime), "sysfs");
        if (!Directory.Exists(Path.Combine(root.HostFolder, "tmp")))
        {
            vfs.Mounts.Add("/tmp", new Tmpfs(), "tmpfs");
        }

        foreach (var volume in options.Volumes)
        {
            var fs = new HostFileSystem(volume.HostPath);
            vfs.Mounts.Add(volume.GuestPath, fs, fs.HostFolder, volume.ReadOnly);
        }

        foreach (var spec in options.TmpfsMounts)
        {
            var (path, size) = ParseTmpfs(spec) ?? throw new ArgumentException($"tmpfs mount '{spec}': expected GUEST[:size=N[k|m|g]]");
            vfs.Mounts.Add(path, new Tmpfs(size), "tmpfs");
        }
    }

    /// <summary>Parses `GUEST[:size=N[k|m|g]]`; null when malformed.</summary>
    public static (string Path, long Size)? ParseTmpfs(string spec)
    {
        var colon = spec.IndexOf(':');
        var path = colon < 0 ? spec : spec[..colon];
        if (!path.StartsWith('/'))
        {
            return null;
        }

        if (colon < 0)
        {
            return (path, 0);
        }

        var option = spec[(colon + 1)..];
        if (!option.StartsWith("size=", StringComparison.Ordinal) || option.Length == 5)
        {
            return null;
        }

        var number = option[5..];
        long scale = char.ToLowerInvariant(number[^1]) switch { 'k' => 1L << 10, 'm' => 1L << 20, 'g' => 1L << 30, _ => 1 };
        if (scale != 1)
        {
            number = number[..^1];
        }

        return long.TryParse(number, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0
            ? (path, n * scale)
            : null;
    }

    /// <summary>Starts a process; throws <see cref="GuestStartException"/> when it cannot run.</summary>
    public GuestProcess Start(GuestStartInfo info)
    {
        var argv = info.Arguments.Count > 0 ? info.Arguments : new[] { info.Program };
        var stdio = new[] { info.Stdin.Open(0), info.Stdout.Open(1), info.Stderr.Open(2) };
        var group = _kernel.Spawn(
            new SpawnRequest
            {
                Path = info.Program,
                Argv = argv,
                Envp = info.Environment,
                WorkingDirectory = info.WorkingDirectory,
                Credentials = info.User is { } user ? Credentials.For(user.Uid, user.Gid) : Credentials.Root,
                Stdio = stdio,
            },
            out var errno,
            out var error);
        if (group is null)
        {
            throw new GuestStartException($"{info.Program}: {error}", errno);
        }

        return new GuestProcess(group);
    }

    /// <summary>
    /// Sends <paramref name="signal"/> to the box's foreground process group, as a terminal's
    /// Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT) or hang-up would: the group a guest made the host
    /// terminal's foreground with tcsetpgrp, else the group of the box's first process.
    /// </summary>
    public void SignalForeground(int signal)
    {
        var pgrp = (OperatingSystem.IsLinux() ? HostFile.ForegroundProcessGroup(_kernel) : null) ?? _kernel.Init?.ProcessGroup;
        if (pgrp is { } group)
        {
            SignalGroup(_kernel, group, signal);
        }
    }

    /// <summary>Signals every process of a process group, with the siginfo of a signal the kernel (the tty) sends.</summary>
    internal static void SignalGroup(UserModeOS.Kernel.Kernel kernel, int pgrp, int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(signal);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(signal, UserModeOS.Kernel.Signals.Max);
        kernel.SignalProcessGroup(pgrp, signal);
    }
}

/// <summary>A running guest process.</summary>
public sealed class GuestProcess
{
    private readonly ThreadGroup _group;

    internal GuestProcess(ThreadGroup group)
    {
        _group = group;
    }

    /// <summary>The process id inside its box.</summary>
    public int Pid => _group.Pid;

    /// <summary>Completes with the exit status as a shell reports it: the exit code, or 128 + the signal that killed it.</summary>
    public async System.Threading.Tasks.Task<int> WaitForExitAsync(CancellationToken cancellationToken = default)
    {
        var status = await _group.Exited.WaitAsync(cancellationToken).ConfigureAwait(false);
        return ThreadGroup.ShellStatus(status);
    }

    /// <summary>The raw wait(2) status once exited.</summary>
    public int WaitStatus => _group.ExitStatus;

    /// <summary>Sends a signal to every process in this process's current process group, as a terminal's Ctrl-C does (SIGINT = 2).</summary>
    public void SignalProcessGroup(int signal) => Box.SignalGroup(_group.Kernel, _group.ProcessGroup, signal);

    /// <summary>Sends a signal to the process, as kill(2) from outside the box would (SIGKILL = 9 by default).</summary>
    public void Kill(int signal = UserModeOS.Kernel.Signals.SIGKILL) =>
        _group.Kernel.SendSignal(_group, UserModeOS.Kernel.SigInfo.FromUser(signal, UserModeOS.Kernel.SigInfo.SiUser, 0));
}
