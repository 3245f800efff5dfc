namespace UserModeOS.Kernel;

/// <summary>A process's filesystem context (Linux's fs_struct): working directory and umask; shared with CLONE_FS.</summary>
public sealed class FsContext
{
    public FsContext(string cwd)
    {
        Cwd = cwd;
    }

    /// <summary>Current working directory, a normalised guest path.</summary>
    public string Cwd { get; set; }

    public uint Umask { get; set; } = 0x12;

    public FsContext Clone() => new(Cwd) { Umask = Umask };
}
