namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// The host's side of a folder mounted in the guest (a host port). Paths are guest paths
/// relative to the mount, always absolute and already normalised ("/bin/ls"); the host
/// maps them into its folder.
/// </summary>
public interface IHostFileSystem
{
    /// <summary>open(2) with Linux flags and mode.</summary>
    Errno Open(string path, int flags, uint mode, out OpenFile? file);

    /// <summary>stat(2), or lstat(2) when <paramref name="followSymlink"/> is false.</summary>
    Errno Stat(string path, bool followSymlink, out StatInfo stat);

    /// <summary>readlink(2).</summary>
    Errno ReadLink(string path, out string target);

    /// <summary>access(2) with R_OK/W_OK/X_OK bits (F_OK = 0).</summary>
    Errno Access(string path, int mode);
}
