using System.Buffers.Binary;
using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// open(2), openat(2), creat(2), close(2), dup(2), dup2(2), dup3(2), fcntl(2); and the path
/// arguments every *at(2) call shares: reading them from the guest and resolving them
/// against the working directory or a directory fd.
/// </summary>
internal static unsafe class FileOpen
{
    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100, AtRemoveDir = 0x200, AtEAccess = 0x200, AtSymlinkFollow = 0x400;
    public const int AtNoAutomount = 0x800, AtEmptyPath = 0x1000;

    /// <summary>PATH_MAX: the longest path argument, terminating NUL included.</summary>
    public const int PathMax = 4096;

    private const int FDupFd = 0, FGetFd = 1, FSetFd = 2, FGetFl = 3, FSetFl = 4;
    private const int FGetLk = 5, FSetLk = 6, FSetLkW = 7, FSetOwn = 8, FGetOwn = 9, FSetSig = 10, FGetSig = 11;
    private const int FSetOwnEx = 15, FGetOwnEx = 16, FGetOwnerUids = 17;
    private const int FOfdGetLk = 36, FOfdSetLk = 37, FOfdSetLkW = 38;
    private const int FSetLease = 1024, FGetLease = 1025, FNotify = 1026, FDupFdCloexec = 1030;
    private const int FSetPipeSz = 1031, FGetPipeSz = 1032, FAddSeals = 1033, FGetSeals = 1034;
    private const int FdCloexec = 1;
    private const short FRdLck = 0, FWrLck = 1, FUnLck = 2;
    private const int FlockSize = 32;

    /// <summary>The capacity Linux gives a new pipe (F_GETPIPE_SZ).</summary>
    private const int DefaultPipeSize = 65536;

    /// <summary>Open flags that only act during the open and are not kept in the description.</summary>
    private const int OpenOnlyFlags = OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoCtty | OpenFlags.Truncate | OpenFlags.CloseOnExec;

    /// <summary>The only flags O_PATH keeps (build_open_flags).</summary>
    private const int PathFlags = OpenFlags.Directory | OpenFlags.NoFollow | OpenFlags.Path | OpenFlags.CloseOnExec;

