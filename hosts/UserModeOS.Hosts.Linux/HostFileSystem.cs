using System.Runtime.Versioning;
using System.Text;
using UserModeOS.Hosts.Linux.Interop;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Hosts.Linux;

/// <summary>
/// A host folder passed through as the guest's root. Guest paths arrive normalised (no
/// "." or ".."), so they are joined under the folder; symlinks inside the folder are still
/// followed by the host until the guest VFS resolves them itself.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class HostFileSystem : IHostFileSystem
{
    private const uint PermissionBits = 0xFFF;
    private const uint SetGid = 0x400;

    private readonly string _root;

    /// <summary>The host process's umask, which the host applies on top of the guest's.</summary>
    private readonly uint _hostUmask;

    public HostFileSystem(string rootFolder)
    {
        _root = Path.GetFullPath(rootFolder).TrimEnd('/');
        _hostUmask = ReadHostUmask();
    }

    private string HostPath(string guestPath) => guestPath == "/" ? (_root.Length == 0 ? "/" : _root) : _root + guestPath;

    private static Errno Check(int result) => result == 0 ? Errno.None : (Errno)Libc.Errno;

    /// <summary>umask(2) cannot be read without changing it (racy with other threads); /proc shows it.</summary>
    private static uint ReadHostUmask()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("Umask:", StringComparison.Ordinal))
                {
                    return Convert.ToUInt32(line["Umask:".Length..].Trim(), 8);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0x12;
    }

    /// <summary>
    /// Host fds are always close-on-exec: the guest's FD_CLOEXEC lives in its fd table, and
    /// host child processes must not inherit guest files. A mode the host umask would
    /// narrow is restored after an exclusive create, so the guest gets exactly its mode.
    /// </summary>
    public Errno Open(string path, int flags, uint mode, out OpenFile? file)
    {
        file = null;
        var host = HostPath(path);
        var hostFlags = flags | OpenFlags.LargeFile | OpenFlags.CloseOnExec;
        var creates = (flags & OpenFlags.Path) == 0 &&
            ((flags & OpenFlags.Create) != 0 || (flags & OpenFlags.TmpFile) == OpenFlags.TmpFile);
        var fixMode = creates && (mode & _hostUmask & PermissionBits) != 0;
        int fd;
        if (!fixMode)
        {
            fd = Libc.Open(host, hostFlags, mode);
        }
        else if ((flags & OpenFlags.TmpFile) == OpenFlags.TmpFile || (flags & OpenFlags.Exclusive) != 0)
        {
            fd = Libc.Open(host, hostFlags, mode);
            if (fd >= 0)
            {
                Libc.Fchmod(fd, mode & PermissionBits);
            }
        }
        else
        {
            // Only a file this call creates gets the mode: try the existing file first, then
            // an exclusive create; a lost race (or a dangling symlink) falls back to O_CREAT.
            fd = Libc.Open(host, hostFlags & ~OpenFlags.Create, mode);
            if (fd >= 0 && IsDirectory(fd))
            {
                // O_CREAT never opens a directory.
                Libc.Close(fd);
                return Errno.EISDIR;
            }

            if (fd < 0 && Libc.Errno == (int)Errno.ENOENT)
            {
                fd = Libc.Open(host, hostFlags | OpenFlags.Exclusive, mode);
                if (fd >= 0)
                {
                    Libc.Fchmod(fd, mode & PermissionBits);
                }
                else if (Libc.Errno == (int)Errno.EEXIST)
                {
                    fd = Libc.Open(host, hostFlags, mode);
                }
            }
        }

        if (fd < 0)
        {
            return (Errno)Libc.Errno;
        }

        file = new HostFile(fd, path, flags);
        return Errno.None;
    }

    private static bool IsDirectory(int fd)
    {
        var buffer = stackalloc byte[StatInfo.StatSize];
        return Libc.Fstat(fd, buffer) == 0 && HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize)).IsDirectory;
    }

    public Errno Stat(string path, bool followSymlink, out StatInfo stat)
    {
        var buffer = stackalloc byte[StatInfo.StatSize];
        if (Libc.Fstatat(Libc.AtFdCwd, HostPath(path), buffer, followSymlink ? 0 : Libc.AtSymlinkNoFollow) != 0)
        {
            stat = default;
            return (Errno)Libc.Errno;
        }

        stat = HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize));
        return Errno.None;
    }

    public Errno ReadLink(string path, out string target)
    {
        const int Max = 4096;
        var buffer = stackalloc byte[Max];
        var n = Libc.Readlink(HostPath(path), buffer, Max);
        if (n < 0)
        {
            target = "";
            return (Errno)Libc.Errno;
        }

        target = Encoding.UTF8.GetString(buffer, (int)n);
        return Errno.None;
    }

    public Errno Access(string path, int mode) =>
        Check(Libc.Faccessat(Libc.AtFdCwd, HostPath(path), mode, 0));

    public Errno Access(string path, int mode, bool followSymlink, bool effectiveIds) =>
        Check(Libc.Faccessat(
            Libc.AtFdCwd,
            HostPath(path),
            mode,
            (followSymlink ? 0 : Libc.AtSymlinkNoFollow) | (effectiveIds ? Libc.AtEAccess : 0)));

    public Errno MakeDirectory(string path, uint mode)
    {
        var host = HostPath(path);
        if (Libc.Mkdir(host, mode) != 0)
        {
            return (Errno)Libc.Errno;
        }

        // Restore the bits the host umask took, keeping a set-group-ID inherited from the parent.
        if ((mode & _hostUmask & PermissionBits) != 0 && Stat(path, followSymlink: false, out var st) == Errno.None)
        {
            Libc.Fchmodat(Libc.AtFdCwd, host, (st.Mode & SetGid) | (mode & PermissionBits), 0);
        }

        return Errno.None;
    }

    public Errno Unlink(string path, bool removeDirectory) =>
        Check(Libc.Unlinkat(Libc.AtFdCwd, HostPath(path), removeDirectory ? Libc.AtRemoveDir : 0));

    public Errno Rename(string oldPath, string newPath, int flags) =>
        Check(Libc.Renameat2(Libc.AtFdCwd, HostPath(oldPath), Libc.AtFdCwd, HostPath(newPath), (uint)flags));

    public Errno Symlink(string target, string linkPath) => Check(Libc.Symlink(target, HostPath(linkPath)));

    public Errno Link(string oldPath, string newPath, bool followSymlink) =>
        Check(Libc.Linkat(Libc.AtFdCwd, HostPath(oldPath), Libc.AtFdCwd, HostPath(newPath), followSymlink ? Libc.AtSymlinkFollow : 0));

    public Errno Chmod(string path, uint mode, bool followSymlink) =>
        Check(Libc.Fchmodat(Libc.AtFdCwd, HostPath(path), mode, followSymlink ? 0 : Libc.AtSymlinkNoFollow));

    public Errno Chown(string path, int uid, int gid, bool followSymlink) =>
        Check(Libc.Fchownat(Libc.AtFdCwd, HostPath(path), uid, gid, followSymlink ? 0 : Libc.AtSymlinkNoFollow));

    public Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify, bool followSymlink)
    {
        var times = stackalloc long[4] { access.Seconds, access.Nanos, modify.Seconds, modify.Nanos };
        return Check(Libc.Utimensat(Libc.AtFdCwd, HostPath(path), times, followSymlink ? 0 : Libc.AtSymlinkNoFollow));
    }

    public Errno Truncate(string path, long length) => Check(Libc.Truncate(HostPath(path), length));
}
