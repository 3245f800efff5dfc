namespace UserModeOS.Cpu.Memory;

/// <summary>Page permissions as mprotect(2) names them.</summary>
[Flags]
public enum PageProt : byte
{
    None = 0,
    Read = 1,
    Write = 2,
    Exec = 4,
}

/// <summary>
/// The kernel's side of a page fault: called when an access touches a page with no entry
/// (a lazily populated mapping) or one whose permissions refuse the access.
/// </summary>
public interface IPageFaultHandler
{
    /// <summary>Makes the access possible (maps a page) and returns true, or returns false for a real fault.</summary>
    bool HandleFault(GuestMemory memory, ulong address, AccessKind access);
}