    private const int TmpFileMask = OpenFlags.TmpFile | OpenFlags.Create;
    private const uint AllPermissions = 0xFFF;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Open, &Open, Arg.Str, Arg.Hex, Arg.Hex);
        t.Add(Nr.Openat, &Openat, Arg.Fd, Arg.Str, Arg.Hex, Arg.Hex);
        t.Add(Nr.Creat, &Creat, Arg.Str, Arg.Hex);
        t.Add(Nr.Openat2, &Openat2, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Int);
        t.Add(Nr.Close, &Close, Arg.Fd);
        t.Add(Nr.Dup, &Dup, Arg.Fd);
        t.Add(Nr.Dup2, &Dup2, Arg.Fd, Arg.Fd);
        t.Add(Nr.Dup3, &Dup3, Arg.Fd, Arg.Fd, Arg.Hex);
        t.Add(Nr.Fcntl, &Fcntl, Arg.Fd, Arg.Int, Arg.Hex);
        t.Add(Nr.CloseRange, &CloseRange, Arg.Fd, Arg.Fd, Arg.Hex);
    }

    // ---------------------------------------------------------------- path arguments

    /// <summary>
    /// Reads a path argument: EFAULT when unreadable, ENAMETOOLONG when no NUL ends it within
    /// PATH_MAX bytes. Reads page by page, so a path that ends just before unmapped memory is fine.
    /// </summary>
    public static Errno ReadPath(Task t, ulong address, out string path)
    {
        path = "";
        const ulong Page = 4096;
        var bytes = System.Buffers.ArrayPool<byte>.Shared.Rent(PathMax);
        try
        {
            var length = 0;
            while (length < PathMax)
            {
                var at = address + (ulong)length;
                var chunk = (int)Math.Min(Page - (at & (Page - 1)), (ulong)(PathMax - length));
                var span = bytes.AsSpan(length, chunk);
                if (at < address || !t.CopyIn(at, span))
                {
                    return Errno.EFAULT;
                }

                var nul = span.IndexOf((byte)0);
                if (nul >= 0)
                {
                    path = Encoding.UTF8.GetString(bytes, 0, length + nul);
                    return Errno.None;
                }

                length += chunk;
            }

            return Errno.ENAMETOOLONG;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The directory a relative path starts from: the cwd, or the directory <paramref name="dirfd"/> is open on.</summary>
    public static Errno BaseDirectory(Task t, int dirfd, out string directory)
    {
        directory = t.Group.Cwd;
        if (dirfd == AtFdCwd)
        {
            return Errno.None;
        }

        var file = t.Group.Fds.Get(dirfd);
        if (file is null)
        {
            return Errno.EBADF;
        }

        if (file.Stat(out var st) is var e && e != Errno.None)
        {
            return e;
        }

        if (!st.IsDirectory)
        {
            return Errno.ENOTDIR;
        }

        directory = PathOf(t, file);
        return Errno.None;
    }

    /// <summary>The canonical guest path an open file was opened by.</summary>
    public static string PathOf(OpenFile file) => file.Path.StartsWith('/') ? file.Path : PathNames.Normalize("/", file.Path);

    /// <summary>
    /// The path an open file was opened by, as seen below <paramref name="t"/>'s root: a file
    /// opened before a chroot(2) is found by its place in the mount table. One outside the
    /// root (Linux's "unreachable" paths) is shown, and walked from, as the root itself.
    /// </summary>
    public static string PathOf(Task t, OpenFile file)
    {
        var path = PathOf(file);
        var root = t.Group.Fs.Root;
        if (file.Root == root || !path.StartsWith('/'))
        {
            return path;
        }

        var global = file.Root == "/" ? path : path == "/" ? file.Root : file.Root + path;
        return root == "/" ? global
            : global == root ? "/"
            : global.StartsWith(root + "/", StringComparison.Ordinal) ? global[root.Length..]
            : "/";
    }

    /// <summary>
    /// Makes a non-empty path argument absolute against the cwd or the directory
    /// <paramref name="dirfd"/> is open on (both canonical guest paths), for the VFS to walk:
    /// nothing is folded here, so ".." and symlinks are resolved by the walk as Linux does.
    /// </summary>
    public static Errno Resolve(Task t, int dirfd, string path, out string resolved)
    {
        resolved = "";
        if (path.Length == 0)
        {
            return Errno.ENOENT;
        }

        var directory = "/";
        if (path[0] != '/')
        {
            var e = BaseDirectory(t, dirfd, out directory);
            if (e != Errno.None)
            {
                return e;
            }
        }

        resolved = VirtualFileSystem.Join(directory, path);
        return Errno.None;
    }

    /// <summary>Reads and resolves a path argument in one step.</summary>
    public static Errno ReadAndResolve(Task t, int dirfd, ulong address, out string resolved)
    {
        resolved = "";
        var e = ReadPath(t, address, out var path);
        return e != Errno.None ? e : Resolve(t, dirfd, path, out resolved);
    }

    /// <summary>The last component of the path as the guest wrote it ("." for "a/b/.").</summary>
    public static string LastComponent(string path) => path.TrimEnd('/') is var p && p.LastIndexOf('/') is var i && i >= 0 ? p[(i + 1)..] : path.TrimEnd('/');

    /// <summary>
    /// /proc's per-process magic links (exe, cwd, root, fd/N) name guest objects, not the
    /// host's: when <paramref name="path"/> is one of this process's, its target. The
    /// result is <see cref="Errno.ENOENT"/> for a closed fd and None otherwise; null target
    /// when the path is no magic link.
    /// </summary>
    public static string? MagicLink(Task t, string path, out Errno errno, out OpenFile? file)
    {
        errno = Errno.None;
        file = null;
        var rest = ProcSelfRelative(t, path.TrimEnd('/'));
        if (rest is null)
        {
            return null;
        }

        switch (rest)
        {
            case "exe":
                return t.Group.ExePath;
            case "cwd":
                return t.Group.Cwd;
            case "root":
                return "/";
        }

        if (rest.StartsWith("fd/", StringComparison.Ordinal) && int.TryParse(rest.AsSpan(3), out var fd) && rest[3] is >= '0' and <= '9')
        {
            file = t.Group.Fds.Get(fd);
            if (file is null)
            {
                errno = Errno.ENOENT;
                return "";
            }

            return file.Path;
        }

        return null;
    }

    /// <summary>The part after "/proc/self/", "/proc/thread-self/", "/proc/&lt;pid&gt;/" or "/proc/&lt;pid&gt;/task/&lt;tid&gt;/" for this process.</summary>
    private static string? ProcSelfRelative(Task t, string path)
    {
        foreach (var prefix in new[] { "/proc/self/", "/proc/thread-self/", $"/proc/{t.Group.Pid}/", $"/proc/{t.Group.Pid}/task/{t.Tid}/" })
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                var rest = path[prefix.Length..];
                if (!rest.StartsWith("task/", StringComparison.Ordinal))
                {
                    return rest;
                }
            }
        }

        return null;
    }

    // ---------------------------------------------------------------- open

    private static long Open(Task t, in SyscallArgs a) => DoOpen(t, AtFdCwd, a.A0, (int)a.A1, (uint)a.A2);

    private static long Openat(Task t, in SyscallArgs a) => DoOpen(t, (int)a.A0, a.A1, (int)a.A2, (uint)a.A3);

    private static long Creat(Task t, in SyscallArgs a) =>
        DoOpen(t, AtFdCwd, a.A0, OpenFlags.Create | OpenFlags.WriteOnly | OpenFlags.Truncate, (uint)a.A1);

    /// <summary>struct open_how's first version: flags, mode, resolve (u64 each).</summary>
    private const int OpenHowSize = 24;

    /// <summary>VALID_OPEN_FLAGS: openat2 refuses any other bit.</summary>
    private const long ValidOpenFlags = OpenFlags.AccessMode | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoCtty |
        OpenFlags.Truncate | OpenFlags.Append | OpenFlags.NonBlock | OpenFlags.Sync | OpenFlags.DSync | OpenFlags.Async |
        OpenFlags.Direct | OpenFlags.LargeFile | OpenFlags.Directory | OpenFlags.NoFollow | OpenFlags.NoAtime |
        OpenFlags.CloseOnExec | OpenFlags.Path | OpenFlags.TmpFile;

    /// <summary>
    /// openat2(2): open with a struct open_how (copied as copy_struct_from_user does: shorter
    /// than version 0 is EINVAL, longer than a page E2BIG, unknown trailing bytes must be zero),
    /// strict flag checks (unknown open or resolve flags, a mode without O_CREAT/O_TMPFILE:
    /// EINVAL), and the RESOLVE_* scoping of the walk. RESOLVE_CACHED opens normally (every
    /// lookup is "cached"), except where Linux always answers EAGAIN (O_CREAT, O_TRUNC, O_TMPFILE).
    /// </summary>
    private static long Openat2(Task t, in SyscallArgs a)
    {
        var size = a.A3;
        if (size < OpenHowSize)
        {
            return Errors.EINVAL;
        }

        if (size > 4096)
        {
            return Errors.Fail(Errno.E2BIG);
        }

        var how = new byte[size];
        if (!t.CopyIn(a.A2, how))
        {
            return Errors.EFAULT;
        }

        if (how.AsSpan(OpenHowSize).ContainsAnyExcept((byte)0))
        {
            return Errors.Fail(Errno.E2BIG);
        }

        var flags = BinaryPrimitives.ReadUInt64LittleEndian(how);
        var mode = BinaryPrimitives.ReadUInt64LittleEndian(how.AsSpan(8));
        var resolve = BinaryPrimitives.ReadUInt64LittleEndian(how.AsSpan(16));
        if ((flags & ~(ulong)ValidOpenFlags) != 0 || (resolve & ~(ulong)ResolveFlags.All) != 0)
        {
            return Errors.EINVAL;
        }

        var f = (int)flags;
        var creates = (f & OpenFlags.Create) != 0 || (f & OpenFlags.TmpFile) == OpenFlags.TmpFile;
        if ((creates && (mode & ~(ulong)AllPermissions) != 0) || (!creates && mode != 0))
        {
            return Errors.EINVAL;
        }

        if ((f & OpenFlags.Path) != 0 && (f & ~PathFlags) != 0)
        {
            return Errors.EINVAL;
        }

        var r = (int)resolve;
        if ((r & ResolveFlags.Beneath) != 0 && (r & ResolveFlags.InRoot) != 0)
        {
            return Errors.EINVAL;
        }

        if ((r & ResolveFlags.Cached) != 0 && (f & (OpenFlags.Truncate | OpenFlags.Create | (OpenFlags.TmpFile & ~OpenFlags.Directory))) != 0)
        {
            return Errors.Fail(Errno.EAGAIN);
        }

        return DoOpen(t, (int)a.A0, a.A1, f, (uint)mode, r);
    }

    private static long DoOpen(Task t, int dirfd, ulong pathAddress, int flags, uint mode, int resolve = -1)
    {
        // build_open_flags(): O_PATH keeps only a few flags; O_TMPFILE needs write access and no O_CREAT;
        // since Linux 6.4 O_CREAT | O_DIRECTORY is refused. Flags are checked before the path is read.
        if ((flags & OpenFlags.Path) != 0)
        {
            flags &= PathFlags;
        }
        else if ((flags & (OpenFlags.TmpFile & ~OpenFlags.Directory)) != 0)
        {
            if ((flags & TmpFileMask) != OpenFlags.TmpFile || (flags & OpenFlags.AccessMode) == OpenFlags.ReadOnly)
            {
                return Errors.EINVAL;
            }
        }
        else if ((flags & (OpenFlags.Create | OpenFlags.Directory)) == (OpenFlags.Create | OpenFlags.Directory))
        {
            return Errors.EINVAL;
        }

        var resolved = "";
        WalkScope? scope = null;
        var e = ReadPath(t, pathAddress, out var path);
        if (e == Errno.None)
        {
            e = resolve < 0 ? Resolve(t, dirfd, path, out resolved) : Scope(t, dirfd, path, resolve, out resolved, out scope);
        }

        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        var closeOnExec = (flags & OpenFlags.CloseOnExec) != 0;
        var creates = (flags & OpenFlags.Create) != 0 || (flags & OpenFlags.TmpFile) == OpenFlags.TmpFile;
        var finalMode = creates ? mode & AllPermissions & ~t.Group.Umask : 0;

        e = t.Kernel.Vfs.Open(t, resolved, flags & ~OpenFlags.CloseOnExec, finalMode, out var file, out var shared, scope);
        if (e != Errno.None || file is null)
        {
            return Errors.Fail(e == Errno.None ? Errno.EIO : e);
        }

        // A pipe reopened through /proc/self/fd shares its description; anything else is a new one.
        if (!shared)
        {
            file.Flags = DescriptionFlags(flags);
        }

        return t.Group.Fds.Add(file, closeOnExec, 0) is var fd && fd >= 0 && fd < FdLimit(t) ? fd : CloseBeyondLimit(t, fd);
    }

    /// <summary>
    /// The walk scope of an openat2 path: the process's root, the start directory (cwd or
    /// <paramref name="dirfd"/>) for a relative path; with RESOLVE_BENEATH or RESOLVE_IN_ROOT
    /// the start directory is also the root. Paths are mount-table paths.
    /// </summary>
    private static Errno Scope(Task t, int dirfd, string path, int resolve, out string walkPath, out WalkScope? scope)
    {
        walkPath = path;
        scope = null;
        if (path.Length == 0)
        {
            return Errno.ENOENT;
        }

        var root = t.Group.Fs.Root;
        var scoped = (resolve & (ResolveFlags.Beneath | ResolveFlags.InRoot)) != 0;
        var start = root;
        if (!path.StartsWith('/') || scoped)
        {
            var e = BaseDirectory(t, dirfd, out var directory);
            if (e != Errno.None)
            {
                return e;
            }

            start = root == "/" ? directory : directory == "/" ? root : root + directory;
        }

        if (scoped && path.StartsWith('/') && (resolve & ResolveFlags.InRoot) != 0)
        {
            // Within the root an absolute path is just a path from it.
            walkPath = path.TrimStart('/');
            if (walkPath.Length == 0)
            {
                walkPath = ".";
            }
        }

        scope = new WalkScope(scoped ? start : root, start, resolve);
        return Errno.None;
    }

    /// <summary>The flags a new open file description keeps (what F_GETFL shows): O_LARGEFILE is implied on x86-64.</summary>
    private static int DescriptionFlags(int flags) =>
        (flags & OpenFlags.Path) != 0 ? flags & PathFlags & ~OpenFlags.CloseOnExec : (flags & ~OpenOnlyFlags) | OpenFlags.LargeFile;

    /// <summary>One past the highest fd this process may use: RLIMIT_NOFILE, within the fd table's size.</summary>
    public static int FdLimit(Task t) => (int)Math.Min(t.Group.Limits[ResourceLimit.NoFile].Current, (ulong)FdTable.MaxFds);

    /// <summary>An fd the table gave beyond a lowered RLIMIT_NOFILE is taken back: EMFILE.</summary>
    private static long CloseBeyondLimit(Task t, int fd)
    {
        if (fd < 0)
        {
            return fd;
        }

        t.Group.Fds.Close(fd);
        return Errors.Fail(Errno.EMFILE);
    }

    // ---------------------------------------------------------------- close and dup

    private static long Close(Task t, in SyscallArgs a) => t.Group.Fds.Close((int)a.A0);

    /// <summary>
    /// close_range(2): closes (or with CLOSE_RANGE_CLOEXEC marks close-on-exec) the open fds
    /// in [first, last]. CLOSE_RANGE_UNSHARE needs no work while nothing shares fd tables
    /// with a process that calls it; tables shared by CLONE_FILES are still acted on in place.
    /// </summary>
    private static long CloseRange(Task t, in SyscallArgs a)
    {
        const uint Unshare = 2, Cloexec = 4;
        var (first, last, flags) = ((uint)a.A0, (uint)a.A1, (uint)a.A2);
        if ((flags & ~(Unshare | Cloexec)) != 0 || first > last)
        {
            return Errors.EINVAL;
        }

        foreach (var fd in t.Group.Fds.OpenFds())
        {
            if ((uint)fd < first || (uint)fd > last)
            {
                continue;
            }

            if ((flags & Cloexec) != 0)
            {
                t.Group.Fds.SetCloseOnExec(fd, true);
            }
            else
            {
                t.Group.Fds.Close(fd);
            }
        }

        return 0;
    }

    private static long Dup(Task t, in SyscallArgs a) => Duplicate(t, (int)a.A0, 0, closeOnExec: false, tooHigh: Errno.EMFILE);

    /// <summary>Installs <paramref name="fd"/>'s description at the lowest free fd >= <paramref name="minimum"/>.</summary>
    private static long Duplicate(Task t, int fd, int minimum, bool closeOnExec, Errno tooHigh)
    {
        var file = t.Group.Fds.Get(fd);
        if (file is null)
        {
            return Errors.EBADF;
        }

        if (minimum >= FdLimit(t))
        {
            return Errors.Fail(tooHigh);
        }

        file.AddReference();
        var result = t.Group.Fds.Add(file, closeOnExec, minimum);
        return result >= 0 && result >= FdLimit(t) ? CloseBeyondLimit(t, result) : result;
    }

    private static long Dup2(Task t, in SyscallArgs a)
    {
        var (oldFd, newFd) = ((int)a.A0, (int)a.A1);
        if (oldFd == newFd)
        {
            return t.Group.Fds.Get(oldFd) is null ? Errors.EBADF : newFd;
        }

        return DupTo(t, oldFd, newFd, closeOnExec: false);
    }

    private static long Dup3(Task t, in SyscallArgs a)
    {
        var (oldFd, newFd, flags) = ((int)a.A0, (int)a.A1, (int)a.A2);
        if ((flags & ~OpenFlags.CloseOnExec) != 0 || oldFd == newFd)
        {
            return Errors.EINVAL;
        }

        return DupTo(t, oldFd, newFd, (flags & OpenFlags.CloseOnExec) != 0);
    }

    private static long DupTo(Task t, int oldFd, int newFd, bool closeOnExec)
    {
        if (newFd < 0 || newFd >= FdLimit(t))
        {
            return Errors.EBADF;
        }

        var file = t.Group.Fds.Get(oldFd);
        if (file is null)
        {
            return Errors.EBADF;
        }

        file.AddReference();
        return t.Group.Fds.Set(newFd, file, closeOnExec);
    }

    // ---------------------------------------------------------------- fcntl

    private static long Fcntl(Task t, in SyscallArgs a)
    {
        var fd = (int)a.A0;
        var cmd = (int)a.A1;
        var arg = a.A2;
        var file = t.Group.Fds.Get(fd);
        if (file is null)
        {
            return Errors.EBADF;
        }

        // An O_PATH fd only supports the fd-level commands (check_fcntl_cmd()).
        if ((file.Flags & OpenFlags.Path) != 0 && cmd is not (FDupFd or FDupFdCloexec or FGetFd or FSetFd or FGetFl))
        {
            return Errors.EBADF;
        }

        switch (cmd)
        {
            case FDupFd or FDupFdCloexec:
                // The argument is an int; a negative or too-high minimum is EINVAL.
                return (int)arg < 0 ? Errors.EINVAL : Duplicate(t, fd, (int)arg, cmd == FDupFdCloexec, Errno.EINVAL);
            case FGetFd:
                return t.Group.Fds.GetCloseOnExec(fd) ? FdCloexec : 0;
            case FSetFd:
                return t.Group.Fds.SetCloseOnExec(fd, (arg & FdCloexec) != 0) ? 0 : Errors.EBADF;
            case FGetFl:
                return file.Flags;
            case FSetFl:
                file.Flags = (file.Flags & ~OpenFlags.Settable) | ((int)arg & OpenFlags.Settable);
                return 0;
            case FGetLk or FSetLk or FSetLkW:
                return Locks.Record(t, file, cmd, arg);
            case FOfdGetLk or FOfdSetLk or FOfdSetLkW:
                return Locks.Record(t, file, cmd, arg);
            case FGetOwn:
                return 0;
            case FSetOwn:
                // Nothing sends SIGIO yet; only "no owner" or this process is accepted.
                return (int)arg == 0 || (int)arg == t.Group.Pid || (int)arg == -t.Group.Pid ? 0 : Errors.Fail(Errno.ESRCH);
            case FGetSig:
                return 0;
            case FSetSig:
                return arg > Signals.Max ? Errors.EINVAL : 0;
            case FGetPipeSz:
                return IsFifo(file) ? DefaultPipeSize : Errors.EBADF;
            case FSetPipeSz:
                return IsFifo(file) ? Math.Max(DefaultPipeSize, (long)RoundUpPowerOfTwo((uint)arg)) : Errors.EBADF;
            case FGetLease:
                return FUnLck;
            case FGetSeals or FAddSeals:
                // Only memfds can be sealed.
                return Errors.EINVAL;
            case FSetOwnEx or FGetOwnEx or FGetOwnerUids or FSetLease or FNotify:
                return Errors.EINVAL;
            default:
                return Errors.EINVAL;
        }
    }

    /// <summary>
    /// A FIFO as far as fstat tells; the pipe capacity of such files is Linux's default.
    /// Anything else is not a pipe: EBADF, as pipe_fcntl() answers.
    /// </summary>
    private static bool IsFifo(OpenFile file) =>
        file.Stat(out var st) == Errno.None && (st.Mode & Kernel.Vfs.InodeMode.TypeMask) == Kernel.Vfs.InodeMode.Fifo;

    private static ulong RoundUpPowerOfTwo(uint v) => v <= 1 ? 1 : 1UL << (32 - System.Numerics.BitOperations.LeadingZeroCount(v - 1));
}
