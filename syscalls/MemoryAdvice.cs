using UserModeOS.Kernel;
using UserModeOS.Kernel.Memory;

namespace UserModeOS.Syscalls;

/// <summary>msync(2), mincore(2), the mlock family and membarrier(2).</summary>
internal static unsafe class MemoryAdvice
{
    private const ulong PageSize = AddressSpace.PageSize;
    private const int MsAsync = 1, MsInvalidate = 2, MsSync = 4;
    private const int MclCurrent = 1, MclFuture = 2, MclOnFault = 4;
    private const int MlockOnFault = 1;

    // membarrier(2) commands.
    private const int MbQuery = 0, MbGlobal = 1, MbGlobalExpedited = 2, MbRegisterGlobalExpedited = 4;
    private const int MbPrivateExpedited = 8, MbRegisterPrivateExpedited = 16;
    private const int MbPrivateExpeditedSyncCore = 32, MbRegisterPrivateExpeditedSyncCore = 64;
    private const int MbPrivateExpeditedRseq = 128, MbRegisterPrivateExpeditedRseq = 256;
    private const int MbGetRegistrations = 512, MbFlagCpu = 1;

    /// <summary>Every command we implement. There is no rseq, so no critical section can need restarting: the RSEQ barrier is a plain one.</summary>
    private const int MbSupported = 0x3FF;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Msync, &Msync, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Mincore, &Mincore, Arg.Ptr, Arg.Int, Arg.Ptr);
        t.Add(Nr.Mlock, &Mlock, Arg.Ptr, Arg.Int);
        t.Add(Nr.Mlock2, &Mlock2, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Munlock, &Munlock, Arg.Ptr, Arg.Int);
        t.Add(Nr.Mlockall, &Mlockall, Arg.Hex);
        t.Add(Nr.Munlockall, &Munlockall);
        t.Add(Nr.Membarrier, &Membarrier, Arg.Int, Arg.Hex, Arg.Int);
    }

    private static long Msync(Task t, in SyscallArgs a)
    {
        var start = a.A0;
        var flags = (long)a.A2;
        if ((flags & ~(long)(MsAsync | MsInvalidate | MsSync)) != 0 || (start & (PageSize - 1)) != 0 ||
            ((flags & MsAsync) != 0 && (flags & MsSync) != 0))
        {
            return Errors.EINVAL;
        }

        var length = AddressSpace.PageAlignUp(a.A1);
        if (start + length < start || length < a.A1)
        {
            return Errors.ENOMEM;
        }

        if (length == 0)
        {
            return 0;
        }

        // MS_ASYNC writes back at once too: the file is then current, which is what it promises eventually.
        var e = t.Group.Mm.Sync(start, length);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    private static long Mincore(Task t, in SyscallArgs a)
    {
        var start = a.A0;
        if ((start & (PageSize - 1)) != 0)
        {
            return Errors.EINVAL;
        }

        var length = a.A1;
        if (start + length < start || start + length > Cpu.Memory.GuestMemory.UserEnd)
        {
            return Errors.ENOMEM;
        }

        var pages = (length + PageSize - 1) / PageSize;
        var mm = t.Group.Mm;
        if (pages == 0)
        {
            return 0;
        }

        if (!mm.IsFullyMapped(start, pages * PageSize))
        {
            return Errors.ENOMEM;
        }

        var vector = new byte[pages];
        for (ulong i = 0; i < pages; i++)
        {
            var address = start + i * PageSize;
            var resident = mm.Memory.IsMapped(address);
            if (!resident && mm.Find(address) is { Cache: not null } vma)
            {
                resident = vma.Cache.IsCached((vma.Offset + (long)(address - vma.Start)) / (long)PageSize);
            }

            vector[i] = resident ? (byte)1 : (byte)0;
        }

        return mm.Memory.TryWrite(a.A2, vector) ? 0 : Errors.EFAULT;
    }

    /// <summary>mlock and munlock: nothing is ever paged out, so locking only checks the range is mapped.</summary>
    private static long CheckLockRange(Task t, ulong address, ulong length)
    {
        var start = AddressSpace.PageAlignDown(address);
        var end = AddressSpace.PageAlignUp(address + length);
        if (address + length < address || end < address)
        {
            return Errors.EINVAL;
        }

        if (end == start)
        {
            return 0;
        }

        return t.Group.Mm.IsFullyMapped(start, end - start) ? 0 : Errors.ENOMEM;
    }

    private static long Mlock(Task t, in SyscallArgs a) => CheckLockRange(t, a.A0, a.A1);

    private static long Mlock2(Task t, in SyscallArgs a) =>
        (a.A2 & ~(ulong)MlockOnFault) != 0 ? Errors.EINVAL : CheckLockRange(t, a.A0, a.A1);

    private static long Munlock(Task t, in SyscallArgs a) => CheckLockRange(t, a.A0, a.A1);

    private static long Mlockall(Task t, in SyscallArgs a)
    {
        var flags = a.A0;
        if (flags == 0 || (flags & ~(ulong)(MclCurrent | MclFuture | MclOnFault)) != 0 || flags == MclOnFault)
        {
            return Errors.EINVAL;
        }

        return 0;
    }

    private static long Munlockall(Task t, in SyscallArgs a) => 0;

    private static long Membarrier(Task t, in SyscallArgs a)
    {
        var cmd = (int)a.A0;
        var flags = (uint)a.A1;
        if (cmd == MbPrivateExpeditedRseq ? flags is not (0 or MbFlagCpu) : flags != 0)
        {
            return Errors.EINVAL;
        }

        var mm = t.Group.Mm;
        switch (cmd)
        {
            case MbQuery:
                return MbSupported;
            case MbGlobal:
            case MbGlobalExpedited:
                Interlocked.MemoryBarrierProcessWide();
                return 0;
            case MbRegisterGlobalExpedited:
            case MbRegisterPrivateExpedited:
            case MbRegisterPrivateExpeditedSyncCore:
            case MbRegisterPrivateExpeditedRseq:
                mm.AddMembarrierRegistration(cmd);
                return 0;
            case MbPrivateExpedited:
            case MbPrivateExpeditedSyncCore:
            case MbPrivateExpeditedRseq:
                // The matching registration is the command's bit doubled.
                if ((mm.MembarrierRegistrations & (cmd << 1)) == 0)
                {
                    return Errors.Fail(Errno.EPERM);
                }

                Interlocked.MemoryBarrierProcessWide();
                return 0;
            case MbGetRegistrations:
                return mm.MembarrierRegistrations;
            default:
                return Errors.EINVAL;
        }
    }
}
