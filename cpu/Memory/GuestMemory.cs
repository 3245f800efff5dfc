using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Memory;

/// <summary>
/// A guest address space at page granularity: a three-level table from 4 KiB guest pages to
/// host pages. The kernel decides what is mapped (VMAs); this class only holds the pages,
/// their permissions and the decoded-code cache that depends on them.
/// </summary>
/// <remarks>
/// Threading: any number of <see cref="CpuState"/>s may run on one instance. Changes to the
/// table take <see cref="_lock"/>; a change that revokes access bumps <see cref="Generation"/>
/// and every CPU flushes its TLB at its next block boundary.
/// </remarks>
public sealed unsafe class GuestMemory : IDisposable
{
    public const ulong PageSize = 4096;
    public const ulong PageMask = ~(PageSize - 1);

    /// <summary>The user half of the canonical 48-bit address space.</summary>
    public const ulong UserEnd = 1UL << 47;

    internal const ulong PteRead = 1, PteWrite = 2, PteExec = 4, PteCode = 8, PteCow = 16, PteShared = 32;
    internal const ulong PteFlags = 0xFFF;

    private const int LevelBits = 12;
    private const int LevelSize = 1 << LevelBits;
    private const int LevelMask = LevelSize - 1;

    // Host pages shared copy-on-write between address spaces, with the number of sharers.
    private static readonly ConcurrentDictionary<nint, int> SharedPages = new();

    private readonly ulong[]?[]?[] _root = new ulong[]?[]?[LevelSize];
    private readonly Lock _lock = new();
    private int _generation;

    public GuestMemory()
    {
        Blocks = new BlockCache(this);
    }

    /// <summary>Asked when an access finds no page or too few permissions.</summary>
    public IPageFaultHandler? FaultHandler { get; set; }

    /// <summary>Bumped whenever access is revoked; CPUs compare it with their TLB's.</summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>Decoded blocks of guest code in this address space.</summary>
    public BlockCache Blocks { get; }

    /// <summary>Number of host pages this address space maps.</summary>
    public long ResidentPages { get; private set; }

    internal void BumpGeneration() => Interlocked.Increment(ref _generation);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong GetPte(ulong address)
    {
        if (address >= UserEnd)
        {
            return 0;
        }

        var mid = _root[(int)(address >> 36) & LevelMask];
        if (mid is null)
        {
            return 0;
        }

        var leaf = mid[(int)(address >> 24) & LevelMask];
        return leaf is null ? 0 : Volatile.Read(ref leaf[(int)(address >> 12) & LevelMask]);
    }

    private ref ulong PteSlot(ulong address)
    {
        var mid = _root[(int)(address >> 36) & LevelMask] ??= new ulong[]?[LevelSize];
        var leaf = mid[(int)(address >> 24) & LevelMask] ??= new ulong[LevelSize];
        return ref leaf[(int)(address >> 12) & LevelMask];
    }

    private static ulong ProtBits(PageProt prot)
    {
        ulong bits = 0;
        // x86 cannot express write-only or execute-only pages: both imply read.
        if (prot != PageProt.None)
        {
            bits |= PteRead;
        }

        if ((prot & PageProt.Write) != 0)
        {
            bits |= PteWrite;
        }

        if ((prot & PageProt.Exec) != 0)
        {
            bits |= PteExec;
        }

        return bits;
    }

    /// <summary>True when a page is present at the address (whatever its permissions).</summary>
    public bool IsMapped(ulong address) => GetPte(address) != 0;

    /// <summary>Maps a fresh zeroed page at the page containing <paramref name="address"/> unless one is present.</summary>
    public void PopulatePage(ulong address, PageProt prot)
    {
        lock (_lock)
        {
            ref var slot = ref PteSlot(address);
            if (slot != 0)
            {
                return;
            }

            slot = (ulong)PagePool.Allocate() | ProtBits(prot);
            ResidentPages++;
        }
    }

