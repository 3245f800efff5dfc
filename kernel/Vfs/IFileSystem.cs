namespace UserModeOS.Kernel.Vfs;

/// <summary>
/// A filesystem as the VFS sees it (Linux's super_block + inode operations, path-based).
/// Paths are relative to the filesystem's own root: always "/"-rooted and normalised
/// ("/bin/ls", "/" for the root), with NO symlink in any component but possibly the last:
/// the VFS (<see cref="PathWalk"/>) has resolved them. A filesystem finding a symlink (or a
/// non-directory) in an intermediate component answers ELOOP (ENOTDIR), so the walker can
/// try a multi-component path at once and fall back to a step-by-step walk. Every
/// operation acts on the last component without following it. <paramref name="caller"/>
/// is the task asking, where content depends on it (procfs: /proc/self), else null.
/// Modes given to calls that create files are final: the caller has applied the umask.
/// </summary>
public interface IFileSystem
{
    /// <summary>The type /proc/mounts shows ("ext4", "tmpfs", "proc", "devtmpfs", "sysfs").</summary>
    string Type { get; }

    /// <summary>statfs(2) of the filesystem holding <paramref name="path"/>.</summary>
    Errno StatFs(string path, out StatFsInfo info);

    /// <summary>open(2) with Linux flags; a symlink as last component gives ELOOP unless O_PATH|O_NOFOLLOW.</summary>
    Errno Open(string path, int flags, uint mode, Task? caller, out OpenFile? file);

    /// <summary>lstat(2).</summary>
    Errno Stat(string path, Task? caller, out StatInfo stat);

    /// <summary>readlink(2); EINVAL when the last component is no symlink.</summary>
    Errno ReadLink(string path, Task? caller, out string target);

    /// <summary>
    /// inode_operations.permission, for a filesystem with rules of its own (procfs): the answer
    /// for <paramref name="cred"/> wanting <paramref name="mask"/> (MAY_READ/WRITE/EXEC) on
    /// <paramref name="path"/>, or null for generic_permission() on what <see cref="Stat"/> shows.
    /// </summary>
    Errno? Permission(string path, Task? caller, Credentials cred, int mask) => null;

    /// <summary>mkdir(2).</summary>
    Errno MakeDirectory(string path, uint mode);

    /// <summary>mknod(2) for fifos, sockets, regular files and device nodes.</summary>
    Errno MakeNode(string path, uint mode, ulong device);

    /// <summary>unlink(2), or rmdir(2) when <paramref name="removeDirectory"/> is true.</summary>
    Errno Unlink(string path, bool removeDirectory);

    /// <summary>renameat2(2) within this filesystem, RENAME_NOREPLACE/RENAME_EXCHANGE/RENAME_WHITEOUT flags.</summary>
    Errno Rename(string oldPath, string newPath, int flags);

    /// <summary>symlink(2): creates <paramref name="linkPath"/> holding <paramref name="target"/> verbatim.</summary>
    Errno Symlink(string target, string linkPath);

    /// <summary>link(2) within this filesystem (never follows <paramref name="oldPath"/>).</summary>
    Errno Link(string oldPath, string newPath);

    /// <summary>
    /// open(2) with O_TMPFILE: an unnamed regular file (nlink 0) on directory <paramref name="directory"/>'s
    /// filesystem. EOPNOTSUPP where the filesystem has no such files (Linux: no i_op->tmpfile).
    /// </summary>
    Errno OpenTmpFile(string directory, int flags, uint mode, out OpenFile? file)
    {
        file = null;
        return Errno.EOPNOTSUPP;
    }

    /// <summary>
    /// linkat(2) of an open file without a name (O_TMPFILE), by the file itself: EXDEV when it is
    /// not this filesystem's, ENOENT when it may not get a name (opened O_EXCL, or its names are gone).
    /// </summary>
    Errno LinkFile(OpenFile file, string newPath) => Errno.EXDEV;

    /// <summary>chmod(2) of the last component (EOPNOTSUPP for a symlink, as lchmod).</summary>
    Errno Chmod(string path, uint mode);

    /// <summary>lchown(2); -1 leaves an id unchanged.</summary>
    Errno Chown(string path, int uid, int gid);

