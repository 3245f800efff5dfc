using UserModeOS.Cpu;
using UserModeOS.Cpu.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Memory;

/// <summary>
/// A process's memory (Linux's mm_struct): the VMAs that say what may be mapped, over the
/// <see cref="GuestMemory"/> page table that holds what is. Pages are populated on first
/// touch through <see cref="HandleFault"/>.
/// </summary>
public sealed class AddressSpace : IPageFaultHandler, IDisposable
{
    public const ulong PageSize = GuestMemory.PageSize;

    /// <summary>Top of the user address space; the stack sits just below.</summary>
    public const ulong StackTop = 0x7FFF_FFFF_F000;

    /// <summary>Where top-down mmap placement starts without ASLR (below the stack and its growth room).</summary>
    public const ulong MmapTop = 0x7FFF_F000_0000;

    /// <summary>Where this address space's top-down mmap placement starts (randomised by execve under ASLR).</summary>
    public ulong MmapBase { get; set; } = MmapTop;

    /// <summary>The end of the user address space (the 47-bit canonical half).</summary>
    public const ulong UserTop = GuestMemory.UserEnd;

    /// <summary>The lowest address mmap hands out (vm.mmap_min_addr).</summary>
    public const ulong MmapMin = 0x10000;

    private readonly List<Vma> _vmas = new();
    private readonly Lock _lock = new();
    private int _users = 1;

    public AddressSpace(GuestMemory? memory = null)
    {
        Memory = memory ?? new GuestMemory();
        Memory.FaultHandler = this;
    }

    public GuestMemory Memory { get; }

    private int _membarrierRegistrations;

    /// <summary>The membarrier(2) REGISTER_* commands this address space has issued (as their command bits).</summary>
    public int MembarrierRegistrations => Volatile.Read(ref _membarrierRegistrations);

    public void AddMembarrierRegistration(int command) => Interlocked.Or(ref _membarrierRegistrations, command);

    /// <summary>Start of the heap (set by the loader, just past the program's bss).</summary>
    public ulong BrkStart { get; set; }

    /// <summary>Current program break.</summary>
    public ulong Brk { get; set; }

    public static ulong PageAlignUp(ulong v) => (v + PageSize - 1) & ~(PageSize - 1);

    public static ulong PageAlignDown(ulong v) => v & ~(PageSize - 1);

    /// <summary>A snapshot of the VMAs in address order.</summary>
    public List<Vma> Vmas()
    {
        lock (_lock)
        {
            return new List<Vma>(_vmas);
        }
    }

    public Vma? Find(ulong address)
    {
        lock (_lock)
        {
            return FindLocked(address);
        }
    }

    private Vma? FindLocked(ulong address)
    {
        foreach (var v in _vmas)
        {
            if (address < v.Start)
            {
                return null;
            }

            if (address < v.End)
            {
                return v;
            }
        }

        return null;
    }

    /// <summary>
    /// Maps [start, start+length) exactly, replacing anything there (MAP_FIXED semantics).
    /// <paramref name="length"/> must be page-aligned.
    /// </summary>
    public void MapFixed(ulong start, ulong length, PageProt prot, OpenFile? file = null, long offset = 0,
        bool shared = false, string? name = null, bool growsDown = false, CachedFile? cache = null)
    {
        lock (_lock)
        {
            RemoveLocked(start, length);
            var vma = new Vma
            {
                Start = start,
                End = start + length,
                Prot = prot,
                File = file,
                Cache = cache,
                Offset = offset,
                Shared = shared,
                Name = name,
                GrowsDown = growsDown,
            };
            file?.AddReference();
            var i = 0;
            while (i < _vmas.Count && _vmas[i].Start < start)
            {
                i++;
            }

            _vmas.Insert(i, vma);
        }
    }

    /// <summary>Finds a free range of <paramref name="length"/> bytes, top-down below <see cref="MmapBase"/>; 0 if none.</summary>
    public ulong FindFree(ulong length, ulong hint = 0)
    {
        lock (_lock)
        {
            if (hint != 0)
            {
                hint = PageAlignDown(hint);
                if (hint >= MmapMin && hint + length <= UserTop && IsFreeLocked(hint, length))
                {
                    return hint;
                }
            }

            var top = MmapBase;
            for (var i = _vmas.Count - 1; i >= 0; i--)
            {
                var v = _vmas[i];
                if (v.Start >= top)
                {
                    continue;
                }

                if (v.End <= top && top - v.End >= length)
                {
                    return top - length;
                }

                top = v.Start;
            }

            if (top >= MmapMin + length)
            {
                return top - length;
            }

            return 0;
        }
    }

    private bool IsFreeLocked(ulong start, ulong length)
    {
        foreach (var v in _vmas)
        {
            if (v.Start < start + length && start < v.End)
            {
                return false;
            }
        }

        return true;
    }

    public bool IsFree(ulong start, ulong length)
    {
        lock (_lock)
        {
            return IsFreeLocked(start, length);
        }
    }

