using UserModeOS.Cpu.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Memory;

/// <summary>
/// One kernel's page cache for MAP_SHARED file mappings: host pages keyed by the file's
/// identity (device and inode) and page index. Every shared mapping of the same file, in any
/// process of the kernel, maps the same host page, so a store through one is seen at once
/// through all the others.
/// </summary>
/// <remarks>
/// Dirty pages are found by comparing each page with a copy of what the file last held
/// there; only the bytes that changed are written back (msync, munmap, exit), and never past
/// the file's current size. read(2) and write(2) do not go through the cache; instead they keep
/// it coherent: a read or write of a file with cached pages first writes back the changes
/// made through mappings, and a write re-reads the cached pages it touched
/// (<see cref="Lookup"/>, <see cref="CachedFile.WriteBack"/>, <see cref="CachedFile.Refresh"/>).
/// </remarks>
public sealed class PageCache
{
    private readonly Dictionary<(ulong Device, ulong Inode), CachedFile> _files = new();
    private readonly Lock _lock = new();

    /// <summary>Number of files with at least one shared mapping.</summary>
    public int FileCount
    {
        get
        {
            lock (_lock)
            {
                return _files.Count;
            }
        }
    }

    /// <summary>
    /// The cache entry for a regular file, with one more mapping reference (drop it with
    /// <see cref="CachedFile.Release"/>); null for anything that is not a regular file.
    /// </summary>
    public CachedFile? Acquire(OpenFile file)
    {
        const uint TypeMask = 0xF000, Regular = 0x8000;
        if (file.Stat(out var st) != Errno.None || (st.Mode & TypeMask) != Regular)
        {
            return null;
        }

        lock (_lock)
        {
            if (!_files.TryGetValue((st.Device, st.Inode), out var cached))
            {
                cached = new CachedFile(this, st.Device, st.Inode);
                _files.Add((st.Device, st.Inode), cached);
            }

            cached.References++;
            cached.Remember(file);
            Volatile.Write(ref _count, _files.Count);
            return cached;
        }
    }

    private int _count;

    /// <summary>The cache entry of the file <paramref name="file"/> is open on, if it has one; cheap while nothing is mapped shared.</summary>
    public CachedFile? Lookup(OpenFile file)
    {
        if (Volatile.Read(ref _count) == 0 || file.Stat(out var st) != Errno.None)
        {
            return null;
        }

        lock (_lock)
        {
            return _files.GetValueOrDefault((st.Device, st.Inode));
        }
    }

    /// <summary>The backing of one anonymous MAP_SHARED mapping: zero pages that survive fork, outside any file's cache.</summary>
    public static CachedFile CreateAnonymous() => new(null, 0, 0) { References = 1 };

    // Called with SyncRoot held.
    internal void ForgetLocked(CachedFile file)
    {
        _files.Remove((file.Device, file.Inode));
        Volatile.Write(ref _count, _files.Count);
    }

    internal Lock SyncRoot => _lock;
}

/// <summary>The cached pages of one file, shared by every MAP_SHARED mapping of it.</summary>
public sealed class CachedFile
{
    private const int PageSize = (int)GuestMemory.PageSize;

    private readonly PageCache? _cache;
    private readonly Lock _referencesLock;
    private readonly Dictionary<long, Page> _pages = new();
    private readonly Lock _lock = new();

    internal CachedFile(PageCache? cache, ulong device, ulong inode)
    {
        _cache = cache;
        _referencesLock = cache?.SyncRoot ?? new Lock();
        Device = device;
        Inode = inode;
    }

    public ulong Device { get; }
    public ulong Inode { get; }

    // Open files of the mapped file kept for write-back and refresh on behalf of read(2)/write(2) callers.
    private OpenFile? _reader, _writer;

    internal void Remember(OpenFile file)
    {
        lock (_lock)
        {
            if (_reader is null)
            {
                file.AddReference();
                _reader = file;
            }

            if (_writer is null && file.CanWrite)
            {
                file.AddReference();
                _writer = file;
            }
        }
    }