    /// <summary>
    /// utimensat(2) with AT_SYMLINK_NOFOLLOW: each time is (seconds, nanoseconds), where
    /// nanoseconds may be UTIME_NOW ((1 &lt;&lt; 30) - 1) or UTIME_OMIT ((1 &lt;&lt; 30) - 2).
    /// </summary>
    Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify);

    // fchmod(2), fchown(2), futimens(3) and fstatfs(2) of a file opened on this filesystem: by
    // default the open file reaches its inode itself (OpenFile.Chmod ...). Null sends the VFS to
    // the path-based call with the path the file was opened by, as a filesystem whose open files
    // belong to another (overlay's layers) needs.

    /// <summary>fchmod(2) of <paramref name="file"/>, open on this filesystem.</summary>
    Errno? Chmod(OpenFile file, uint mode) => file.Chmod(mode);

    /// <summary>fchown(2) of <paramref name="file"/>, open on this filesystem.</summary>
    Errno? Chown(OpenFile file, int uid, int gid) => file.Chown(uid, gid);

    /// <summary>futimens(3) of <paramref name="file"/>, open on this filesystem.</summary>
    Errno? Utimens(OpenFile file, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) => file.Utimens(access, modify);

    /// <summary>fstatfs(2) of <paramref name="file"/>, open on this filesystem.</summary>
    Errno? StatFs(OpenFile file, out StatFsInfo info) => file.StatFs(out info);

    /// <summary>truncate(2).</summary>
    Errno Truncate(string path, long length);

    /// <summary>getxattr(2) of the last component (not followed); EOPNOTSUPP where the filesystem keeps no extended attributes.</summary>
    Errno GetXattr(string path, string name, out byte[] value)
    {
        value = Array.Empty<byte>();
        return Errno.EOPNOTSUPP;
    }

    /// <summary>setxattr(2); <paramref name="flags"/> are XATTR_CREATE (1) and XATTR_REPLACE (2).</summary>
    Errno SetXattr(string path, string name, byte[] value, int flags) => Errno.EOPNOTSUPP;

    /// <summary>removexattr(2).</summary>
    Errno RemoveXattr(string path, string name) => Errno.EOPNOTSUPP;

    /// <summary>listxattr(2): every attribute name the caller may see.</summary>
    Errno ListXattr(string path, out List<string> names)
    {
        names = new List<string>();
        return Errno.EOPNOTSUPP;
    }
}

/// <summary>
/// A filesystem with Linux's "magic links" (/proc/[pid]/fd/N, exe, cwd, root): following one
/// jumps straight to an object instead of walking a target string.
/// </summary>
public interface IMagicLinks
{
    /// <summary>
    /// When <paramref name="path"/> is a magic link: true, with the canonical guest path to jump
    /// to, or (for objects without a path, like pipes) the open file itself.
    /// </summary>
    bool TryMagicLink(string path, Task? caller, out string? jumpTo, out OpenFile? file, out Errno errno);
}

/// <summary>
/// Opens a device node (char or block) by major and minor for a caller, with the node's lstat
/// for fstat; ENXIO when no driver has it.
/// </summary>
public delegate Errno DeviceOpener(uint major, uint minor, int flags, Task? caller, Func<StatInfo> stat, out OpenFile? file);

/// <summary>What statfs(2) reports (struct statfs, x86-64).</summary>
public struct StatFsInfo
{
    public const long Ext4Magic = 0xEF53, TmpfsMagic = 0x01021994, ProcMagic = 0x9fa0, SysfsMagic = 0x62656572;

    public long Type;
    public long BlockSize;
    public long Blocks;
    public long BlocksFree;
    public long BlocksAvailable;
    public long Files;
    public long FilesFree;
    public ulong FsId;
    public long NameMax;
    public long FragmentSize;
    public long Flags;

    public const int Size = 120;

    /// <summary>Writes x86-64 <c>struct statfs</c>.</summary>
    public readonly void Write(Span<byte> b)
    {
        b[..Size].Clear();
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b, Type);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[8..], BlockSize);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[16..], Blocks);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[24..], BlocksFree);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[32..], BlocksAvailable);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[40..], Files);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[48..], FilesFree);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(b[56..], FsId);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[64..], NameMax);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[72..], FragmentSize);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(b[80..], Flags);
    }
}
