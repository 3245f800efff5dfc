using System.Runtime.Versioning;
using System.Text;
using UserModeOS.Hosts.Linux.Interop;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Hosts.Linux;

/// <summary>
/// hostfs: a host folder mounted in the guest, behind a wall. The folder is opened once;
/// every host operation is relative to that fd, through openat2(2) with RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (for the file itself or, for the *at calls,
/// its parent directory) and the *at call on the last component with AT_SYMLINK_NOFOLLOW.
/// The guest VFS has resolved every symlink already, so the host never follows one and never
/// leaves the folder; a symlink swapped in meanwhile makes the host answer ELOOP or EXDEV.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed unsafe class HostFileSystem : IFileSystem, IStatWithParent, IDisposable
{
    private const uint PermissionBits = 0xFFF;
    private const uint SetGid = 0x400;

    /// <summary>VALID_OPEN_FLAGS (fcntl.h), without O_CLOEXEC, which host fds always get.</summary>
    private const int ValidOpenFlags = OpenFlags.AccessMode | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoCtty |
        OpenFlags.Truncate | OpenFlags.Append | OpenFlags.NonBlock | OpenFlags.Sync | OpenFlags.DSync | OpenFlags.Async |
        OpenFlags.Direct | OpenFlags.LargeFile | OpenFlags.Directory | OpenFlags.NoFollow | OpenFlags.NoAtime | OpenFlags.Path |
        OpenFlags.TmpFile;

    private readonly int _rootFd;

    /// <summary>The host process's umask, which the host applies on top of the guest's.</summary>
    private readonly uint _hostUmask;

    public HostFileSystem(string rootFolder)
    {
        HostFolder = Path.GetFullPath(rootFolder);
        _rootFd = Libc.Open(HostFolder, OpenFlags.Path | OpenFlags.Directory | OpenFlags.CloseOnExec, 0);
        if (_rootFd < 0)
        {
            throw new DirectoryNotFoundException($"cannot open folder '{HostFolder}': errno {Libc.Errno}");
        }

        _hostUmask = ReadHostUmask();
    }

    /// <summary>The host folder (what /proc/mounts shows as the source).</summary>
    public string HostFolder { get; }

    public string Type => "ext4";

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Libc.Close(_rootFd);
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Boxes are not disposed by every embedder: the folder fd goes with the filesystem.</summary>
    ~HostFileSystem()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Libc.Close(_rootFd);
        }
    }

    internal static Errno Check(int result) => result == 0 ? Errno.None : (Errno)Libc.Errno;

    /// <summary>A filesystem path ("/a/b") as a path relative to the folder fd ("a/b", "." for the root).</summary>
    private static string Relative(string path)
    {
        var rel = path.Trim('/');
        return rel.Length == 0 ? "." : rel;
    }

    /// <summary>openat2 beneath the folder, following no symlink at all.</summary>
    private int OpenBeneath(string path, int flags, uint mode) =>
        Libc.OpenAt2(_rootFd, Relative(path), flags | OpenFlags.CloseOnExec, mode, Libc.ResolveBeneath | Libc.ResolveNoSymlinks | Libc.ResolveNoMagicLinks);

    /// <summary>
    /// The parent directory of <paramref name="path"/>, opened O_PATH beneath the folder, and
    /// the last component's name; the caller releases the fd with <see cref="CloseParent"/>. A
    /// name directly in the folder (and the root itself, as ".") is looked up relative to the
    /// folder fd itself, which costs no host call: a name without "/" resolves no other
    /// component, and every *at call here leaves a last-component symlink alone. ".." there
    /// would leave the folder and is refused, as RESOLVE_BENEATH refuses it.
    /// </summary>
    private Errno OpenParent(string path, out int dirFd, out string name)
    {
        var rel = path.Trim('/');
        var slash = rel.LastIndexOf('/');
        if (slash < 0)
        {
            name = rel.Length == 0 ? "." : rel;
            dirFd = _rootFd;
            return name == ".." ? Errno.EXDEV : Errno.None;
        }

        name = rel[(slash + 1)..];
        dirFd = OpenBeneath(rel[..slash], OpenFlags.Path | OpenFlags.Directory, 0);
        return dirFd < 0 ? (Errno)Libc.Errno : Errno.None;
    }

    /// <summary>Releases a directory fd <see cref="OpenParent"/> gave (the folder fd stays open).</summary>
    private void CloseParent(int dirFd)
    {
        if (dirFd != _rootFd)
        {
            Libc.Close(dirFd);
        }
    }

    /// <summary>Runs an *at call on the last component relative to its parent directory.</summary>
    private Errno AtParent(string path, Func<int, string, int> call)
    {
        var e = OpenParent(path, out var dirFd, out var name);
        if (e != Errno.None)
        {
            return e;
        }

        try
        {
            return Check(call(dirFd, name));
        }
        finally
        {
            CloseParent(dirFd);
        }
    }

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

    public Errno StatFs(string path, out StatFsInfo info)
    {
        info = default;
        var fd = OpenBeneath(path, OpenFlags.Path, 0);
        if (fd < 0)
        {
            return (Errno)Libc.Errno;
        }

        try
        {
            return StatFs(fd, out info);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>fstatfs(2) of the filesystem holding the inode behind a host fd (O_PATH ones too).</summary>
    internal static Errno StatFs(int fd, out StatFsInfo info)
    {
        info = default;
        var buffer = stackalloc byte[StatFsInfo.Size];
        if (Libc.Fstatfs(fd, buffer) != 0)
        {
            return (Errno)Libc.Errno;
        }

        var b = new ReadOnlySpan<byte>(buffer, StatFsInfo.Size).ToArray();
        long At(int i) => BitConverter.ToInt64(b, i * 8);
        info = new StatFsInfo
        {
            Type = At(0), BlockSize = At(1), Blocks = At(2), BlocksFree = At(3), BlocksAvailable = At(4),
            Files = At(5), FilesFree = At(6), FsId = (ulong)At(7), NameMax = At(8), FragmentSize = At(9), Flags = At(10),
        };
        return Errno.None;
    }

    /// <summary>
    /// Host fds are always close-on-exec: the guest's FD_CLOEXEC lives in its fd table, and
    /// host child processes must not inherit guest files. A mode the host umask would
    /// narrow is restored after an exclusive create, so the guest gets exactly its mode.
    /// </summary>
    public Errno Open(string path, int flags, uint mode, Task? caller, out OpenFile? file)
    {
        file = null;

        // openat2 refuses flags open(2) ignores: unknown bits, and anything but O_PATH's own with O_PATH.
        var hostFlags = (flags & OpenFlags.Path) != 0
            ? flags & (OpenFlags.Path | OpenFlags.Directory | OpenFlags.NoFollow)
            : (flags & ValidOpenFlags) | OpenFlags.LargeFile;
        if ((flags & OpenFlags.Path) == 0)
        {
            // fifo(7): the VFS opens fifos as its own pipes. A host fifo renamed in after the walk
            // must not block a host thread: the host open never waits, and a fifo is refused below.
            hostFlags |= OpenFlags.NonBlock;
        }

        var creates = (flags & OpenFlags.Path) == 0 &&
            ((flags & OpenFlags.Create) != 0 || (flags & OpenFlags.TmpFile) == OpenFlags.TmpFile);
        if (!creates)
        {
            // openat2 refuses a mode without O_CREAT/O_TMPFILE.
            mode = 0;
        }

        var fixMode = creates && (mode & _hostUmask & PermissionBits) != 0;
        int fd;
        if (!fixMode)
        {
            fd = OpenBeneath(path, hostFlags, mode);
        }
        else if ((flags & OpenFlags.TmpFile) == OpenFlags.TmpFile || (flags & OpenFlags.Exclusive) != 0)
        {
            fd = OpenBeneath(path, hostFlags, mode);
            if (fd >= 0)
            {
                Libc.Fchmod(fd, mode & PermissionBits);
            }
        }
        else
        {
            // Only a file this call creates gets the mode: try the existing file first, then
            // an exclusive create; a lost race falls back to O_CREAT.
            fd = OpenBeneath(path, hostFlags & ~OpenFlags.Create, 0);
            if (fd >= 0 && IsDirectory(fd))
            {
                // O_CREAT never opens a directory.
                Libc.Close(fd);
                return Errno.EISDIR;
            }

            if (fd < 0 && Libc.Errno == (int)Errno.ENOENT)
            {
                fd = OpenBeneath(path, hostFlags | OpenFlags.Exclusive, mode);
                if (fd >= 0)
                {
                    Libc.Fchmod(fd, mode & PermissionBits);
                }
                else if (Libc.Errno == (int)Errno.EEXIST)
                {
                    fd = OpenBeneath(path, hostFlags, mode);
                }
            }
        }

        if (fd < 0)
        {
            return (Errno)Libc.Errno;
        }

        if ((flags & OpenFlags.Path) == 0)
        {
            var e = RefuseSpecial(fd, hostFlags, flags);
            if (e != Errno.None)
            {
                Libc.Close(fd);
                return e;
            }
        }

        // What RefuseSpecial let through is a regular file or a directory: reads never wait.
        file = new HostFile(fd, path, flags, neverBlocks: (flags & OpenFlags.Path) == 0) { FileSystem = this };
        return Errno.None;
    }

    /// <summary>O_TMPFILE: the host makes the unnamed file in the directory, beneath the folder.</summary>
    public Errno OpenTmpFile(string directory, int flags, uint mode, out OpenFile? file) => Open(directory, flags, mode, null, out file);

    /// <summary>
    /// Checks a host fd opened with O_NONBLOCK by <see cref="Open"/>: a fifo, socket or device
    /// node is refused (ENXIO, what open(2) gives for a socket) — the VFS opens those itself, so
    /// one here was swapped in after the walk, and the host's own must never be reached; anything
    /// else loses O_NONBLOCK unless the guest asked for it. (That fcntl stays, though O_NONBLOCK
    /// means nothing to most regular files: some honour it, such as procfs's kmsg, tracefs's
    /// trace_pipe, or a FUSE daemon's files, which see the flags of every read.)
    /// </summary>
    private static Errno RefuseSpecial(int fd, int hostFlags, int guestFlags)
    {
        var buffer = stackalloc byte[StatInfo.StatSize];
        if (Libc.Fstat(fd, buffer) != 0)
        {
            return (Errno)Libc.Errno;
        }

        if ((HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize)).Mode & InodeMode.TypeMask) is not (InodeMode.Regular or InodeMode.Directory))
        {
            return Errno.ENXIO;
        }

        if ((guestFlags & OpenFlags.NonBlock) == 0 && Libc.Fcntl(fd, Libc.FSetFl, hostFlags & OpenFlags.Settable & ~OpenFlags.NonBlock) != 0)
        {
            return (Errno)Libc.Errno;
        }

        return Errno.None;
    }

    private static bool IsDirectory(int fd)
    {
        var buffer = stackalloc byte[StatInfo.StatSize];
        return Libc.Fstat(fd, buffer) == 0 && HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize)).IsDirectory;
    }

    /// <summary>
    /// lstat through the parent: a multi-component path whose intermediate components hold a
    /// symlink fails with ELOOP there (RESOLVE_NO_SYMLINKS), as the VFS expects.
    /// </summary>
    /// <remarks>
    /// The walk's hot call: one statx for a name directly in the folder, openat2 of the
    /// parent + statx + close for a deeper one, and no allocation beyond the names.
    /// </remarks>
    public Errno Stat(string path, Task? caller, out StatInfo stat) => Stat(path, caller, out stat, out _);

    /// <summary>
    /// <see cref="Stat(string, Task?, out StatInfo)"/>; the parent is a real directory when its
    /// openat2 (O_DIRECTORY, RESOLVE_NO_SYMLINKS) succeeded, whatever the statx then says. When
    /// that openat2 fails, its error is the first component it could not pass, in order: ELOOP
    /// at a symlink, ENOENT at a missing name, ENOTDIR at one that is not a directory.
    /// </summary>
    public Errno Stat(string path, Task? caller, out StatInfo stat, out bool parentIsDirectory)
    {
        stat = default;
        var e = OpenParent(path, out var dirFd, out var name);
        parentIsDirectory = e == Errno.None;
        if (e != Errno.None)
        {
            return e;
        }

        var buffer = stackalloc byte[HostStat.StatxSize];
        e = Check(Libc.Statx(dirFd, name, Libc.AtSymlinkNoFollow, HostStat.StatxWanted, buffer));
        CloseParent(dirFd);
        if (e == Errno.None)
        {
            stat = HostStat.ParseStatx(new ReadOnlySpan<byte>(buffer, HostStat.StatxSize));
        }

        return e;
    }

    public Errno ReadLink(string path, Task? caller, out string target)
    {
        const int Max = 4096;
        var buffer = new byte[Max];
        nint n = 0;
        var e = AtParent(path, (dirFd, name) =>
        {
            fixed (byte* p = buffer)
            {
                n = Libc.Readlinkat(dirFd, name, p, Max);
            }

            return n < 0 ? -1 : 0;
        });
        target = e == Errno.None ? Encoding.UTF8.GetString(buffer, 0, (int)n) : "";
        return e;
    }

    public Errno MakeDirectory(string path, uint mode) =>
        AtParent(path, (dirFd, name) =>
        {
            if (Libc.Mkdirat(dirFd, name, mode) != 0)
            {
                return -1;
            }

            // Restore the bits the host umask took, keeping a set-group-ID inherited from the parent.
            if ((mode & _hostUmask & PermissionBits) != 0)
            {
                var fd = Libc.OpenAt2(dirFd, name, OpenFlags.Directory | OpenFlags.CloseOnExec, 0, Libc.ResolveBeneath | Libc.ResolveNoSymlinks);
                if (fd >= 0)
                {
                    var buffer = stackalloc byte[StatInfo.StatSize];
                    var st = Libc.Fstat(fd, buffer) == 0 ? HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize)) : default;
                    Libc.Fchmod(fd, (st.Mode & SetGid) | (mode & PermissionBits));
                    Libc.Close(fd);
                }
            }

            return 0;
        });

    /// <summary>
    /// mknod(2) on the host. Device nodes other than overlayfs's whiteout (char 0:0) are refused
    /// (EPERM, as for an unprivileged container): a real one in the host folder would be a door
    /// to a host device for every host process, though the guest's own opens never use it.
    /// </summary>
    public Errno MakeNode(string path, uint mode, ulong device) =>
        (mode & InodeMode.TypeMask) is InodeMode.Block || (mode & InodeMode.TypeMask) is InodeMode.Char && device != 0 ? Errno.EPERM :
        AtParent(path, (dirFd, name) =>
        {
            if (Libc.Mknodat(dirFd, name, mode, device) != 0)
            {
                return -1;
            }

            if ((mode & _hostUmask & PermissionBits) != 0 && (mode & InodeMode.TypeMask) is InodeMode.Regular or InodeMode.Fifo or InodeMode.Socket)
            {
                var fd = Libc.OpenAt2(dirFd, name, OpenFlags.Path | OpenFlags.NoFollow | OpenFlags.CloseOnExec, 0, Libc.ResolveBeneath | Libc.ResolveNoSymlinks);
                if (fd >= 0)
                {
                    Chmod(fd, mode & PermissionBits, pathFd: true);
                    Libc.Close(fd);
                }
            }

            return 0;
        });

    public Errno Unlink(string path, bool removeDirectory) =>
        AtParent(path, (dirFd, name) => Libc.Unlinkat(dirFd, name, removeDirectory ? Libc.AtRemoveDir : 0));

    public Errno Rename(string oldPath, string newPath, int flags)
    {
        var e = OpenParent(oldPath, out var oldDir, out var oldName);
        if (e != Errno.None)
        {
            return e;
        }

        try
        {
            return AtParent(newPath, (newDir, newName) => Libc.Renameat2(oldDir, oldName, newDir, newName, (uint)flags));
        }
        finally
        {
            CloseParent(oldDir);
        }
    }

    public Errno Symlink(string target, string linkPath) =>
        AtParent(linkPath, (dirFd, name) => Libc.Symlinkat(target, dirFd, name));

    public Errno Link(string oldPath, string newPath)
    {
        var e = OpenParent(oldPath, out var oldDir, out var oldName);
        if (e != Errno.None)
        {
            return e;
        }

        try
        {
            return AtParent(newPath, (newDir, newName) => Libc.Linkat(oldDir, oldName, newDir, newName, 0));
        }
        finally
        {
            CloseParent(oldDir);
        }
    }

    /// <summary>
    /// Names an O_TMPFILE file: the host links the inode behind our own host fd through its
    /// /proc/self/fd link (linkat(2) AT_SYMLINK_FOLLOW; AT_EMPTY_PATH would need
    /// CAP_DAC_READ_SEARCH) into the new name's directory beneath the folder. The link target
    /// is an fd we opened, so the wall holds; the host enforces O_EXCL (ENOENT).
    /// </summary>
    public Errno LinkFile(OpenFile file, string newPath)
    {
        if (file is not HostFile hostFile || hostFile.FileSystem != this)
        {
            return Errno.EXDEV;
        }

        var magicLink = $"/proc/self/fd/{hostFile.Fd}";
        return AtParent(newPath, (newDir, newName) => Libc.Linkat(Libc.AtFdCwd, magicLink, newDir, newName, Libc.AtSymlinkFollow));
    }

    /// <summary>
    /// chmod of exactly the file named, never a symlink's target: the file is opened O_PATH
    /// without following, and changed through that fd (as glibc's fchmodat(AT_SYMLINK_NOFOLLOW)
    /// does); a symlink gives EOPNOTSUPP, as lchmod.
    /// </summary>
    public Errno Chmod(string path, uint mode)
    {
        var fd = OpenBeneath(path, OpenFlags.Path | OpenFlags.NoFollow, 0);
        if (fd < 0)
        {
            return (Errno)Libc.Errno;
        }

        try
        {
            var buffer = stackalloc byte[StatInfo.StatSize];
            if (Libc.Fstat(fd, buffer) != 0)
            {
                return (Errno)Libc.Errno;
            }

            var st = HostStat.Parse(new ReadOnlySpan<byte>(buffer, StatInfo.StatSize));
            if ((st.Mode & InodeMode.TypeMask) == InodeMode.Symlink)
            {
                return Errno.EOPNOTSUPP;
            }

            return Chmod(fd, mode, pathFd: true);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// chmod of the inode behind a host fd: fchmod(2), or for an O_PATH fd, which fchmod refuses,
    /// fchmodat2(2) with AT_EMPTY_PATH; a host older than Linux 6.6 has that only through its
    /// /proc/self/fd link to the inode, an fd of ours, so the wall holds.
    /// </summary>
    internal static Errno Chmod(int fd, uint mode, bool pathFd)
    {
        if (!pathFd)
        {
            return Check(Libc.Fchmod(fd, mode));
        }

        var e = Check(Libc.Fchmodat2(fd, "", mode, Libc.AtEmptyPath));
        return e != Errno.ENOSYS ? e : Check(Libc.Fchmodat(Libc.AtFdCwd, $"/proc/self/fd/{fd}", mode, 0));
    }

    public Errno Chown(string path, int uid, int gid) =>
        AtParent(path, (dirFd, name) => Libc.Fchownat(dirFd, name, uid, gid, Libc.AtSymlinkNoFollow));

    public Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) =>
        AtParent(path, (dirFd, name) => Libc.Utimensat(dirFd, name, access, modify, Libc.AtSymlinkNoFollow));

    public Errno GetXattr(string path, string name, out byte[] value)
    {
        byte[] result = [];
        var e = WithInode(path, link => ReadSized(buffer =>
        {
            fixed (byte* p = buffer)
            {
                return Libc.Getxattr(link, name, p, (nuint)(buffer?.Length ?? 0));
            }
        }, out result));
        value = result;
        return e;
    }

    public Errno SetXattr(string path, string name, byte[] value, int flags) =>
        WithInode(path, link =>
        {
            fixed (byte* p = value)
            {
                return Libc.Setxattr(link, name, p, (nuint)value.Length, flags);
            }
        });

    public Errno RemoveXattr(string path, string name) => WithInode(path, link => Libc.Removexattr(link, name));

    public Errno ListXattr(string path, out List<string> names)
    {
        byte[] list = [];
        var e = WithInode(path, link => ReadSized(buffer =>
        {
            fixed (byte* p = buffer)
            {
                return Libc.Listxattr(link, p, (nuint)(buffer?.Length ?? 0));
            }
        }, out list));
        names = new List<string>(System.Text.Encoding.UTF8.GetString(list).Split('\0', StringSplitOptions.RemoveEmptyEntries));
        return e;
    }

    /// <summary>
    /// The xattr calls reach the host file through the /proc/self/fd link of an O_PATH fd of
    /// ours, opened beneath the folder with nothing followed (getxattr(2) has no *at form on
    /// the hosts we run on): the link leads straight to the inode the walk found.
    /// </summary>
    private Errno WithInode(string path, Func<string, nint> call)
    {
        var fd = OpenBeneath(path, OpenFlags.Path | OpenFlags.NoFollow, 0);
        if (fd < 0)
        {
            return (Errno)Libc.Errno;
        }

        try
        {
            return call($"/proc/self/fd/{fd}") < 0 ? (Errno)Libc.Errno : Errno.None;
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// A host call that fills a buffer whose size it tells when given none: asks, then fills
    /// a buffer that large, again while the value grew in between (ERANGE).
    /// </summary>
    private static nint ReadSized(Func<byte[]?, nint> call, out byte[] filled)
    {
        filled = [];
        while (true)
        {
            var size = call(null);
            if (size <= 0)
            {
                return size;
            }

            var buffer = new byte[size];
            var n = call(buffer);
            if (n >= 0)
            {
                filled = buffer[..(int)n];
                return n;
            }

            if (Libc.Errno != (int)Errno.ERANGE)
            {
                return n;
            }
        }
    }

    /// <summary>truncate(2) needs write permission, as opening for writing does.</summary>
    public Errno Truncate(string path, long length)
    {
        var fd = OpenBeneath(path, OpenFlags.WriteOnly | OpenFlags.NoFollow, 0);
        if (fd < 0)
        {
            return (Errno)Libc.Errno;
        }

        var e = Check(Libc.Ftruncate(fd, length));
        Libc.Close(fd);
        return e;
    }
}