    /// <summary>
    /// Maps a fresh page filled with <paramref name="contents"/> (zero-padded), replacing
    /// whatever was there.
    /// </summary>
    public void MapPage(ulong address, PageProt prot, ReadOnlySpan<byte> contents)
    {
        var page = PagePool.Allocate();
        contents[..Math.Min(contents.Length, (int)PageSize)].CopyTo(new Span<byte>((void*)page, (int)PageSize));
        lock (_lock)
        {
            ref var slot = ref PteSlot(address);
            if (slot != 0)
            {
                ReleasePage(address & PageMask, slot);
            }
            else
            {
                ResidentPages++;
            }

            slot = (ulong)page | ProtBits(prot);
        }

        BumpGeneration();
    }

    /// <summary>
    /// Maps an existing host page that another owner keeps alive (a page-cache page of a
    /// MAP_SHARED file mapping) at the page containing <paramref name="address"/>, replacing
    /// whatever was there. The page gains one sharer; unmapping drops it again, and the owner
    /// lets go of its own share with <see cref="ReleaseSharedPage"/>.
    /// </summary>
    public void MapSharedPage(ulong address, PageProt prot, nint host)
    {
        SharedPages.AddOrUpdate(host, 2, static (_, n) => n + 1);
        lock (_lock)
        {
            ref var slot = ref PteSlot(address);
            if (slot != 0)
            {
                ReleasePage(address & PageMask, slot);
            }
            else
            {
                ResidentPages++;
            }

            slot = (ulong)host | ProtBits(prot) | PteShared;
        }

        BumpGeneration();
    }

    /// <summary>The bytes of a host page from <see cref="PagePool"/> (for owners of shared pages, such as a page cache).</summary>
    public static Span<byte> HostPage(nint host) => new((void*)host, (int)PageSize);

    /// <summary>The owner of a page handed to <see cref="MapSharedPage"/> drops its share; the last sharer frees it.</summary>
    public static void ReleaseSharedPage(nint host)
    {
        if (!DropShare(host))
        {
            PagePool.Free(host);
        }
    }

    /// <summary>Removes every page in [address, address+length) and frees the host memory.</summary>
    public void Unmap(ulong address, ulong length)
    {
        lock (_lock)
        {
            for (var a = address & PageMask; a < address + length && a < UserEnd; a += PageSize)
            {
                var pte = GetPte(a);
                if (pte == 0)
                {
                    continue;
                }

                ReleasePage(a, pte);
                PteSlot(a) = 0;
                ResidentPages--;
            }
        }

        BumpGeneration();
    }

    /// <summary>Changes the permissions of the present pages in [address, address+length).</summary>
    public void Protect(ulong address, ulong length, PageProt prot)
    {
        var bits = ProtBits(prot);
        lock (_lock)
        {
            for (var a = address & PageMask; a < address + length && a < UserEnd; a += PageSize)
            {
                var pte = GetPte(a);
                if (pte == 0)
                {
                    continue;
                }

                PteSlot(a) = (pte & ~(PteRead | PteWrite | PteExec)) | bits;
            }
        }

        BumpGeneration();
    }

    /// <summary>Zero-fills the present pages of a range (madvise DONTNEED on private memory).</summary>
    public void Discard(ulong address, ulong length) => Unmap(address, length);