    /// <summary>
    /// After write(2) put <paramref name="length"/> bytes at <paramref name="offset"/>: the cached
    /// pages of that range are read again, so the mappings show the new data.
    /// </summary>
    public void Refresh(long offset, long length)
    {
        lock (_lock)
        {
            if (_reader is null || _pages.Count == 0 || length <= 0)
            {
                return;
            }

            var fresh = new byte[PageSize];
            var first = offset / PageSize;
            var last = (offset + Math.Min(length, long.MaxValue - offset) - 1) / PageSize;
            foreach (var (index, page) in _pages)
            {
                if (index < first || index > last)
                {
                    continue;
                }

                var n = _reader.ReadAt(fresh, index * PageSize);
                if (n < 0)
                {
                    continue;
                }

                fresh.AsSpan((int)n).Clear();
                fresh.CopyTo(page.Clean, 0);
                fresh.CopyTo(GuestMemory.HostPage(page.Host));
            }
        }
    }

    /// <summary>Mappings (VMAs) that use this entry; guarded by the cache's lock.</summary>
    internal int References { get; set; }

    private sealed class Page(nint host, byte[] clean)
    {
        public nint Host { get; } = host;

        /// <summary>What the file held at this page when it was last read or written back.</summary>
        public byte[] Clean { get; } = clean;
    }

    /// <summary>One more mapping uses this entry (a VMA split or fork).</summary>
    public void AddReference()
    {
        lock (_referencesLock)
        {
            References++;
        }
    }

    /// <summary>
    /// The host page holding page <paramref name="index"/> of the file, read from
    /// <paramref name="file"/> on first use; 0 when the read fails.
    /// </summary>
    public nint GetPage(OpenFile? file, long index)
    {
        lock (_lock)
        {
            if (_pages.TryGetValue(index, out var page))
            {
                return page.Host;
            }

            var host = PagePool.Allocate();
            var contents = GuestMemory.HostPage(host);
            var n = file is null ? 0 : file.ReadAt(contents, index * PageSize);
            if (n < 0)
            {
                GuestMemory.ReleaseSharedPage(host);
                return 0;
            }

            contents[(int)n..].Clear();
            _pages.Add(index, new Page(host, contents.ToArray()));
            return host;
        }
    }

    /// <summary>
    /// Writes the changed bytes of the cached pages in [<paramref name="first"/>,
    /// <paramref name="end"/>) (page indices) back through <paramref name="file"/>, up to the
    /// file's size. A file not open for writing cannot have been written through; it is skipped.
    /// </summary>
    public Errno WriteBack(OpenFile? file, long first = 0, long end = long.MaxValue)
    {
        lock (_lock)
        {
            if (file is null || !file.CanWrite)
            {
                file = _writer;
            }

            if (file is null)
            {
                return Errno.None;
            }

            if (_pages.Count == 0)
            {
                return Errno.None;
            }

            if (file.Stat(out var st) != Errno.None)
            {
                return Errno.EIO;
            }

            foreach (var (index, page) in _pages)
            {
                var offset = index * PageSize;
                if (index < first || index >= end || offset >= st.Size)
                {
                    continue;
                }

                var length = (int)Math.Min(PageSize, st.Size - offset);
                var now = (ReadOnlySpan<byte>)GuestMemory.HostPage(page.Host)[..length];
                var was = page.Clean.AsSpan(0, length);
                var from = now.CommonPrefixLength(was);
                if (from == length)
                {
                    continue;
                }

                var to = length;
                while (to > from && now[to - 1] == was[to - 1])
                {
                    to--;
                }

                var changed = now[from..to].ToArray();
                var written = file.WriteAt(changed, offset + from);
                if (written < 0)
                {
                    return (Errno)(-written);
                }

                changed.CopyTo(page.Clean.AsSpan(from));
            }
        }

        return Errno.None;
    }

    /// <summary>A mapping is gone: its changes are written back, and the last one frees the pages.</summary>
    public void Release(OpenFile? file)
    {
        WriteBack(file);
        bool last;
        lock (_referencesLock)
        {
            last = --References == 0;
            if (last)
            {
                _cache?.ForgetLocked(this);
            }
        }

        if (!last)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var page in _pages.Values)
            {
                GuestMemory.ReleaseSharedPage(page.Host);
            }

            _pages.Clear();
            _reader?.Release();
            _writer?.Release();
            _reader = _writer = null;
        }
    }

    /// <summary>Whether a page is resident in the cache.</summary>
    public bool IsCached(long index)
    {
        lock (_lock)
        {
            return _pages.ContainsKey(index);
        }
    }
}
