using System.Globalization;
using System.Text;
using UserModeOS.Cpu;
using UserModeOS.Cpu.Memory;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Procfs;

// The generated files' contents, in Linux's formats.
public sealed partial class Procfs
{
    private static readonly string[] Leaf1Edx =
    [
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "", "sep", "mtrr", "pge", "mca", "cmov",
        "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
    ];

    private static readonly string[] Ext1Edx =
    [
        "", "", "", "", "", "", "", "", "", "", "", "syscall", "", "", "", "",
        "", "", "", "mp", "nx", "", "mmxext", "", "", "fxsr_opt", "pdpe1gb", "rdtscp", "", "lm", "3dnowext", "3dnow",
    ];

    private static readonly string[] Leaf1Ecx =
    [
        "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est", "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm",
        "", "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt", "tsc_deadline_timer", "aes", "xsave", "", "avx", "f16c", "rdrand", "hypervisor",
    ];

    private static readonly string[] Ext1Ecx =
    [
        "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a", "misalignsse", "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", "", "lwp",
        "fma4", "tce", "", "nodeid_msr", "", "tbm", "topoext", "perfctr_core", "perfctr_nb", "", "bpext", "ptsc", "perfctr_llc", "mwaitx", "", "",
    ];

    private static readonly string[] Leaf7Ebx =
    [
        "fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", "", "smep", "bmi2", "erms", "invpcid", "rtm", "cqm", "", "mpx", "rdt_a",
        "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", "", "clflushopt", "clwb", "intel_pt", "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl",
    ];

    private static readonly string[] Leaf7Edx =
    [
        "", "", "avx512_4vnniw", "avx512_4fmaps", "fsrm", "", "", "", "avx512_vp2intersect", "", "md_clear", "", "", "", "serialize", "",
        "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
    ];

    private static void AddFlags(List<string> flags, uint bits, string[] names)
    {
        for (var i = 0; i < 32; i++)
        {
            if ((bits & (1u << i)) != 0 && names[i].Length > 0)
            {
                flags.Add(names[i]);
            }
        }
    }

    /// <summary>/proc/cpuinfo, one block per host processor, describing exactly what our CPUID reports.</summary>
    private static string CpuInfo()
    {
        var (eax1, _, ecx1, edx1) = CpuFeatures.Query(1, 0);
        var (_, ebx7, _, edx7) = CpuFeatures.Query(7, 0);
        var (_, _, ecxE, edxE) = CpuFeatures.Query(0x8000_0001, 0);
        var flags = new List<string>();
        AddFlags(flags, edx1, Leaf1Edx);
        AddFlags(flags, edxE, Ext1Edx);
        AddFlags(flags, ecx1 & ~(1u << 27), Leaf1Ecx);
        AddFlags(flags, ecxE, Ext1Ecx);
        AddFlags(flags, ebx7, Leaf7Ebx);
        AddFlags(flags, edx7, Leaf7Edx);
        var family = ((eax1 >> 8) & 0xF) + (((eax1 >> 8) & 0xF) == 0xF ? (eax1 >> 20) & 0xFF : 0);
        var model = ((eax1 >> 4) & 0xF) | ((eax1 >> 12) & 0xF0);
        var stepping = eax1 & 0xF;
        var count = Environment.ProcessorCount;
        var sb = new StringBuilder();
        for (var cpu = 0; cpu < count; cpu++)
        {
            sb.Append(Invariant($"""
                processor	: {cpu}
                vendor_id	: {CpuFeatures.Vendor}
                cpu family	: {family}
                model		: {model}
                model name	: {CpuFeatures.Brand}
                stepping	: {stepping}
                microcode	: 0x1
                cpu MHz		: 2000.000
                cache size	: 4096 KB
                physical id	: 0
                siblings	: {count}
                core id		: {cpu}
                cpu cores	: {count}
                apicid		: {cpu}
                initial apicid	: {cpu}
                fpu		: yes
                fpu_exception	: yes
                cpuid level	: 7
                wp		: yes
                flags		: {string.Join(' ', flags)}
                bugs		: 
                bogomips	: 4000.00
                clflush size	: 64
                cache_alignment	: 64
                address sizes	: 48 bits physical, 48 bits virtual
                power management:


                """));
        }

        return sb.ToString().Replace("\r\n", "\n", StringComparison.Ordinal);
    }

    private static string Kb(string label, long bytes) => Invariant($"{label + ":",-16}{bytes / 1024,8} kB\n");

