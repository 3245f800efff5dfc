using System.Buffers.Binary;
using UserModeOS.Kernel;

namespace UserModeOS.Syscalls;

/// <summary>wait4(2), waitid(2), getrusage(2).</summary>
internal static unsafe class Wait
{
    private const int Wait4Options = Kernel.Kernel.WNoHang | Kernel.Kernel.WUntraced | Kernel.Kernel.WContinued |
        Kernel.Kernel.WNoThread | Kernel.Kernel.WAll | Kernel.Kernel.WClone;

    private const int WaitidOptions = Wait4Options | Kernel.Kernel.WExited | Kernel.Kernel.WNoWait;
    private const int RusageSelf = 0, RusageChildren = -1, RusageThread = 1;
    private const int RusageSize = 144;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Wait4, &Wait4, Arg.Int, Arg.Ptr, Arg.Hex, Arg.Ptr);
        t.Add(Nr.Waitid, &Waitid, Arg.Int, Arg.Int, Arg.Ptr, Arg.Hex, Arg.Ptr);
        t.Add(Nr.Getrusage, &Getrusage, Arg.Int, Arg.Ptr);
    }

    private static long Wait4(Task t, in SyscallArgs a)
    {
        var pid = (int)a.A0;
        var options = (int)a.A2;
        if ((options & ~Wait4Options) != 0 || pid == int.MinValue)
        {
            return Errors.EINVAL;
        }

        var (idType, id) = pid switch
        {
            < -1 => (Kernel.Kernel.PPgid, -pid),
            -1 => (Kernel.Kernel.PAll, 0),
            0 => (Kernel.Kernel.PPgid, t.Group.ProcessGroup),
            _ => (Kernel.Kernel.PPid, pid),
        };
        var r = t.Kernel.Wait(t, idType, id, options | Kernel.Kernel.WExited, out var result);
        if (r <= 0)
        {
            return r;
        }

        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, result.Status);
        if (a.A1 != 0 && !t.CopyOut(a.A1, b))
        {
            return Errors.EFAULT;
        }

        return a.A3 != 0 && !WriteRusage(t, a.A3, result.CpuTime) ? Errors.EFAULT : r;
    }

    private static long Waitid(Task t, in SyscallArgs a)
    {
        var idType = (int)a.A0;
        var id = (int)a.A1;
        var options = (int)a.A3;
        if ((options & ~WaitidOptions) != 0 ||
            (options & (Kernel.Kernel.WExited | Kernel.Kernel.WUntraced | Kernel.Kernel.WContinued)) == 0 ||
            idType is not (Kernel.Kernel.PAll or Kernel.Kernel.PPid or Kernel.Kernel.PPgid))
        {
            return Errors.EINVAL;
        }

        if (idType == Kernel.Kernel.PPgid && id == 0)
        {
            id = t.Group.ProcessGroup;
        }

        var r = t.Kernel.Wait(t, idType, id, options, out var result);
        if (r < 0)
        {
            return r;
        }

        if (a.A2 != 0)
        {
            // With WNOHANG and nothing to report, the siginfo is zeroed (si_pid 0).
            var info = new byte[SigInfo.Size];
            if (r > 0)
            {
                var status = result.Code == SigInfo.CldExited ? (result.Status >> 8) & 0xFF
                    : result.Code is SigInfo.CldKilled or SigInfo.CldDumped ? result.Status & 0x7F
                    : result.Code == SigInfo.CldStopped ? (result.Status >> 8) & 0xFF
                    : Signals.SIGCONT;
                new SigInfo
                {
                    Signo = Signals.SIGCHLD,
                    Code = result.Code,
                    Layout = SigInfoLayout.Child,
                    Pid = result.Pid,
                    Status = status,
                }.Write(info);
            }

            if (!t.CopyOut(a.A2, info))
            {
                return Errors.EFAULT;
            }
        }

        return a.A4 != 0 && !WriteRusage(t, a.A4, result.CpuTime) ? Errors.EFAULT : 0;
    }

    private static long Getrusage(Task t, in SyscallArgs a)
    {
        var time = (int)a.A0 switch
        {
            RusageSelf => t.Group.CpuTime,
            RusageThread => t.CpuTime,
            RusageChildren => t.Group.ReapedChildrenCpuTime,
            _ => (TimeSpan?)null,
        };
        if (time is null)
        {
            return Errors.EINVAL;
        }

        return WriteRusage(t, a.A1, time.Value) ? 0 : Errors.EFAULT;
    }

    /// <summary>struct rusage: our CPU time is all user time (guest code and the kernel run on the same host thread).</summary>
    private static bool WriteRusage(Task t, ulong address, TimeSpan cpu)
    {
        var b = new byte[RusageSize];
        BinaryPrimitives.WriteInt64LittleEndian(b, (long)cpu.TotalSeconds);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(8), cpu.Ticks % TimeSpan.TicksPerSecond / 10);
        return t.CopyOut(address, b);
    }
}
