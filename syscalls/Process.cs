using System.Buffers.Binary;
using System.Text;
using UserModeOS.Cpu;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>Process and thread lifetime and the per-process odds and ends: exit, ids, TLS, limits, uname.</summary>
internal static unsafe class Process
{
    private const int ArchSetGs = 0x1001, ArchSetFs = 0x1002, ArchGetFs = 0x1003, ArchGetGs = 0x1004;
    private const int RobustListHeadSize = 24;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Exit, &Exit, Arg.Int);
        t.Add(Nr.ExitGroup, &ExitGroup, Arg.Int);
        t.Add(Nr.Getpid, &Getpid);
        t.Add(Nr.Gettid, &Gettid);
        t.Add(Nr.Getppid, &Getppid);
        t.Add(Nr.SetTidAddress, &SetTidAddress, Arg.Ptr);
        t.Add(Nr.SetRobustList, &SetRobustList, Arg.Ptr, Arg.Int);
        t.Add(Nr.Rseq, &Rseq, Arg.Ptr, Arg.Int, Arg.Hex, Arg.Hex);
        t.Add(Nr.ArchPrctl, &ArchPrctl, Arg.Hex, Arg.Hex);
        t.Add(Nr.Prlimit64, &Prlimit64, Arg.Int, Arg.Int, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Getrlimit, &Getrlimit, Arg.Int, Arg.Ptr);
        t.Add(Nr.Setrlimit, &Setrlimit, Arg.Int, Arg.Ptr);
        t.Add(Nr.Uname, &Uname, Arg.Ptr);
        t.Add(Nr.Sysinfo, &Sysinfo, Arg.Ptr);
        t.Add(Nr.SchedGetaffinity, &SchedGetaffinity, Arg.Int, Arg.Int, Arg.Ptr);
        t.Add(Nr.SchedYield, &SchedYield);
        t.Add(Nr.Prctl, &Prctl, Arg.Int, Arg.Hex, Arg.Hex, Arg.Hex, Arg.Hex);
        t.Add(Nr.Personality, &PersonalityCall, Arg.Hex);
    }

    /// <summary>personality(2): 0xffffffff only queries; anything else is stored and the old value returned.</summary>
    private static long PersonalityCall(Task t, in SyscallArgs a)
    {
        var old = t.Group.Personality;
        if ((uint)a.A0 != uint.MaxValue)
        {
            t.Group.Personality = (uint)a.A0;
        }

        return old;
    }

    private const int PrSetPdeathsig = 1, PrGetPdeathsig = 2, PrGetDumpable = 3, PrSetDumpable = 4;
    private const int PrSetName = 15, PrGetName = 16, PrSetNoNewPrivs = 38, PrGetNoNewPrivs = 39;
    private const int CommSize = 16;

    /// <summary>prctl(2): the process attributes programs commonly set.</summary>
    private static long Prctl(Task t, in SyscallArgs a)
    {
        Span<byte> b = stackalloc byte[CommSize];
        switch ((int)a.A0)
        {
            case PrSetName:
            {
                if (!t.CopyIn(a.A1, b[..1]))
                {
                    return Errors.EFAULT;
                }

                // The name is at most 15 bytes; it may end before an unmapped page.
                var name = t.ReadString(a.A1, CommSize) ?? ReadTruncated(t, a.A1);
                if (name is null)
                {
                    return Errors.EFAULT;
                }

                t.Comm = name.Length >= CommSize ? name[..(CommSize - 1)] : name;
                return 0;
            }

            case PrGetName:
            {
                b.Clear();
                Encoding.UTF8.GetBytes(t.Comm, b[..(CommSize - 1)]);
                return t.CopyOut(a.A1, b) ? 0 : Errors.EFAULT;
            }

            case PrSetPdeathsig:
                if (a.A1 > Signals.Max)
                {
                    return Errors.EINVAL;
                }

                t.ParentDeathSignal = (int)a.A1;
                return 0;
            case PrGetPdeathsig:
                BinaryPrimitives.WriteInt32LittleEndian(b, t.ParentDeathSignal);
                return t.CopyOut(a.A1, b[..4]) ? 0 : Errors.EFAULT;
            case PrGetDumpable:
                return t.Group.Dumpable ? 1 : 0;
            case PrSetDumpable:
                if (a.A1 > 1)
                {
                    return Errors.EINVAL;
                }

                t.Group.Dumpable = a.A1 == 1;
                return 0;
            case PrSetNoNewPrivs:
                if (a.A1 != 1 || a.A2 != 0 || a.A3 != 0 || a.A4 != 0)
                {
                    return Errors.EINVAL;
                }

                t.NoNewPrivileges = true;
                return 0;
            case PrGetNoNewPrivs:
                return t.NoNewPrivileges ? 1 : 0;
            default:
                return Errors.EINVAL;
        }
    }

    private static string? ReadTruncated(Task t, ulong address)
    {
        var bytes = new List<byte>();
        Span<byte> one = stackalloc byte[1];
        while (bytes.Count < CommSize - 1 && t.CopyIn(address + (ulong)bytes.Count, one) && one[0] != 0)
        {
            bytes.Add(one[0]);
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static long Exit(Task t, in SyscallArgs a)
    {
        t.ExitThread((int)a.A0);
        return 0;
    }

    private static long ExitGroup(Task t, in SyscallArgs a)
    {
        t.Group.Exit(ThreadGroup.ExitedStatus((int)a.A0));
        return 0;
    }

    private static long Getpid(Task t, in SyscallArgs a) => t.Group.Pid;

    private static long Gettid(Task t, in SyscallArgs a) => t.Tid;

    private static long Getppid(Task t, in SyscallArgs a) => t.Group.ParentPid;

    private static long SetTidAddress(Task t, in SyscallArgs a)
    {
        t.ClearChildTid = a.A0;
        return t.Tid;
    }

    private static long SetRobustList(Task t, in SyscallArgs a)
    {
        if (a.A1 != RobustListHeadSize)
        {
            return Errors.EINVAL;
        }

        t.RobustListHead = a.A0;
        return 0;
    }

    // Restartable sequences are an optimisation glibc probes for and does without.
    private static long Rseq(Task t, in SyscallArgs a) => Errors.ENOSYS;

    private static long ArchPrctl(Task t, in SyscallArgs a)
    {
        switch ((int)a.A0)
        {
            case ArchSetFs:
                if (a.A1 >= Cpu.Memory.GuestMemory.UserEnd)
                {
                    return Errors.Fail(Errno.EPERM);
                }

                t.Cpu.FsBase = a.A1;
                return 0;
            case ArchSetGs:
                if (a.A1 >= Cpu.Memory.GuestMemory.UserEnd)
                {
                    return Errors.Fail(Errno.EPERM);
                }

                t.Cpu.GsBase = a.A1;
                return 0;
            case ArchGetFs:
                return WriteU64(t, a.A1, t.Cpu.FsBase);
            case ArchGetGs:
                return WriteU64(t, a.A1, t.Cpu.GsBase);
            default:
                return Errors.EINVAL;
        }
    }

    private static long WriteU64(Task t, ulong address, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return t.CopyOut(address, b) ? 0 : Errors.EFAULT;
    }

    private static long Prlimit64(Task t, in SyscallArgs a)
    {
        var pid = (int)a.A0;
        if (pid != 0 && pid != t.Group.Pid)
        {
            return Errors.Fail(Errno.ESRCH);
        }

        return Limit(t, (int)a.A1, a.A2, a.A3);
    }

    private static long Getrlimit(Task t, in SyscallArgs a) => Limit(t, (int)a.A0, 0, a.A1);

    private static long Setrlimit(Task t, in SyscallArgs a) => Limit(t, (int)a.A0, a.A1, 0);

    private static long Limit(Task t, int resource, ulong newAddress, ulong oldAddress)
    {
        if ((uint)resource >= ResourceLimit.Count)
        {
            return Errors.EINVAL;
        }

        var limits = t.Group.Limits;
        Span<byte> b = stackalloc byte[16];
        ResourceLimit? wanted = null;
        if (newAddress != 0)
        {
            if (!t.CopyIn(newAddress, b))
            {
                return Errors.EFAULT;
            }

            var w = new ResourceLimit(BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]));
            if (w.Current > w.Maximum)
            {
                return Errors.EINVAL;
            }

            // Only a privileged process may raise a hard limit; our guests run as root.
            wanted = w;
        }

        if (oldAddress != 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, limits[resource].Current);
            BinaryPrimitives.WriteUInt64LittleEndian(b[8..], limits[resource].Maximum);
            if (!t.CopyOut(oldAddress, b))
            {
                return Errors.EFAULT;
            }
        }

        if (wanted is { } set)
        {
            limits[resource] = set;
        }

        return 0;
    }

    /// <summary>The kernel release we report; glibc and programs only parse the version numbers.</summary>
    public const string Release = "6.1.0-umos";

    private static long Uname(Task t, in SyscallArgs a)
    {
        const int Field = 65;
        var b = new byte[Field * 6];
        void Put(int i, string s) => Encoding.ASCII.GetBytes(s, b.AsSpan(i * Field, Math.Min(s.Length, Field - 1)));
        Put(0, "Linux");
        Put(1, t.Kernel.Config.Hostname);
        Put(2, Release);
        Put(3, "#1 SMP PREEMPT_DYNAMIC UserModeOS");
        Put(4, "x86_64");
        Put(5, "(none)");
        return t.CopyOut(a.A0, b) ? 0 : Errors.EFAULT;
    }

    private static long Sysinfo(Task t, in SyscallArgs a)
    {
        var b = new byte[112];
        var uptime = (long)(DateTimeOffset.UtcNow - t.Kernel.BootTime).TotalSeconds;
        var info = GC.GetGCMemoryInfo();
        BinaryPrimitives.WriteInt64LittleEndian(b, uptime);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(32), (ulong)info.TotalAvailableMemoryBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(40), (ulong)Math.Max(0, info.TotalAvailableMemoryBytes - info.MemoryLoadBytes));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(80), (ushort)t.Kernel.ProcessCount);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(104), 1);
        return t.CopyOut(a.A0, b) ? 0 : Errors.EFAULT;
    }

    private static long SchedGetaffinity(Task t, in SyscallArgs a)
    {
        // The kernel's cpumask is a whole number of longs; a smaller buffer is EINVAL.
        const int MaskBytes = 8;
        if (a.A1 < MaskBytes || (a.A1 & 7) != 0)
        {
            return Errors.EINVAL;
        }

        var cpus = Math.Min(Environment.ProcessorCount, 64);
        Span<byte> b = stackalloc byte[MaskBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(b, cpus == 64 ? ulong.MaxValue : (1UL << cpus) - 1);
        return t.CopyOut(a.A2, b) ? MaskBytes : Errors.EFAULT;
    }

    private static long SchedYield(Task t, in SyscallArgs a)
    {
        Thread.Yield();
        return 0;
    }
}