    /// <summary>munmap(2): removes VMAs and pages in the range.</summary>
    public void Unmap(ulong start, ulong length)
    {
        lock (_lock)
        {
            RemoveLocked(start, length);
        }
    }

    private void RemoveLocked(ulong start, ulong length)
    {
        var end = start + length;
        for (var i = 0; i < _vmas.Count; i++)
        {
            var v = _vmas[i];
            if (v.End <= start || v.Start >= end)
            {
                continue;
            }

            if (v.Start < start)
            {
                var tail = v.Split(start);
                _vmas.Insert(i + 1, tail);
                continue;
            }

            if (v.End > end)
            {
                var tail = v.Split(end);
                _vmas.Insert(i + 1, tail);
            }

            _vmas.RemoveAt(i);
            v.Cache?.Release(v.File);
            v.File?.Release();
            i--;
        }

        Memory.Unmap(start, length);
    }

    /// <summary>
    /// msync(2): writes back the changes to MAP_SHARED file pages in the range. ENOMEM when
    /// part of the range is not mapped.
    /// </summary>
    public Errno Sync(ulong start, ulong length)
    {
        var end = start + length;
        List<Vma> hit = new();
        lock (_lock)
        {
            var cursor = start;
            foreach (var v in _vmas)
            {
                if (v.End <= cursor || v.Start >= end)
                {
                    continue;
                }

                if (v.Start > cursor)
                {
                    return Errno.ENOMEM;
                }

                cursor = v.End;
                if (v.Cache is not null)
                {
                    hit.Add(v);
                }
            }

            if (cursor < end)
            {
                return Errno.ENOMEM;
            }

            foreach (var v in hit)
            {
                var from = Math.Max(start, v.Start);
                var to = Math.Min(end, v.End);
                var first = (v.Offset + (long)(from - v.Start)) / (long)PageSize;
                var last = (v.Offset + (long)(to - v.Start) + (long)PageSize - 1) / (long)PageSize;
                var e = v.Cache!.WriteBack(v.File, first, last);
                if (e != Errno.None)
                {
                    return e;
                }
            }
        }

        return Errno.None;
    }

    /// <summary>True when every page of [start, start+length) lies in some VMA.</summary>
    public bool IsFullyMapped(ulong start, ulong length)
    {
        var end = start + length;
        lock (_lock)
        {
            var cursor = start;
            foreach (var v in _vmas)
            {
                if (v.End <= cursor || v.Start >= end)
                {
                    continue;
                }

                if (v.Start > cursor)
                {
                    return false;
                }

                cursor = v.End;
            }

            return cursor >= end;
        }
    }

    /// <summary>mprotect(2). Returns ENOMEM when part of the range is not mapped.</summary>
    public Errno Protect(ulong start, ulong length, PageProt prot)
    {
        var end = start + length;
        lock (_lock)
        {
            // The whole range must be mapped (mprotect(2), ENOMEM).
            var cursor = start;
            foreach (var v in _vmas)
            {
                if (v.End <= cursor || v.Start >= end)
                {
                    continue;
                }

                if (v.Start > cursor)
                {
                    return Errno.ENOMEM;
                }

                cursor = v.End;
            }

            if (cursor < end)
            {
                return Errno.ENOMEM;
            }

            for (var i = 0; i < _vmas.Count; i++)
            {
                var v = _vmas[i];
                if (v.End <= start || v.Start >= end)
                {
                    continue;
                }

                if (v.Start < start)
                {
                    _vmas.Insert(i + 1, v.Split(start));
                    continue;
                }

                if (v.End > end)
                {
                    _vmas.Insert(i + 1, v.Split(end));
                }

                v.Prot = prot;
            }

            MergeLocked();
        }

        Memory.Protect(start, length, prot);
        return Errno.None;
    }

    /// <summary>
    /// Joins neighbouring VMAs that have become alike again (after mprotect restores a
    /// protection), so /proc/self/maps shows one area as Linux does.
    /// </summary>
    private void MergeLocked()
    {
        for (var i = 1; i < _vmas.Count; i++)
        {
            var a = _vmas[i - 1];
            var b = _vmas[i];
            var alike = a.End == b.Start && a.Prot == b.Prot && a.Shared == b.Shared && a.GrowsDown == b.GrowsDown &&
                a.Name == b.Name && a.Cache is null && b.Cache is null && ReferenceEquals(a.File, b.File) &&
                (a.File is null || a.Offset + (long)a.Length == b.Offset);
            if (!alike)
            {
                continue;
            }

            a.End = b.End;
            _vmas.RemoveAt(i);
            b.File?.Release();
            i--;
        }
    }

    /// <summary>The page of the last fault past the end of a mapped file (plus one; 0 for none): SIGBUS, not SIGSEGV (mmap(2)).</summary>
    private ulong _busErrorPage;

