using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace UserModeOS.Cpu.Memory;

/// <summary>
/// Host memory for guest pages. Pages are carved from large aligned chunks and recycled,
/// never handed back to the host allocator: a thread whose TLB still names a page that
/// another thread just unmapped then touches stale guest data, never freed host memory.
/// </summary>
public static unsafe class PagePool
{
    public const int PageSize = 4096;
    private const int PagesPerChunk = 256;

    private static readonly ConcurrentStack<nint> FreePages = new();
    private static readonly Lock ChunkLock = new();

    /// <summary>A zero-filled page.</summary>
    public static nint Allocate()
    {
        if (!FreePages.TryPop(out var page))
        {
            lock (ChunkLock)
            {
                if (!FreePages.TryPop(out page))
                {
                    var chunk = (nint)NativeMemory.AlignedAlloc(PageSize * PagesPerChunk, PageSize);
                    for (var i = PagesPerChunk - 1; i > 0; i--)
                    {
                        FreePages.Push(chunk + i * PageSize);
                    }

                    page = chunk;
                }
            }
        }

        NativeMemory.Clear((void*)page, PageSize);
        return page;
    }

    public static void Free(nint page)
    {
        FreePages.Push(page);
    }
}
