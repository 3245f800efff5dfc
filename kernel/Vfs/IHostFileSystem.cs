namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// The host's side of a folder mounted in the guest (a host port). Paths are guest paths
/// relative to the mount, always absolute and already normalised ("/bin/ls"); the host
/// maps them into its folder. A path may end in "/" when the guest's did: its last
/// component must then be a directory, as on Linux. Modes given to calls that create files are applied exactly:
/// the caller has already applied the guest's umask, and the host's own umask must not
/// take more bits away.
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

    /// <summary>faccessat2(2): <paramref name="effectiveIds"/> is AT_EACCESS.</summary>
    Errno Access(string path, int mode, bool followSymlink, bool effectiveIds);

    /// <summary>mkdir(2); <paramref name="mode"/> is the final permission bits (umask applied).</summary>
    Errno MakeDirectory(string path, uint mode);

    /// <summary>unlink(2), or rmdir(2) when <paramref name="removeDirectory"/> is true.</summary>
    Errno Unlink(string path, bool removeDirectory);

    /// <summary>renameat2(2) with RENAME_NOREPLACE/RENAME_EXCHANGE/RENAME_WHITEOUT flags.</summary>
    Errno Rename(string oldPath, string newPath, int flags);

    /// <summary>symlink(2): creates <paramref name="linkPath"/> holding <paramref name="target"/> verbatim.</summary>
    Errno Symlink(string target, string linkPath);

    /// <summary>link(2); <paramref name="followSymlink"/> is linkat's AT_SYMLINK_FOLLOW.</summary>
    Errno Link(string oldPath, string newPath, bool followSymlink);

    /// <summary>chmod(2), or fchmodat(AT_SYMLINK_NOFOLLOW) when <paramref name="followSymlink"/> is false.</summary>
    Errno Chmod(string path, uint mode, bool followSymlink);

    /// <summary>chown(2)/lchown(2); -1 leaves an id unchanged.</summary>
    Errno Chown(string path, int uid, int gid, bool followSymlink);

    /// <summary>
    /// utimensat(2): each time is (seconds, nanoseconds), where nanoseconds may be
    /// UTIME_NOW ((1 &lt;&lt; 30) - 1) or UTIME_OMIT ((1 &lt;&lt; 30) - 2).
    /// </summary>
    Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify, bool followSymlink);

    /// <summary>truncate(2).</summary>
    Errno Truncate(string path, long length);
}
