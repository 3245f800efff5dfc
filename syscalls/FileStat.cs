using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// File attributes: stat(2) and its relatives, statx(2), access(2)/faccessat2(2), and the
/// calls that change attributes: chmod(2), chown(2), truncate(2), utimensat(2).
/// </summary>
internal static unsafe class FileStat
{
    private const int StatxSize = 256;
    private const int AtStatxSyncType = 0x6000;
    private const int AccessModeMask = 7;
    private const long UtimeNow = (1L << 30) - 1, UtimeOmit = (1L << 30) - 2;
    private const long NanosPerSecond = 1_000_000_000;

    private const int StatFlags = FileOpen.AtSymlinkNoFollow | FileOpen.AtNoAutomount | FileOpen.AtEmptyPath;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Stat, &Stat, Arg.Str, Arg.Ptr);
        t.Add(Nr.Lstat, &Lstat, Arg.Str, Arg.Ptr);
        t.Add(Nr.Fstat, &Fstat, Arg.Fd, Arg.Ptr);
        t.Add(Nr.Newfstatat, &Newfstatat, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Hex);
        t.Add(Nr.Statx, &Statx, Arg.Fd, Arg.Str, Arg.Hex, Arg.Hex, Arg.Ptr);
        t.Add(Nr.Access, &Access, Arg.Str, Arg.Int);
        t.Add(Nr.Faccessat, &Faccessat, Arg.Fd, Arg.Str, Arg.Int);
        t.Add(Nr.Faccessat2, &Faccessat2, Arg.Fd, Arg.Str, Arg.Int, Arg.Hex);
        t.Add(Nr.Chmod, &Chmod, Arg.Str, Arg.Hex);
        t.Add(Nr.Fchmod, &Fchmod, Arg.Fd, Arg.Hex);
        t.Add(Nr.Fchmodat, &Fchmodat, Arg.Fd, Arg.Str, Arg.Hex);
        t.Add(Nr.Chown, &Chown, Arg.Str, Arg.Int, Arg.Int);
        t.Add(Nr.Lchown, &Lchown, Arg.Str, Arg.Int, Arg.Int);
        t.Add(Nr.Fchown, &Fchown, Arg.Fd, Arg.Int, Arg.Int);
        t.Add(Nr.Fchownat, &Fchownat, Arg.Fd, Arg.Str, Arg.Int, Arg.Int, Arg.Hex);
        t.Add(Nr.Truncate, &Truncate, Arg.Str, Arg.Int);
        t.Add(Nr.Ftruncate, &Ftruncate, Arg.Fd, Arg.Int);
        t.Add(Nr.Utimensat, &Utimensat, Arg.Fd, Arg.Str, Arg.Ptr, Arg.Hex);
        t.Add(Nr.Statfs, &Statfs, Arg.Str, Arg.Ptr);
        t.Add(Nr.Fstatfs, &Fstatfs, Arg.Fd, Arg.Ptr);
    }

    // ---------------------------------------------------------------- statfs

    private static long CopyOutStatFs(Task t, Errno e, in StatFsInfo info, ulong address)
    {
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        Span<byte> b = stackalloc byte[StatFsInfo.Size];
        info.Write(b);
        return t.CopyOut(address, b) ? 0 : Errors.EFAULT;
    }

    private static long Statfs(Task t, in SyscallArgs a)
    {
        var e = FileOpen.ReadAndResolve(t, FileOpen.AtFdCwd, a.A0, out var path);
        StatFsInfo info = default;
        if (e == Errno.None)
        {
            e = t.Kernel.Vfs.StatFs(t, path, out info);
        }

        return CopyOutStatFs(t, e, info, a.A1);
    }

    /// <summary>
    /// fstatfs(2): the filesystem holding the inode the fd is open on, or else of the path it was
    /// opened by; pipes live on pipefs. O_PATH fds are allowed (fdget_raw()).
    /// </summary>
    private static long Fstatfs(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        if (VirtualFileSystem.StatFs(file, out var own) is { } result)
        {
            return CopyOutStatFs(t, result, own, a.A1);
        }

        if (!file.Path.StartsWith('/'))
        {
            const long PipefsMagic = 0x50495045;
            return CopyOutStatFs(t, Errno.None, new StatFsInfo { Type = PipefsMagic, BlockSize = 4096, FragmentSize = 4096, NameMax = 255 }, a.A1);
        }

        var e = t.Kernel.Vfs.StatFs(t, file.Path, out var info);
        return CopyOutStatFs(t, e, info, a.A1);
    }

    // ---------------------------------------------------------------- looking files up

    /// <summary>stat of a path, walked in the guest's namespace (magic /proc links lead to the guest's own objects).</summary>
    private static Errno StatPath(Task t, string path, bool follow, out StatInfo st) => t.Kernel.Vfs.Stat(t, path, follow, out st);

    /// <summary>
    /// The file a (dirfd, path, flags) triple names, for calls taking AT_EMPTY_PATH: an
    /// empty path (or, since Linux 6.11, a NULL one) then means dirfd itself.
    /// </summary>
    private static Errno StatAt(Task t, int dirfd, ulong pathAddress, int flags, out StatInfo st)
    {
        st = default;
        var path = "";
        var e = pathAddress == 0 && (flags & FileOpen.AtEmptyPath) != 0 ? Errno.None : FileOpen.ReadPath(t, pathAddress, out path);
        if (e != Errno.None)
        {
            return e;
        }

        if (path.Length == 0 && (flags & FileOpen.AtEmptyPath) != 0)
        {
            if (dirfd == FileOpen.AtFdCwd)
            {
                return StatPath(t, t.Group.Cwd, follow: true, out st);
            }

            var file = t.Group.Fds.Get(dirfd);
            return file is null ? Errno.EBADF : VirtualFileSystem.StatFile(file, out st);
        }

        e = FileOpen.Resolve(t, dirfd, path, out var resolved);
        return e != Errno.None ? e : StatPath(t, resolved, (flags & FileOpen.AtSymlinkNoFollow) == 0, out st);
    }

    /// <summary>
    /// What a (dirfd, path, flags) triple names for calls that check or change a file: the guest
    /// path to walk, or, for an empty (or NULL) path with AT_EMPTY_PATH, the open file dirfd
    /// itself as <paramref name="file"/>, with the path it was opened by for calls that go by path.
    /// </summary>
    private static Errno PathAt(Task t, int dirfd, ulong pathAddress, int flags, out string resolved, out bool follow, out OpenFile? file)
    {
        resolved = "";
        file = null;
        follow = (flags & FileOpen.AtSymlinkNoFollow) == 0;
        var path = "";
        var e = pathAddress == 0 && (flags & FileOpen.AtEmptyPath) != 0 ? Errno.None : FileOpen.ReadPath(t, pathAddress, out path);
        if (e != Errno.None)
        {
            return e;
        }

        if (path.Length == 0 && (flags & FileOpen.AtEmptyPath) != 0)
        {
            follow = true;
            if (dirfd == FileOpen.AtFdCwd)
            {
                resolved = t.Group.Cwd;
                return Errno.None;
            }

            file = t.Group.Fds.Get(dirfd);
            if (file is null)
            {
                return Errno.EBADF;
            }

            resolved = FileOpen.PathOf(file);
            return Errno.None;
        }

        return FileOpen.Resolve(t, dirfd, path, out resolved);
    }

    /// <summary>The open file an fd names for fchmod(2), fchown(2) and futimens(3): null (EBADF) for a closed or O_PATH fd, which fdget() refuses.</summary>
    private static OpenFile? FdFile(Task t, int fd)
    {
        var file = t.Group.Fds.Get(fd);
        return file is null || (file.Flags & OpenFlags.Path) != 0 ? null : file;
    }

    // ---------------------------------------------------------------- stat

    private static long CopyOutStat(Task t, Errno e, in StatInfo st, ulong address)
    {
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        Span<byte> b = stackalloc byte[StatInfo.StatSize];
        st.WriteStat(b);
        return t.CopyOut(address, b) ? 0 : Errors.EFAULT;
    }

    private static long Stat(Task t, in SyscallArgs a)
    {
        var e = StatAt(t, FileOpen.AtFdCwd, a.A0, 0, out var st);
        return CopyOutStat(t, e, st, a.A1);
    }

    private static long Lstat(Task t, in SyscallArgs a)
    {
        var e = StatAt(t, FileOpen.AtFdCwd, a.A0, FileOpen.AtSymlinkNoFollow, out var st);
        return CopyOutStat(t, e, st, a.A1);
    }

    private static long Fstat(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        var e = file.Stat(out var st);
        return CopyOutStat(t, e, st, a.A1);
    }

    private static long Newfstatat(Task t, in SyscallArgs a)
    {
        var flags = (int)a.A3;
        if ((flags & ~(StatFlags | AtStatxSyncType)) != 0)
        {
            return Errors.EINVAL;
        }

        var e = StatAt(t, (int)a.A0, a.A1, flags, out var st);
        return CopyOutStat(t, e, st, a.A2);
    }

    /// <summary>
    /// statx(2): struct stat's fields, the birth time where the filesystem keeps one, the mount
    /// id and the file attributes. As Linux does, an optional field (the birth time) is filled
    /// only when asked for and the mount id always; STATX_MNT_ID_UNIQUE asks for an id never
    /// reused, which ours are already (/proc/self/mountinfo shows the same). The sync flags
    /// AT_STATX_FORCE_SYNC and AT_STATX_DONT_SYNC mean nothing to files we hold or the host
    /// holds coherently, but both at once is EINVAL, as is a mask with STATX__RESERVED.
    /// STATX_DIOALIGN is never claimed: reads and writes reach the host through our pooled
    /// buffers, so the guest's buffer alignment is not what an O_DIRECT transfer sees.
    /// </summary>
    private static long Statx(Task t, in SyscallArgs a)
    {
        var dirfd = (int)a.A0;
        var flags = (int)a.A2;
        var mask = (uint)a.A3;
        if ((flags & ~(StatFlags | AtStatxSyncType)) != 0 || (flags & AtStatxSyncType) == AtStatxSyncType ||
            (mask & StatxBits.Reserved) != 0)
        {
            return Errors.EINVAL;
        }

        var e = StatAt(t, dirfd, a.A1, flags, out var st);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        Span<byte> b = stackalloc byte[StatxSize];
        WriteStatx(st, mask, b);
        return t.CopyOut(a.A4, b) ? 0 : Errors.EFAULT;
    }

    /// <summary>Lays out struct statx (linux/stat.h) for a caller that asked for <paramref name="requested"/>.</summary>
    private static void WriteStatx(in StatInfo st, uint requested, Span<byte> b)
    {
        var mask = StatxBits.BasicStats | (st.StatxMask & requested);
        if (st.MountId != 0)
        {
            mask |= (requested & StatxBits.MountIdUnique) != 0 ? StatxBits.MountIdUnique : StatxBits.MountId;
        }

        b.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(b, mask);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], (uint)st.BlockSize);
        BinaryPrimitives.WriteUInt64LittleEndian(b[8..], st.Attributes);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], (uint)st.Links);
        BinaryPrimitives.WriteUInt32LittleEndian(b[20..], st.Uid);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], st.Gid);
        BinaryPrimitives.WriteUInt16LittleEndian(b[28..], (ushort)st.Mode);
        BinaryPrimitives.WriteUInt64LittleEndian(b[32..], st.Inode);
        BinaryPrimitives.WriteInt64LittleEndian(b[40..], st.Size);
        BinaryPrimitives.WriteInt64LittleEndian(b[48..], st.Blocks);
        BinaryPrimitives.WriteUInt64LittleEndian(b[56..], st.AttributesMask);
        WriteTimestamp(b[64..], st.AccessSeconds, st.AccessNanos);
        if ((mask & StatxBits.BTime) != 0)
        {
            WriteTimestamp(b[80..], st.BirthSeconds, st.BirthNanos);
        }

        WriteTimestamp(b[96..], st.ChangeSeconds, st.ChangeNanos);
        WriteTimestamp(b[112..], st.ModifySeconds, st.ModifyNanos);
        BinaryPrimitives.WriteUInt32LittleEndian(b[128..], Major(st.RDevice));
        BinaryPrimitives.WriteUInt32LittleEndian(b[132..], Minor(st.RDevice));
        BinaryPrimitives.WriteUInt32LittleEndian(b[136..], Major(st.Device));
        BinaryPrimitives.WriteUInt32LittleEndian(b[140..], Minor(st.Device));
        BinaryPrimitives.WriteUInt64LittleEndian(b[144..], (ulong)st.MountId);
    }

    private static void WriteTimestamp(Span<byte> b, long seconds, long nanos)
    {
        BinaryPrimitives.WriteInt64LittleEndian(b, seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], (uint)nanos);
    }

    /// <summary>gnu_dev_major/gnu_dev_minor: the split of a stat dev_t.</summary>
    private static uint Major(ulong dev) => (uint)(((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFFUL));

    private static uint Minor(ulong dev) => (uint)((dev & 0xFF) | ((dev >> 12) & ~0xFFUL));

    // ---------------------------------------------------------------- access

    private static long Access(Task t, in SyscallArgs a) => DoAccess(t, FileOpen.AtFdCwd, a.A0, (int)a.A1, 0);

    private static long Faccessat(Task t, in SyscallArgs a) => DoAccess(t, (int)a.A0, a.A1, (int)a.A2, 0);

    private static long Faccessat2(Task t, in SyscallArgs a) => DoAccess(t, (int)a.A0, a.A1, (int)a.A2, (int)a.A3);

    /// <summary>access(2) checks; the host decides with its own credentials (guests run as the host user that is root here).</summary>
    private static long DoAccess(Task t, int dirfd, ulong pathAddress, int mode, int flags)
    {
        if ((mode & ~AccessModeMask) != 0 || (flags & ~(FileOpen.AtEAccess | FileOpen.AtSymlinkNoFollow | FileOpen.AtEmptyPath)) != 0)
        {
            return Errors.EINVAL;
        }

        var e = PathAt(t, dirfd, pathAddress, flags, out var path, out var follow, out _);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        // A magic /proc link to something without a path (a pipe) exists and is as open as it is.
        if (!path.StartsWith('/'))
        {
            return 0;
        }

        e = t.Kernel.Vfs.Access(t, path, mode, follow, (flags & FileOpen.AtEAccess) != 0);
        return e == Errno.None ? 0 : Errors.Fail(e);
    }

    // ---------------------------------------------------------------- chmod, chown

    private static long Chmod(Task t, in SyscallArgs a) => DoChmod(t, FileOpen.AtFdCwd, a.A0, (uint)a.A1, 0);

    private static long Fchmodat(Task t, in SyscallArgs a) => DoChmod(t, (int)a.A0, a.A1, (uint)a.A2, 0);

    /// <summary>
    /// fchmod(2) changes the inode the fd is open on, whatever its names are now, or else (a file
    /// that cannot reach its inode itself) by the path it was opened by.
    /// </summary>
    private static long Fchmod(Task t, in SyscallArgs a)
    {
        var file = FdFile(t, (int)a.A0);
        var mode = (uint)a.A1 & 0xFFF;
        return file is null ? Errors.EBADF : Result(t.Kernel.Vfs.Chmod(t, file, mode) ?? t.Kernel.Vfs.Chmod(t, FileOpen.PathOf(file), mode, follow: true));
    }

    /// <summary>chmod(2), fchmodat(2): the syscall has no flags, so an empty path is ENOENT.</summary>
    private static long DoChmod(Task t, int dirfd, ulong pathAddress, uint mode, int flags)
    {
        var e = PathAt(t, dirfd, pathAddress, flags, out var path, out var follow, out _);
        return e != Errno.None ? Errors.Fail(e) : Result(t.Kernel.Vfs.Chmod(t, path, mode & 0xFFF, follow));
    }

    private static long Chown(Task t, in SyscallArgs a) => DoChown(t, FileOpen.AtFdCwd, a.A0, (int)a.A1, (int)a.A2, 0);

    private static long Lchown(Task t, in SyscallArgs a) =>
        DoChown(t, FileOpen.AtFdCwd, a.A0, (int)a.A1, (int)a.A2, FileOpen.AtSymlinkNoFollow);

    private static long Fchownat(Task t, in SyscallArgs a) => DoChown(t, (int)a.A0, a.A1, (int)a.A2, (int)a.A3, (int)a.A4);

    private static long Fchown(Task t, in SyscallArgs a)
    {
        var file = FdFile(t, (int)a.A0);
        return file is null ? Errors.EBADF : ChownFile(t, file, (int)a.A1, (int)a.A2);
    }

    /// <summary>fchown(2) and fchownat(2) with AT_EMPTY_PATH: as <see cref="Fchmod"/>.</summary>
    private static long ChownFile(Task t, OpenFile file, int uid, int gid) =>
        Result(t.Kernel.Vfs.Chown(t, file, uid, gid) ?? t.Kernel.Vfs.Chown(t, FileOpen.PathOf(file), uid, gid, follow: true));

    private static long DoChown(Task t, int dirfd, ulong pathAddress, int uid, int gid, int flags)
    {
        if ((flags & ~(FileOpen.AtSymlinkNoFollow | FileOpen.AtEmptyPath)) != 0)
        {
            return Errors.EINVAL;
        }

        var e = PathAt(t, dirfd, pathAddress, flags, out var path, out var follow, out var file);
        return e != Errno.None ? Errors.Fail(e) : file is not null ? ChownFile(t, file, uid, gid) : Result(t.Kernel.Vfs.Chown(t, path, uid, gid, follow));
    }

    private static long Result(Errno e) => e == Errno.None ? 0 : Errors.Fail(e);

    // ---------------------------------------------------------------- truncate

    private static long Truncate(Task t, in SyscallArgs a)
    {
        var e = FileOpen.ReadAndResolve(t, FileOpen.AtFdCwd, a.A0, out var path);
        if (e != Errno.None)
        {
            return Errors.Fail(e);
        }

        return (long)a.A1 < 0 ? Errors.EINVAL : Result(t.Kernel.Vfs.Truncate(t, path, (long)a.A1));
    }

    private static long Ftruncate(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null || (file.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        // do_ftruncate(): only a regular file open for writing.
        if ((long)a.A1 < 0 || !file.CanWrite || file.Stat(out var st) != Errno.None || !st.IsRegular)
        {
            return Errors.EINVAL;
        }

        var r = file.Truncate((long)a.A1);
        if (r == 0)
        {
            file.Fsnotify?.Modified(file);
        }

        return r;
    }

    // ---------------------------------------------------------------- utimensat

    /// <summary>
    /// utimensat(2); a NULL path means dirfd itself (futimens(3)), which must be open for more
    /// than O_PATH and take no flags (do_utimes_fd()), as does an empty path with AT_EMPTY_PATH;
    /// either changes the inode the file is open on, as <see cref="Fchmod"/>. NULL times set
    /// both to now.
    /// </summary>
    private static long Utimensat(Task t, in SyscallArgs a)
    {
        var dirfd = (int)a.A0;
        var flags = (int)a.A3;
        if ((flags & ~(FileOpen.AtSymlinkNoFollow | FileOpen.AtEmptyPath)) != 0)
        {
            return Errors.EINVAL;
        }

        (long, long) access = (0, UtimeNow), modify = (0, UtimeNow);
        if (a.A2 != 0)
        {
            Span<byte> b = stackalloc byte[32];
            if (!t.CopyIn(a.A2, b))
            {
                return Errors.EFAULT;
            }

            access = (BinaryPrimitives.ReadInt64LittleEndian(b), BinaryPrimitives.ReadInt64LittleEndian(b[8..]));
            modify = (BinaryPrimitives.ReadInt64LittleEndian(b[16..]), BinaryPrimitives.ReadInt64LittleEndian(b[24..]));
            if (!ValidTime(access) || !ValidTime(modify))
            {
                return Errors.EINVAL;
            }

            if (access.Item2 == UtimeOmit && modify.Item2 == UtimeOmit)
            {
                return 0;
            }
        }

        var path = "";
        var follow = true;
        OpenFile? file;
        if (a.A1 == 0)
        {
            if (dirfd == FileOpen.AtFdCwd || flags != 0)
            {
                return dirfd == FileOpen.AtFdCwd ? Errors.EFAULT : Errors.EINVAL;
            }

            file = FdFile(t, dirfd);
            if (file is null)
            {
                return Errors.EBADF;
            }
        }
        else
        {
            var e = PathAt(t, dirfd, a.A1, flags, out path, out follow, out file);
            if (e != Errno.None)
            {
                return Errors.Fail(e);
            }
        }

        return Result(file is null ? t.Kernel.Vfs.Utimens(t, path, access, modify, follow)
            : t.Kernel.Vfs.Utimens(t, file, access, modify) ?? t.Kernel.Vfs.Utimens(t, FileOpen.PathOf(file), access, modify, follow: true));
    }

    private static bool ValidTime((long Seconds, long Nanos) time) =>
        time.Nanos is UtimeNow or UtimeOmit || (time.Nanos >= 0 && time.Nanos < NanosPerSecond);
}
