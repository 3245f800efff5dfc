using System.Globalization;
using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Procfs;

/// <summary>
/// procfs (proc(5)): /proc/self, /proc/thread-self, /proc/[pid]/... and the system files,
/// generated from the kernel's own objects in Linux's formats. The per-process exe, cwd,
/// root and fd/N are magic links: following one jumps to the object itself.
/// </summary>
public sealed partial class Procfs(UserModeOS.Kernel.Kernel kernel) : SyntheticFileSystem(kernel.BootTime), IMagicLinks
{
    /// <summary>The release uname(2) reports (syscalls/Process.cs).</summary>
    public const string Release = "6.1.0-umos";

    public const string Version = "#1 SMP PREEMPT_DYNAMIC UserModeOS";

    /// <summary>USER_HZ: the clock ticks /proc counts in.</summary>
    private const int Hz = 100;

    private static readonly string[] SystemFiles =
    [
        "cpuinfo", "filesystems", "loadavg", "meminfo", "mounts", "self", "stat", "sys", "thread-self", "uptime", "version",
    ];

    private static readonly string[] ProcessFiles =
    [
        "auxv", "cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "maps", "mountinfo", "mounts", "root", "smaps", "stat", "statm", "status",
        "task",
    ];

    private static readonly string[] ThreadFiles = [
        "auxv", "cmdline", "comm", "cwd", "environ", "exe", "fd", "fdinfo", "maps", "root", "smaps", "stat", "statm", "status",
    ];

    public override string Type => "proc";

    protected override long Magic => StatFsInfo.ProcMagic;

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    protected override Errno Resolve(string[] parts, Task? caller, out Node node)
    {
        node = Node.Dir(RootListing, 0x16D);
        if (parts.Length == 0)
        {
            return Errno.None;
        }

        var first = parts[0];
        if (first is "self" or "thread-self")
        {
            if (caller is null)
            {
                return Errno.ENOENT;
            }

            var target = first == "self" ? Invariant($"{caller.Group.Pid}") : Invariant($"{caller.Group.Pid}/task/{caller.Tid}");
            node = Node.Link(() => target);
            return parts.Length == 1 ? Errno.None : Errno.ELOOP;
        }

        if (int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && first[0] != '0')
        {
            var group = kernel.FindProcess(pid);
            Task? thread = null;
            if (group is null && kernel.FindTask(pid) is { } t)
            {
                // /proc/<tid> of a thread works, though it is not listed.
                group = t.Group;
                thread = t;
            }

            if (group is null || group.State == ProcessState.Reaped)
            {
                return Errno.ENOENT;
            }

            var e = ResolveProcess(group, thread, parts, 1, caller, out node);
            if (e == Errno.None && (group.Dumpable || node is { Kind: Kind.Directory, Permissions: 0x16D }))
            {
                // task_dump_owner(): a process's files are its effective user's, unless it may not be
                // dumped; its world-readable directories always are (what ps learns from stat).
                node = node with { Uid = group.Cred.Euid, Gid = group.Cred.Egid };
            }

            if (e == Errno.None && node.Jump is not null && !MayTrace(caller, group))
            {
                node = node with { Denied = Errno.EACCES };
            }

            return e;
        }

        if (parts.Length == 1)
        {
            node = first switch
            {
                "cpuinfo" => Node.Text(CpuInfo),
                "meminfo" => Node.Text(MemInfo),
                "uptime" => Node.Text(Uptime),
                "loadavg" => Node.Text(LoadAvg),
                "stat" => Node.Text(SystemStat),
                "version" => Node.Text(() => $"Linux version {Release} (umos@umos) (gcc, GNU ld) {Version}\n"),
                "filesystems" => Node.Text(() => "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\tdevpts\n\text4\n"),
                "mounts" => Node.Link(() => "self/mounts"),
                "sys" => Node.Dir(() => ["kernel", "vm"]),
                _ => null!,
            };
            return node is null ? Errno.ENOENT : Errno.None;
        }

        if (first == "sys")
        {
            return ResolveSys(parts, out node);
        }

        return Lookup(first) ? Errno.ENOTDIR : Errno.ENOENT;

        static bool Lookup(string name) => Array.IndexOf(SystemFiles, name) >= 0;
    }

    /// <summary>
    /// ptrace_may_access() with the filesystem ids, which guards /proc/[pid]'s exe, cwd, root and
    /// fd links (ptrace(2), "Ptrace access mode checking"): the same process, or one whose every
    /// uid and gid are the caller's and which is dumpable, or a caller with CAP_SYS_PTRACE.
    /// </summary>
    private static bool MayTrace(Task? caller, ThreadGroup target)
    {
        if (caller is null || caller.Group == target || caller.Cred.IsPrivileged)
        {
            return true;
        }

        var me = caller.Cred;
        var them = target.Cred;
        var sameIds = me.Fsuid == them.Uid && me.Fsuid == them.Euid && me.Fsuid == them.Suid &&
            me.Fsgid == them.Gid && me.Fsgid == them.Egid && me.Fsgid == them.Sgid;
        return sameIds && target.Dumpable;
    }