    /// <summary>Reports (and clears) whether a failed fault at <paramref name="address"/> was a bus error.</summary>
    public bool TakeBusError(ulong address) => Interlocked.Exchange(ref _busErrorPage, 0) == PageAlignDown(address) + 1;

    /// <summary>How far below a MAP_GROWSDOWN area a fault may extend it (the default stack limit).</summary>
    private const ulong GrowsDownLimit = 8UL << 20;

    /// <summary>Extends a MAP_GROWSDOWN area down to a faulting address just below it; the area that now holds the address, or null.</summary>
    private Vma? GrowDownLocked(ulong address)
    {
        foreach (var v in _vmas)
        {
            if (v.Start <= address)
            {
                continue;
            }

            // The first area above the address: it must grow down, not too far, and keep a guard page to its neighbour.
            var newStart = PageAlignDown(address);
            var index = _vmas.IndexOf(v);
            var below = index > 0 ? _vmas[index - 1].End : 0;
            if (!v.GrowsDown || v.File is not null || v.Start - newStart > GrowsDownLimit || newStart < below + PageSize)
            {
                return null;
            }

            v.Start = newStart;
            return v;
        }

        return null;
    }

    /// <summary>Grows or moves a VMA's end (brk, mremap in place). The range past the old end must be free.</summary>
    public bool Extend(Vma vma, ulong newEnd)
    {
        lock (_lock)
        {
            if (newEnd > vma.End && !IsFreeLocked(vma.End, newEnd - vma.End))
            {
                return false;
            }

            if (newEnd < vma.End)
            {
                Memory.Unmap(newEnd, vma.End - newEnd);
            }

            vma.End = newEnd;
            return true;
        }
    }

    /// <summary>Populates the page behind a first touch, from the VMA's file or as zeros.</summary>
    public bool HandleFault(GuestMemory memory, ulong address, AccessKind access)
    {
        Vma? vma;
        lock (_lock)
        {
            vma = FindLocked(address) ?? GrowDownLocked(address);
        }

        if (vma is null)
        {
            return false;
        }

        var allowed = access switch
        {
            AccessKind.Write => (vma.Prot & PageProt.Write) != 0,
            AccessKind.Execute => (vma.Prot & PageProt.Exec) != 0,
            _ => vma.Prot != PageProt.None,
        };
        if (!allowed || memory.IsMapped(address))
        {
            // Present but not permitted: a real protection fault.
            return false;
        }

        var page = PageAlignDown(address);
        var offset = vma.Offset + (long)(page - vma.Start);
        if (vma.Cache is not null)
        {
            // MAP_SHARED: every mapping of the file (or every process sharing an anonymous area) maps the one page.
            var host = vma.Cache.GetPage(vma.File, offset / (long)PageSize);
            if (host == 0)
            {
                return false;
            }

            memory.MapSharedPage(page, vma.Prot, host);
            return true;
        }

        if (vma.File is null)
        {
            memory.PopulatePage(page, vma.Prot);
            return true;
        }

        Span<byte> contents = stackalloc byte[(int)PageSize];
        var n = vma.File.ReadAt(contents, offset);
        if (n < 0)
        {
            return false;
        }

        if (n == 0 && vma.File.Stat(out var st) == Errno.None && st.IsRegular && offset >= st.Size)
        {
            // The whole page lies past the end of the file.
            Interlocked.Exchange(ref _busErrorPage, page + 1);
            return false;
        }

        contents[(int)n..].Clear();
        memory.MapPage(page, vma.Prot, contents);
        return true;
    }

    // Called by GuestMemory.Fork under our lock (Fork holds it while copying the VMA list too).
    private bool IsSharedLocked(ulong address) => FindLocked(address)?.Shared == true;

    /// <summary>A copy-on-write duplicate (fork); MAP_SHARED areas stay shared.</summary>
    public AddressSpace Fork()
    {
        lock (_lock)
        {
            var child = new AddressSpace(Memory.Fork(IsSharedLocked))
            {
                BrkStart = BrkStart,
                Brk = Brk,
                MmapBase = MmapBase,
            };
            foreach (var v in _vmas)
            {
                v.File?.AddReference();
                v.Cache?.AddReference();
                child._vmas.Add(new Vma
                {
                    Start = v.Start,
                    End = v.End,
                    Prot = v.Prot,
                    Shared = v.Shared,
                    GrowsDown = v.GrowsDown,
                    File = v.File,
                    Cache = v.Cache,
                    Offset = v.Offset,
                    Name = v.Name,
                });
            }

            return child;
        }
    }

    /// <summary>One more process uses this address space (CLONE_VM without CLONE_THREAD: vfork, posix_spawn).</summary>
    public void AddUser() => Interlocked.Increment(ref _users);

    /// <summary>A process stopped using it (exit, execve); the last one frees it.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _users) == 0)
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var v in _vmas)
            {
                v.Cache?.Release(v.File);
                v.File?.Release();
            }

            _vmas.Clear();
        }

        Memory.Dispose();
    }
}