    private static string MemInfo()
    {
        var info = GC.GetGCMemoryInfo();
        var total = info.TotalAvailableMemoryBytes;
        var free = Math.Max(0, total - info.MemoryLoadBytes);
        var sb = new StringBuilder();
        sb.Append(Kb("MemTotal", total)).Append(Kb("MemFree", free)).Append(Kb("MemAvailable", free));
        foreach (var name in new[] { "Buffers", "Cached", "SwapCached", "Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked" })
        {
            sb.Append(Kb(name, 0));
        }

        sb.Append(Kb("SwapTotal", 0)).Append(Kb("SwapFree", 0));
        foreach (var name in new[] { "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem", "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "PageTables" })
        {
            sb.Append(Kb(name, 0));
        }

        sb.Append(Kb("CommitLimit", total)).Append(Kb("Committed_AS", total - free)).Append(Kb("VmallocTotal", 34359738367L * 1024));
        sb.Append(Kb("VmallocUsed", 0)).Append(Kb("VmallocChunk", 0));
        sb.Append(Invariant($"HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\nHugePages_Surp:        0\n"));
        sb.Append(Kb("Hugepagesize", 2048 * 1024));
        return sb.ToString();
    }

    private double UptimeSeconds => (DateTimeOffset.UtcNow - kernel.BootTime).TotalSeconds;

    private string Uptime() => Invariant($"{UptimeSeconds:F2} {UptimeSeconds * Environment.ProcessorCount:F2}\n");

    private string LoadAvg()
    {
        var tasks = kernel.Processes().Sum(p => p.TaskCount);
        var last = kernel.Processes().Select(p => p.Pid).DefaultIfEmpty(0).Max();
        return Invariant($"0.00 0.00 0.00 1/{tasks} {last}\n");
    }

    private string SystemStat()
    {
        var ticks = (long)(UptimeSeconds * Hz);
        var user = (long)(kernel.Processes().Sum(p => p.Tasks().Sum(t => t.CpuTime.TotalSeconds)) * Hz);
        var cpus = Environment.ProcessorCount;
        var sb = new StringBuilder();
        sb.Append(Invariant($"cpu  {user} 0 0 {Math.Max(0, ticks * cpus - user)} 0 0 0 0 0 0\n"));
        for (var i = 0; i < cpus; i++)
        {
            sb.Append(Invariant($"cpu{i} {user / cpus} 0 0 {Math.Max(0, ticks - user / cpus)} 0 0 0 0 0 0\n"));
        }

        sb.Append(Invariant($"intr 0\nctxt 0\nbtime {kernel.BootTime.ToUnixTimeSeconds()}\nprocesses {kernel.Processes().Select(p => p.Pid).DefaultIfEmpty(0).Max()}\n"));
        sb.Append(Invariant($"procs_running 1\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n"));
        return sb.ToString();
    }

    private static char StateOf(ThreadGroup group, Task? caller) => group.State switch
    {
        ProcessState.Zombie => 'Z',
        ProcessState.Stopped => 'T',
        ProcessState.Reaped => 'X',
        _ => caller is not null && caller.Group == group ? 'R' : 'S',
    };

    private static string StateName(char state) => state switch
    {
        'R' => "R (running)",
        'S' => "S (sleeping)",
        'T' => "T (stopped)",
        'Z' => "Z (zombie)",
        _ => "X (dead)",
    };

    private static (ulong Size, ulong Data, ulong Stack, ulong Exec, ulong Start, ulong End) Memory(ThreadGroup group)
    {
        ulong size = 0, data = 0, stack = 0, exec = 0, start = 0, end = 0;
        if (group.State is ProcessState.Zombie or ProcessState.Reaped)
        {
            return default;
        }

        foreach (var v in group.Mm.Vmas())
        {
            size += v.Length;
            if (v.GrowsDown || v.Name == "[stack]")
            {
                stack += v.Length;
            }
            else if ((v.Prot & PageProt.Exec) != 0)
            {
                exec += v.Length;
                start = start == 0 ? v.Start : Math.Min(start, v.Start);
                end = Math.Max(end, v.End);
            }
            else if ((v.Prot & PageProt.Write) != 0 && !v.Shared)
            {
                data += v.Length;
            }
        }

        return (size, data, stack, exec, start, end);
    }

    /// <summary>/proc/[pid]/stat: the 52 fields of proc_pid_stat(5).</summary>
    private static string ProcessStat(ThreadGroup group, Task? thread, Task? caller)
    {
        var state = StateOf(group, caller);
        var tasks = thread is null ? group.Tasks() : [thread];
        var cpu = tasks.Sum(t => t.CpuTime.TotalSeconds);
        var m = Memory(group);
        var comm = thread?.Comm ?? group.Comm;
        var signal = group.SharedPending.Mask | tasks.Aggregate(0UL, (a, t) => a | t.Pending.Mask);
        var blocked = (thread ?? group.Tasks().FirstOrDefault())?.SignalMask ?? 0;
        var (ignored, caught) = Dispositions(group);
        var pid = thread?.Tid ?? group.Pid;
        return Invariant($"{pid} ({comm}) {state} {group.ParentPid} {group.ProcessGroup} {group.Session} 0 -1 4194304 0 0 0 0 ")
            + Invariant($"{(long)(cpu * Hz)} 0 0 0 20 0 {group.TaskCount} 0 0 {m.Size} {m.Size / 4096} 18446744073709551615 ")
            + Invariant($"{m.Start} {m.End} {AddressSpace.StackTop} 0 0 {signal & 0x7FFFFFFF} {blocked & 0x7FFFFFFF} {ignored & 0x7FFFFFFF} {caught & 0x7FFFFFFF} 0 0 0 ")
            + Invariant($"{group.ExitSignal} 0 0 0 0 0 0 0 0 0 0 0 0 0 {Math.Max(0, group.ExitStatus)}\n");
    }

    private static (ulong Ignored, ulong Caught) Dispositions(ThreadGroup group)
    {
        ulong ignored = 0, caught = 0;
        for (var sig = 1; sig <= 64; sig++)
        {
            var handler = group.Handlers[sig].Handler;
            if (handler == SigAction.Ignore)
            {
                ignored |= 1UL << (sig - 1);
            }
            else if (handler != SigAction.Default)
            {
                caught |= 1UL << (sig - 1);
            }
        }

        return (ignored, caught);
    }

    private static string Statm(ThreadGroup group)
    {
        var m = Memory(group);
        return Invariant($"{m.Size / 4096} {(m.Data + m.Stack + m.Exec) / 4096} 0 {m.Exec / 4096} 0 {(m.Data + m.Stack) / 4096} 0\n");
    }

    /// <summary>Every capability Linux 6.x knows (CAP_LAST_CAP = 40), as a capability mask.</summary>
    private const string AllCapabilities = "000001ffffffffff";

    /// <summary>/proc/[pid]/status.</summary>
    private static string Status(ThreadGroup group, Task? thread, Task? caller)
    {
        var m = Memory(group);
        var state = StateOf(group, caller);
        var (ignored, caught) = Dispositions(group);
        var pending = thread?.Pending.Mask ?? 0;
        var blocked = thread?.SignalMask ?? 0;
        var pid = thread?.Tid ?? group.Pid;
        var cpus = Environment.ProcessorCount;
        var allowed = cpus >= 64 ? ulong.MaxValue : (1UL << cpus) - 1;
        var kb = (ulong v) => Invariant($"{v / 1024,8} kB");
        var sb = new StringBuilder();
        sb.Append(Invariant($"Name:\t{thread?.Comm ?? group.Comm}\n"));
        sb.Append(Invariant($"Umask:\t{Convert.ToString(group.Umask, 8).PadLeft(4, '0')}\n"));
        sb.Append(Invariant($"State:\t{StateName(state)}\n"));
        sb.Append(Invariant($"Tgid:\t{group.Pid}\nNgid:\t0\nPid:\t{pid}\nPPid:\t{group.ParentPid}\nTracerPid:\t0\n"));
        var cred = thread?.Cred ?? group.Cred;
        sb.Append(Invariant($"Uid:\t{cred.Uid}\t{cred.Euid}\t{cred.Suid}\t{cred.Fsuid}\nGid:\t{cred.Gid}\t{cred.Egid}\t{cred.Sgid}\t{cred.Fsgid}\n"));
        sb.Append(Invariant($"FDSize:\t{Math.Max(64, (group.Fds.OpenFds().DefaultIfEmpty(0).Max() + 64) / 64 * 64)}\nGroups:\t"));
        foreach (var g in cred.Groups)
        {
            sb.Append(Invariant($"{g} "));
        }

        sb.Append('\n');
        sb.Append(Invariant($"NStgid:\t{group.Pid}\nNSpid:\t{pid}\nNSpgid:\t{group.ProcessGroup}\nNSsid:\t{group.Session}\n"));
        if (group.State is not (ProcessState.Zombie or ProcessState.Reaped))
        {
            sb.Append(Invariant($"VmPeak:\t{kb(m.Size)}\nVmSize:\t{kb(m.Size)}\nVmLck:\t{kb(0)}\nVmPin:\t{kb(0)}\n"));
            sb.Append(Invariant($"VmHWM:\t{kb(m.Data + m.Stack + m.Exec)}\nVmRSS:\t{kb(m.Data + m.Stack + m.Exec)}\n"));
            sb.Append(Invariant($"RssAnon:\t{kb(m.Data + m.Stack)}\nRssFile:\t{kb(m.Exec)}\nRssShmem:\t{kb(0)}\n"));
            sb.Append(Invariant($"VmData:\t{kb(m.Data)}\nVmStk:\t{kb(m.Stack)}\nVmExe:\t{kb(m.Exec)}\nVmLib:\t{kb(0)}\n"));
            sb.Append(Invariant($"VmPTE:\t{kb(m.Size / 512)}\nVmSwap:\t{kb(0)}\n"));
        }

        sb.Append(Invariant($"Threads:\t{group.TaskCount}\nSigQ:\t0/63704\n"));
        sb.Append(Invariant($"SigPnd:\t{pending:x16}\nShdPnd:\t{group.SharedPending.Mask:x16}\nSigBlk:\t{blocked:x16}\n"));
        sb.Append(Invariant($"SigIgn:\t{ignored:x16}\nSigCgt:\t{caught:x16}\n"));
        // Capabilities follow the uids (capabilities(7)): all permitted while any uid is 0, effective while the euid is.
        var permitted = cred.Uid == 0 || cred.Euid == 0 || cred.Suid == 0 ? AllCapabilities : "0000000000000000";
        sb.Append(Invariant($"CapInh:\t0000000000000000\nCapPrm:\t{permitted}\nCapEff:\t{(cred.IsPrivileged ? AllCapabilities : "0000000000000000")}\n"));
        sb.Append(Invariant($"CapBnd:\t{AllCapabilities}\nCapAmb:\t0000000000000000\n"));
        sb.Append(Invariant($"NoNewPrivs:\t{((thread?.NoNewPrivileges ?? false) ? 1 : 0)}\nSeccomp:\t0\nSeccomp_filters:\t0\n"));
        sb.Append("Speculation_Store_Bypass:\tnot vulnerable\n");
        sb.Append(Invariant($"Cpus_allowed:\t{allowed:x}\nCpus_allowed_list:\t{CpuList(cpus)}\n"));
        sb.Append("Mems_allowed:\t00000001\nMems_allowed_list:\t0\n");
        sb.Append("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
        return sb.ToString();
    }

    /// <summary>"0-3" style CPU lists (cpulist_parse's format).</summary>
    public static string CpuList(int count) => count <= 1 ? "0" : Invariant($"0-{count - 1}");

    /// <summary>/proc/[pid]/maps (show_map_vma): the name column starts at 73.</summary>
    private static string Maps(ThreadGroup group) => MapsOrSmaps(group, smaps: false);

    /// <summary>/proc/[pid]/smaps basics: each maps line, then its sizes (all resident, private, unswapped).</summary>
    private static string Smaps(ThreadGroup group) => MapsOrSmaps(group, smaps: true);

    /// <summary>/proc/[pid]/fdinfo/N: position, status flags (octal, O_CLOEXEC from the fd), mount id, inode.</summary>
    private static string FdInfo(ThreadGroup group, int fd)
    {
        if (group.Fds.Get(fd) is not { } file)
        {
            return "";
        }

        // do_dentry_open() drops the open-time-only flags from f_flags.
        var flags = file.Flags & ~(OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoCtty | OpenFlags.Truncate | OpenFlags.CloseOnExec);
        if (group.Fds.GetCloseOnExec(fd))
        {
            flags |= OpenFlags.CloseOnExec;
        }

        // Not every kind of file keeps Position itself; SEEK_CUR by 0 asks it.
        var pos = file is UserModeOS.Kernel.Ipc.PipeEnd ? 0 : Math.Max(file.Seek(0, 1), 0);
        var ino = file.Stat(out var st) == Errno.None ? st.Inode : 0;
        return Invariant($"pos:\t{pos}\nflags:\t0{Convert.ToString(flags, 8)}\nmnt_id:\t0\nino:\t{ino}\n") + file.ShowFdInfo();
    }

    private static string MapsOrSmaps(ThreadGroup group, bool smaps)
    {
        if (group.State is ProcessState.Zombie or ProcessState.Reaped)
        {
            return "";
        }

        var sb = new StringBuilder();
        foreach (var v in group.Mm.Vmas())
        {
            var perms = new string([
                (v.Prot & PageProt.Read) != 0 ? 'r' : '-',
                (v.Prot & PageProt.Write) != 0 ? 'w' : '-',
                (v.Prot & PageProt.Exec) != 0 ? 'x' : '-',
                v.Shared ? 's' : 'p',
            ]);
            uint major = 0, minor = 0;
            ulong ino = 0;
            var name = v.Name;
            if (v.File is { } f && f.Stat(out var st) == Errno.None)
            {
                major = (uint)(((st.Device >> 8) & 0xFFF) | ((st.Device >> 32) & ~0xFFFUL));
                minor = (uint)((st.Device & 0xFF) | ((st.Device >> 12) & ~0xFFUL));
                ino = st.Inode;
                name ??= f.Path;
            }

            var line = Invariant($"{v.Start:x8}-{v.End:x8} {perms} {(ulong)v.Offset:x8} {major:x2}:{minor:x2} {ino} ");
            if (name is not null)
            {
                line = line.PadRight(73) + name;
            }

            sb.Append(line).Append('\n');
            if (smaps)
            {
                AppendSmapsEntry(sb, v);
            }
        }

        return sb.ToString();
    }

    private static void AppendSmapsEntry(StringBuilder sb, Vma v)
    {
        var kb = v.Length / 1024;
        var anonymous = v.File is null ? kb : 0;
        void Field(string name, ulong value) => sb.Append(Invariant($"{name + ":",-16}{value,8} kB\n"));
        Field("Size", kb);
        Field("KernelPageSize", 4);
        Field("MMUPageSize", 4);
        Field("Rss", kb);
        Field("Pss", kb);
        Field("Pss_Dirty", anonymous);
        Field("Shared_Clean", 0);
        Field("Shared_Dirty", 0);
        Field("Private_Clean", kb - anonymous);
        Field("Private_Dirty", anonymous);
        Field("Referenced", kb);
        Field("Anonymous", anonymous);
        foreach (var name in (string[])["KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss", "Locked"])
        {
            Field(name, 0);
        }

        sb.Append("THPeligible:    0\n");
        var flags = new StringBuilder("VmFlags:");
        foreach (var (bit, name) in (ReadOnlySpan<(PageProt, string)>)[(PageProt.Read, "rd"), (PageProt.Write, "wr"), (PageProt.Exec, "ex")])
        {
            if ((v.Prot & bit) != 0)
            {
                flags.Append(' ').Append(name);
            }
        }

        if (v.Shared)
        {
            flags.Append(" sh");
        }

        flags.Append(" mr mw me");
        if (v.Shared)
        {
            flags.Append(" ms");
        }

        if (v.GrowsDown)
        {
            flags.Append(" gd");
        }

        sb.Append(flags).Append(" \n");
    }

    private static string Options(Mount m) =>
        (m.ReadOnly ? "ro" : "rw") + (m.NoSuid ? ",nosuid" : "") + (m.NoDev ? ",nodev" : "") + (m.NoExec ? ",noexec" : "") +
        (m.FileSystem.Type is "tmpfs" or "devtmpfs" ? "" : ",relatime");

    /// <summary>Spaces, tabs, newlines and backslashes are octal escapes in mount tables.</summary>
    private static string Escape(string s) => s.Replace("\\", "\\134", StringComparison.Ordinal).Replace(" ", "\\040", StringComparison.Ordinal)
        .Replace("\t", "\\011", StringComparison.Ordinal).Replace("\n", "\\012", StringComparison.Ordinal);

    private string Mounts()
    {
        var sb = new StringBuilder();
        foreach (var m in kernel.Vfs.Mounts.All())
        {
            sb.Append(Invariant($"{Escape(m.Source)} {Escape(m.MountPoint)} {m.FileSystem.Type} {Options(m)} 0 0\n"));
        }

        return sb.ToString();
    }

    private string MountInfo()
    {
        var sb = new StringBuilder();
        foreach (var m in kernel.Vfs.Mounts.All())
        {
            ulong dev = 0;
            if (m.FileSystem.Stat("/", null, out var st) == Errno.None)
            {
                dev = st.Device;
            }

            var major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFFUL);
            var minor = (dev & 0xFF) | ((dev >> 12) & ~0xFFUL);
            var superOptions = m.ReadOnly ? "ro" : "rw";
            sb.Append(Invariant($"{m.Id} {m.ParentId} {major}:{minor} / {Escape(m.MountPoint)} {Options(m)} - {m.FileSystem.Type} {Escape(m.Source)} {superOptions}\n"));
        }

        return sb.ToString();
    }
}
