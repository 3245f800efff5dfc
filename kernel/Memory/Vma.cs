using UserModeOS.Cpu.Memory;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Memory;

/// <summary>
/// A virtual memory area: a page-aligned range with one set of permissions and one backing
/// (anonymous, or a file at an offset). Pages are filled in lazily on first touch.
/// </summary>
public sealed class Vma
{
    public required ulong Start { get; set; }
    public required ulong End { get; set; }
    public required PageProt Prot { get; set; }
    public bool Shared { get; init; }
    public bool GrowsDown { get; init; }

    /// <summary>The file behind the mapping, or null for anonymous memory.</summary>
    public OpenFile? File { get; init; }

    /// <summary>The page cache entry behind a MAP_SHARED mapping of a regular file, or null.</summary>
    public CachedFile? Cache { get; init; }

    /// <summary>File offset of <see cref="Start"/>.</summary>
    public long Offset { get; set; }

    /// <summary>What /proc/self/maps shows for anonymous areas ("[heap]", "[stack]").</summary>
    public string? Name { get; init; }

    public ulong Length => End - Start;

    public Vma Split(ulong at)
    {
        var tail = new Vma
        {
            Start = at,
            End = End,
            Prot = Prot,
            Shared = Shared,
            GrowsDown = GrowsDown,
            File = File,
            Cache = Cache,
            Offset = Offset + (long)(at - Start),
            Name = Name,
        };
        File?.AddReference();
        Cache?.AddReference();
        End = at;
        return tail;
    }
}