    /// <summary>
    /// A duplicate of this address space for fork: pages for which <paramref name="isShared"/>
    /// is true (MAP_SHARED) stay shared; every other page is shared copy-on-write until
    /// either side writes it.
    /// </summary>
    public GuestMemory Fork(Func<ulong, bool> isShared)
    {
        var child = new GuestMemory();
        lock (_lock)
        {
            for (var i = 0; i < LevelSize; i++)
            {
                var mid = _root[i];
                if (mid is null)
                {
                    continue;
                }

                for (var j = 0; j < LevelSize; j++)
                {
                    var leaf = mid[j];
                    if (leaf is null)
                    {
                        continue;
                    }

                    var childLeaf = (child._root[i] ??= new ulong[]?[LevelSize])[j] = new ulong[LevelSize];
                    for (var k = 0; k < LevelSize; k++)
                    {
                        var pte = leaf[k];
                        if (pte == 0)
                        {
                            continue;
                        }

                        var host = (nint)(pte & ~PteFlags);
                        var address = ((ulong)i << 36) | ((ulong)j << 24) | ((ulong)k << 12);
                        SharedPages.AddOrUpdate(host, 2, static (_, n) => n + 1);
                        if (isShared(address))
                        {
                            // Both keep writing the same page; PteShared makes freeing it a share drop.
                            pte |= PteShared;
                            leaf[k] = pte;
                            childLeaf[k] = pte & ~PteCode;
                        }
                        else
                        {
                            // The parent keeps its decoded-code mark; the child has decoded nothing yet.
                            leaf[k] = pte | PteCow;
                            childLeaf[k] = (pte & ~PteCode) | PteCow;
                        }

                        child.ResidentPages++;
                    }
                }
            }
        }

        BumpGeneration();
        return child;
    }

    private void ReleasePage(ulong address, ulong pte)
    {
        if ((pte & PteCode) != 0)
        {
            Blocks.InvalidatePage(address);
        }

        var host = (nint)(pte & ~PteFlags);
        if ((pte & (PteCow | PteShared)) != 0 && DropShare(host))
        {
            return;
        }

        PagePool.Free(host);
    }

    // Returns true when other sharers remain (the page must not be freed).
    private static bool DropShare(nint host)
    {
        while (SharedPages.TryGetValue(host, out var n))
        {
            if (n <= 1)
            {
                if (SharedPages.TryRemove(new KeyValuePair<nint, int>(host, n)))
                {
                    return false;
                }
            }
            else if (SharedPages.TryUpdate(host, n - 1, n))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Resolves a guest address for an access, populating lazily mapped pages, breaking
    /// copy-on-write and dropping decoded code on writes. Returns the host address, or 0
    /// when the access faults.
    /// </summary>
    internal nint Translate(ulong address, AccessKind access)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var pte = GetPte(address);
            var need = access switch
            {
                AccessKind.Write => PteWrite,
                AccessKind.Execute => PteExec,
                _ => PteRead,
            };
            if ((pte & need) == 0)
            {
                if (FaultHandler?.HandleFault(this, address, access) != true)
                {
                    return 0;
                }

                continue;
            }

            if (access == AccessKind.Write && (pte & (PteCow | PteCode)) != 0)
            {
                pte = PrepareForWrite(address);
            }

            return (nint)(pte & ~PteFlags) + (nint)(address & ~PageMask);
        }

        return 0;
    }

    private ulong PrepareForWrite(ulong address)
    {
        var page = address & PageMask;
        if ((GetPte(page) & PteCode) != 0)
        {
            Blocks.InvalidatePage(page);
        }

        lock (_lock)
        {
            ref var slot = ref PteSlot(page);
            var pte = slot;
            if ((pte & PteCow) != 0)
            {
                // Copy while the page is still shared, and so still read-only for every sharer:
                // once our share is dropped, the last remaining sharer may write it at once.
                // A page nobody else shares any more (they wrote or exited) is simply ours.
                var host = (nint)(pte & ~PteFlags);
                if (SharedPages.TryGetValue(host, out var sharers) && sharers > 1)
                {
                    var copy = PagePool.Allocate();
                    NativeMemory.Copy((void*)host, (void*)copy, (nuint)PageSize);
                    if (DropShare(host))
                    {
                        pte = (ulong)copy | (pte & PteFlags);

                        // Other threads of this address space may still read the old page through their TLBs.
                        BumpGeneration();
                    }
                    else
                    {
                        // Everyone else let go while we copied: the page is ours alone.
                        PagePool.Free(copy);
                    }
                }
                else
                {
                    DropShare(host);
                }

                pte &= ~PteCow;
            }

            pte &= ~PteCode;
            slot = pte;
            return pte;
        }
    }

