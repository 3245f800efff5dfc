namespace UserModeOS.Kernel;

/// <summary>One resource limit: soft (current) and hard (maximum) values; <see cref="Infinity"/> is RLIM_INFINITY.</summary>
public record struct ResourceLimit(ulong Current, ulong Maximum)
{
    public const ulong Infinity = ulong.MaxValue;
    public const int Count = 16;
    public const int Stack = 3, NoFile = 7;

    /// <summary>The limits a fresh Linux login session has.</summary>
    public static ResourceLimit[] Defaults()
    {
        var limits = new ResourceLimit[Count];
        Array.Fill(limits, new ResourceLimit(Infinity, Infinity));
        limits[Stack] = new ResourceLimit(8UL << 20, Infinity);
        limits[NoFile] = new ResourceLimit(Vfs.FdTable.MaxFds, Vfs.FdTable.MaxFds);
        return limits;
    }
}
