using UserModeOS.Cpu.Memory;

namespace UserModeOS.Cpu.Decoding;

/// <summary>
/// Decoded blocks of one address space by guest address, plus which pages each block was
/// decoded from so that a write to or unmapping of a page drops exactly those blocks.
/// </summary>
public sealed class BlockCache
{
    private readonly GuestMemory _memory;
    private readonly Dictionary<ulong, Block> _byRip = new();
    private readonly Dictionary<ulong, List<Block>> _byPage = new();
    private readonly Lock _lock = new();

    internal BlockCache(GuestMemory memory)
    {
        _memory = memory;
    }

    /// <summary>Number of live blocks.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byRip.Count;
            }
        }
    }

    internal Block? Find(ulong rip)
    {
        lock (_lock)
        {
            return _byRip.GetValueOrDefault(rip);
        }
    }

    internal Block Add(Block block)
    {
        lock (_lock)
        {
            if (_byRip.TryGetValue(block.Rip, out var existing) && existing.Valid)
            {
                return existing;
            }

            _byRip[block.Rip] = block;
            foreach (var page in block.Pages)
            {
                if (!_byPage.TryGetValue(page, out var list))
                {
                    _byPage[page] = list = new List<Block>();
                }

                list.Add(block);
            }
        }

        foreach (var page in block.Pages)
        {
            _memory.MarkCode(page);
        }

        return block;
    }

    /// <summary>Drops every block decoded from the page (it is being written or unmapped).</summary>
    internal void InvalidatePage(ulong page)
    {
        page &= GuestMemory.PageMask;
        lock (_lock)
        {
            if (_byPage.Remove(page, out var list))
            {
                foreach (var block in list)
                {
                    block.Invalidate();
                    if (_byRip.TryGetValue(block.Rip, out var current) && current == block)
                    {
                        _byRip.Remove(block.Rip);
                    }
                }
            }
        }

        _memory.ClearCode(page);
    }

    internal void Clear()
    {
        lock (_lock)
        {
            foreach (var block in _byRip.Values)
            {
                block.Invalidate();
            }

            _byRip.Clear();
            _byPage.Clear();
        }
    }
}
