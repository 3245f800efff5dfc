namespace UserModeOS.Kernel;

/// <summary>
/// A process's filesystem context (Linux's fs_struct): root, working directory and umask;
/// shared with CLONE_FS. Guest paths (the cwd, open files' paths, what getcwd and /proc
/// show) are relative to <see cref="Root"/>; the path walk maps them onto the mount table.
/// </summary>
public sealed class FsContext
{
    public FsContext(string cwd)
    {
        Cwd = cwd;
    }

    /// <summary>Current working directory, a normalised guest path.</summary>
    public string Cwd { get; set; }

    public uint Umask { get; set; } = 0x12;

    /// <summary>
    /// The process's root directory (chroot(2)) as a canonical path of the mount table: "/"
    /// unless the process changed it. Walks start here and ".." stops here.
    /// </summary>
    public string Root { get; set; } = "/";

    /// <summary>
    /// Set when a chroot(2) left the cwd outside the new root: the cwd's mount-table path
    /// (getcwd then answers "(unreachable)" + it, as Linux does); relative walks start at the
    /// root meanwhile. Cleared by the next chdir or fchdir.
    /// </summary>
    public string? UnreachableCwd { get; set; }

    public FsContext Clone() => new(Cwd) { Umask = Umask, Root = Root, UnreachableCwd = UnreachableCwd };
}