    /// <summary>Marks a page as holding decoded code: writes to it now go the slow way.</summary>
    internal void MarkCode(ulong address)
    {
        lock (_lock)
        {
            ref var slot = ref PteSlot(address);
            if (slot == 0 || (slot & PteCode) != 0)
            {
                return;
            }

            slot |= PteCode;
        }

        BumpGeneration();
    }

    internal void ClearCode(ulong address)
    {
        lock (_lock)
        {
            ref var slot = ref PteSlot(address);
            slot &= ~PteCode;
        }
    }

    /// <summary>
    /// Atomically replaces the aligned 32-bit word at <paramref name="address"/> with
    /// <c>update(old)</c> as guest threads see it (kernel futex operations). False when the
    /// word is misaligned or the write faults.
    /// </summary>
    public bool TryAtomicUpdate32(ulong address, Func<uint, uint> update, out uint old)
    {
        old = 0;
        var host = (address & 3) == 0 ? Translate(address, AccessKind.Write) : 0;
        if (host == 0)
        {
            return false;
        }

        var p = (uint*)host;
        while (true)
        {
            old = Volatile.Read(ref *p);
            if (Interlocked.CompareExchange(ref *p, update(old), old) == old)
            {
                return true;
            }
        }
    }

    /// <summary>The host address behind a guest address for reading, identifying the page frame (shared futexes); 0 on a fault.</summary>
    public nint HostAddressForRead(ulong address) => Translate(address, AccessKind.Read);

    /// <summary>copy_from_user: reads guest memory with the guest's own permissions.</summary>
    public bool TryRead(ulong address, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            var host = Translate(address, AccessKind.Read);
            if (host == 0)
            {
                return false;
            }

            var chunk = (int)Math.Min((ulong)destination.Length, PageSize - (address & ~PageMask));
            new ReadOnlySpan<byte>((void*)host, chunk).CopyTo(destination);
            destination = destination[chunk..];
            address += (ulong)chunk;
        }

        return true;
    }

    /// <summary>copy_to_user: writes guest memory with the guest's own permissions.</summary>
    public bool TryWrite(ulong address, ReadOnlySpan<byte> source) => Write(address, source, AccessKind.Write);

    /// <summary>Writes regardless of page permissions (the loader filling read-only segments).</summary>
    public bool TryWriteInitial(ulong address, ReadOnlySpan<byte> source) => Write(address, source, AccessKind.Read);

    /// <summary>Copies into guest memory page by page; <paramref name="access"/> is the permission the pages must grant.</summary>
    private bool Write(ulong address, ReadOnlySpan<byte> source, AccessKind access)
    {
        while (!source.IsEmpty)
        {
            var host = Translate(address, access);
            if (host == 0)
            {
                return false;
            }

            var chunk = (int)Math.Min((ulong)source.Length, PageSize - (address & ~PageMask));
            source[..chunk].CopyTo(new Span<byte>((void*)host, chunk));
            source = source[chunk..];
            address += (ulong)chunk;
        }

        return true;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            for (var i = 0; i < LevelSize; i++)
            {
                var mid = _root[i];
                if (mid is null)
                {
                    continue;
                }

                for (var j = 0; j < LevelSize; j++)
                {
                    var leaf = mid[j];
                    if (leaf is null)
                    {
                        continue;
                    }

                    for (var k = 0; k < LevelSize; k++)
                    {
                        if (leaf[k] != 0)
                        {
                            ReleasePage(0, leaf[k] & ~PteCode);
                            leaf[k] = 0;
                        }
                    }
                }

                _root[i] = null;
            }

            ResidentPages = 0;
        }

        Blocks.Clear();
        BumpGeneration();
    }
}