    /// <summary>proc_fd_permission(): a process may always look into its own fd directories.</summary>
    public override Errno? Permission(string path, Task? caller, Credentials cred, int mask)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return caller is not null && parts.Length is 2 or 4 && parts[^1] == "fd" &&
            parts[0] == caller.Group.Pid.ToString(CultureInfo.InvariantCulture)
            ? Errno.None
            : null;
    }

    private IEnumerable<string> RootListing()
    {
        var pids = kernel.Processes().Where(p => p.State != ProcessState.Reaped).Select(p => p.Pid).Order();
        return pids.Select(p => p.ToString(CultureInfo.InvariantCulture)).Concat(SystemFiles);
    }

    private Errno ResolveSys(string[] parts, out Node node)
    {
        node = null!;
        var path = string.Join('/', parts[1..]);
        node = path switch
        {
            "kernel" => Node.Dir(() => ["hostname", "ostype", "osrelease", "pid_max", "version"]),
            "kernel/ostype" => Node.Text(() => "Linux\n"),
            "kernel/osrelease" => Node.Text(() => Release + "\n"),
            "kernel/version" => Node.Text(() => Version + "\n"),
            "kernel/hostname" => Node.Text(() => kernel.Config.Hostname + "\n", 0x1A4),
            "kernel/pid_max" => Node.Text(() => "4194304\n", 0x1A4),
            "vm" => Node.Dir(() => ["overcommit_memory"]),
            "vm/overcommit_memory" => Node.Text(() => "0\n", 0x1A4),
            _ => null!,
        };
        return node is null ? Errno.ENOENT : Errno.None;
    }

    /// <summary>/proc/[pid]/... (and /proc/[pid]/task/[tid]/...).</summary>
    private Errno ResolveProcess(ThreadGroup group, Task? thread, string[] parts, int at, Task? caller, out Node node)
    {
        var inTask = thread is not null && at > 1;
        var names = inTask ? ThreadFiles : ProcessFiles;
        node = Node.Dir(() => names, 0x16D);
        if (parts.Length == at)
        {
            return Errno.None;
        }

        var name = parts[at];
        var last = parts.Length == at + 1;
        switch (name)
        {
            case "task" when !inTask:
                if (last)
                {
                    node = Node.Dir(() => group.Tasks().Select(t => t.Tid.ToString(CultureInfo.InvariantCulture)));
                    return Errno.None;
                }

                if (!int.TryParse(parts[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var tid) ||
                    group.Tasks().FirstOrDefault(t => t.Tid == tid) is not { } task)
                {
                    return Errno.ENOENT;
                }

                return ResolveProcess(group, task, parts, at + 2, caller, out node);
            case "fd":
                if (last)
                {
                    node = Node.Dir(() => group.Fds.OpenFds().Select(fd => fd.ToString(CultureInfo.InvariantCulture)), 0x140);
                    return Errno.None;
                }

                if (parts.Length != at + 2 || !int.TryParse(parts[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var fdNumber) ||
                    group.Fds.Get(fdNumber) is not { } file)
                {
                    return Errno.ENOENT;
                }

                var access = file.Flags & OpenFlags.AccessMode;
                node = new Node
                {
                    Kind = Kind.Symlink,
                    Permissions = (access != OpenFlags.WriteOnly ? 0x100u : 0) | (access != OpenFlags.ReadOnly ? 0x80u : 0) | 0x40,
                    Target = () => file.Path,
                    Size = 64,
                    Jump = () => Reachable(file.Path) ? (file.Path, null, Errno.None) : (null, file, Errno.None),
                };
                return Errno.None;
            case "fdinfo":
                if (last)
                {
                    node = Node.Dir(() => group.Fds.OpenFds().Select(fd => fd.ToString(CultureInfo.InvariantCulture)), 0x16D);
                    return Errno.None;
                }

                if (parts.Length != at + 2 || !int.TryParse(parts[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var infoFd) ||
                    group.Fds.Get(infoFd) is null)
                {
                    return Errno.ENOENT;
                }

                node = Node.Text(() => FdInfo(group, infoFd));
                return Errno.None;
        }

        if (!last)
        {
            return Array.IndexOf(names, name) >= 0 ? Errno.ENOTDIR : Errno.ENOENT;
        }

        var who = thread ?? group.Tasks().FirstOrDefault();
        node = name switch
        {
            "exe" => MagicLink(() => group.ExePath),
            "cwd" => MagicLink(() => group.Cwd),
            "root" => MagicLink(() => "/"),
            "cmdline" => Node.Bytes(() => NulJoined(group.Argv)),
            "environ" => Node.Bytes(() => NulJoined(group.Envp), 0x100),
            "comm" => Node.Text(() => (inTask && thread is not null ? thread.Comm : group.Comm) + "\n", 0x1A4),
            "stat" => Node.Text(() => ProcessStat(group, inTask ? thread : null, caller)),
            "statm" => Node.Text(() => Statm(group)),
            "status" => Node.Text(() => Status(group, inTask ? thread : who, caller)),
            "maps" => Node.Text(() => Maps(group)),
            "smaps" => Node.Text(() => Smaps(group)),
            "auxv" => Node.Bytes(() => group.Auxv, 0x100),
            "mounts" when !inTask => Node.Text(Mounts),
            "mountinfo" when !inTask => Node.Text(MountInfo),
            _ => null!,
        };
        return node is null ? Errno.ENOENT : Errno.None;
    }

    /// <summary>
    /// Whether following an fd link may walk to the file's path (a file reopened by name, as
    /// Linux reopens the inode): not for objects without a path (pipes) nor for the host's
    /// stdio, whose names (/dev/stdout ...) lead back through /proc/self/fd, nor for a file that
    /// has no name (O_TMPFILE).
    /// </summary>
    private static bool Reachable(string path) =>
        !VirtualFileSystem.IsUnnamed(path) && path is not ("/dev/stdin" or "/dev/stdout" or "/dev/stderr" or "/dev/null" or "/dev/tty");

    private static Node MagicLink(Func<string> target) => new()
    {
        Kind = Kind.Symlink,
        Permissions = 0x1FF,
        Target = target,
        Jump = () => (target(), null, Errno.None),
    };

    private static byte[] NulJoined(IReadOnlyList<string> strings)
    {
        var sb = new StringBuilder();
        foreach (var s in strings)
        {
            sb.Append(s).Append('\0');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }
}
