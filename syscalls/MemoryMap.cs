using UserModeOS.Cpu.Memory;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Memory;

namespace UserModeOS.Syscalls;

/// <summary>mmap(2), munmap(2), mprotect(2), brk(2), mremap(2), madvise(2).</summary>
internal static unsafe class MemoryMap
{
    private const int ProtMask = 7;
    private const int MapShared = 1, MapPrivate = 2, MapSharedValidate = 3, MapTypeMask = 3;
    private const int MapFixed = 0x10, MapAnonymous = 0x20, MapGrowsDown = 0x100, MapFixedNoReplace = 0x100000;
    private const int MremapMayMove = 1, MremapFixed = 2;
    private const int MadvDontNeed = 4;
    private const ulong PageSize = AddressSpace.PageSize;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Mmap, &Mmap, Arg.Ptr, Arg.Int, Arg.Hex, Arg.Hex, Arg.Fd, Arg.Hex);
        t.Add(Nr.Munmap, &Munmap, Arg.Ptr, Arg.Int);
        t.Add(Nr.Mprotect, &Mprotect, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Brk, &Brk, Arg.Ptr);
        t.Add(Nr.Mremap, &Mremap, Arg.Ptr, Arg.Int, Arg.Int, Arg.Hex, Arg.Ptr);
        t.Add(Nr.Madvise, &Madvise, Arg.Ptr, Arg.Int, Arg.Int);
    }

    private static PageProt ToProt(ulong prot) => (PageProt)(prot & ProtMask);

    private static long Mmap(Task t, in SyscallArgs a)
    {
        var addr = a.A0;
        var length = a.A1;
        var prot = a.A2;
        var flags = (int)a.A3;
        var fd = (int)a.A4;
        var offset = (long)a.A5;
        var mm = t.Group.Mm;

        if (length == 0 || (offset & (long)(PageSize - 1)) != 0 || (prot & ~(ulong)ProtMask) != 0)
        {
            return Errors.EINVAL;
        }

        var type = flags & MapTypeMask;
        if (type is not (MapShared or MapPrivate or MapSharedValidate))
        {
            return Errors.EINVAL;
        }

        var size = AddressSpace.PageAlignUp(length);
        if (size < length || size >= Cpu.Memory.GuestMemory.UserEnd)
        {
            return Errors.ENOMEM;
        }

        Kernel.Vfs.OpenFile? file = null;
        if ((flags & MapAnonymous) == 0)
        {
            file = t.Group.Fds.Get(fd);
            if (file is null)
            {
                return Errors.EBADF;
            }

            if (!file.CanRead)
            {
                return Errors.Fail(Errno.EACCES);
            }

            // A writable shared mapping writes to the file: the fd must be open for writing.
            if (type != MapPrivate && (prot & (ulong)PageProt.Write) != 0 && !file.CanWrite)
            {
                return Errors.Fail(Errno.EACCES);
            }
        }

        ulong start;
        if ((flags & (MapFixed | MapFixedNoReplace)) != 0)
        {
            if ((addr & (PageSize - 1)) != 0 || addr + size > Cpu.Memory.GuestMemory.UserEnd || addr < AddressSpace.MmapMin)
            {
                return Errors.EINVAL;
            }

            if ((flags & MapFixedNoReplace) != 0 && (flags & MapFixed) == 0 && !mm.IsFree(addr, size))
            {
                return Errors.Fail(Errno.EEXIST);
            }

            start = addr;
        }
        else
        {
            start = mm.FindFree(size, addr);
            if (start == 0)
            {
                return Errors.ENOMEM;
            }
        }

        // A shared mapping of a regular file maps the kernel's page cache pages (writes reach the
        // file on msync, munmap and exit); an anonymous one stays shared across fork.
        var cache = type == MapPrivate ? null
            : file is null ? PageCache.CreateAnonymous()
            : t.Group.Kernel.PageCache.Acquire(file);
        mm.MapFixed(start, size, ToProt(prot), file, file is null ? 0 : offset, shared: type != MapPrivate, growsDown: (flags & MapGrowsDown) != 0, cache: cache);
        return (long)start;
    }

    private static long Munmap(Task t, in SyscallArgs a)
    {
        if ((a.A0 & (PageSize - 1)) != 0 || a.A1 == 0 || a.A0 + a.A1 > Cpu.Memory.GuestMemory.UserEnd)
        {
            return Errors.EINVAL;
        }

        t.Group.Mm.Unmap(a.A0, AddressSpace.PageAlignUp(a.A1));
        return 0;
    }

    private static long Mprotect(Task t, in SyscallArgs a)
    {
        // PROT_GROWSDOWN/GROWSUP (0x01000000/0x02000000) extend the range; we accept and ignore them.
        const ulong GrowsFlags = 0x03000000;
        if ((a.A0 & (PageSize - 1)) != 0 || (a.A2 & ~(ulong)ProtMask & ~GrowsFlags) != 0)
        {
            return Errors.EINVAL;
        }

        if (a.A1 == 0)
        {
            return 0;
        }

        // A shared file mapping may become writable only through an fd open for writing.
        if ((a.A2 & (ulong)PageProt.Write) != 0)
        {
            var end = a.A0 + AddressSpace.PageAlignUp(a.A1);
            foreach (var v in t.Group.Mm.Vmas())
            {
                if (v.Start < end && a.A0 < v.End && v.Shared && v.File is { CanWrite: false })
                {
                    return Errors.Fail(Errno.EACCES);
                }
            }
        }

        var e = t.Group.Mm.Protect(a.A0, AddressSpace.PageAlignUp(a.A1), ToProt(a.A2));
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    private static long Brk(Task t, in SyscallArgs a)
    {
        var mm = t.Group.Mm;
        var wanted = a.A0;
        if (wanted < mm.BrkStart)
        {
            return (long)mm.Brk;
        }

        var oldTop = AddressSpace.PageAlignUp(mm.Brk);
        var newTop = AddressSpace.PageAlignUp(wanted);
        if (newTop > oldTop)
        {
            if (!mm.IsFree(oldTop, newTop - oldTop))
            {
                return (long)mm.Brk;
            }

            mm.MapFixed(oldTop, newTop - oldTop, PageProt.Read | PageProt.Write, name: "[heap]");
        }
        else if (newTop < oldTop)
        {
            mm.Unmap(newTop, oldTop - newTop);
        }

        mm.Brk = wanted;
        return (long)wanted;
    }

    private static long Mremap(Task t, in SyscallArgs a)
    {
        var oldAddr = a.A0;
        var oldSize = AddressSpace.PageAlignUp(a.A1);
        var newSize = AddressSpace.PageAlignUp(a.A2);
        var flags = (int)a.A3;
        var mm = t.Group.Mm;
        if ((oldAddr & (PageSize - 1)) != 0 || newSize == 0 || (flags & ~(MremapMayMove | MremapFixed)) != 0 ||
            ((flags & MremapFixed) != 0 && (flags & MremapMayMove) == 0))
        {
            return Errors.EINVAL;
        }

        var vma = mm.Find(oldAddr);
        if (vma is null || oldAddr + oldSize > vma.End)
        {
            return Errors.Fail(Errno.EFAULT);
        }

        if ((flags & MremapFixed) == 0)
        {
            if (newSize <= oldSize)
            {
                if (newSize < oldSize)
                {
                    mm.Unmap(oldAddr + newSize, oldSize - newSize);
                }

                return (long)oldAddr;
            }

            // Grow in place when the VMA ends here and the space after it is free.
            if (oldAddr + oldSize == vma.End && mm.Extend(vma, oldAddr + newSize))
            {
                return (long)oldAddr;
            }

            if ((flags & MremapMayMove) == 0)
            {
                return Errors.ENOMEM;
            }
        }

        var target = (flags & MremapFixed) != 0 ? a.A4 : mm.FindFree(newSize);
        if (target == 0 || (target & (PageSize - 1)) != 0)
        {
            return (flags & MremapFixed) != 0 ? Errors.EINVAL : Errors.ENOMEM;
        }

        vma.Cache?.AddReference();
        mm.MapFixed(target, newSize, vma.Prot, vma.File, vma.Offset + (long)(oldAddr - vma.Start), vma.Shared, vma.Name, cache: vma.Cache);
        CopyPages(mm, oldAddr, target, Math.Min(oldSize, newSize));
        mm.Unmap(oldAddr, oldSize);
        return (long)target;
    }

    /// <summary>Moves the contents of present pages (absent ones are still untouched zero or file pages).</summary>
    private static void CopyPages(AddressSpace mm, ulong from, ulong to, ulong length)
    {
        var page = new byte[PageSize];
        for (ulong off = 0; off < length; off += PageSize)
        {
            if (!mm.Memory.IsMapped(from + off))
            {
                continue;
            }

            mm.Memory.TryRead(from + off, page);
            mm.Memory.TryWriteInitial(to + off, page);
        }
    }

    private static long Madvise(Task t, in SyscallArgs a)
    {
        if ((a.A0 & (PageSize - 1)) != 0)
        {
            return Errors.EINVAL;
        }

        if ((int)a.A2 == MadvDontNeed)
        {
            // Private anonymous pages read back as zeros; file pages are re-read from the file.
            var vma = t.Group.Mm.Find(a.A0);
            if (vma is not null && !vma.Shared)
            {
                t.Group.Mm.Memory.Discard(a.A0, AddressSpace.PageAlignUp(a.A1));
            }
        }

        return 0;
    }
}
