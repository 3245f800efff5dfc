using System.Buffers.Binary;
using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Procfs;

/// <summary>A read-only file whose content was generated when it was opened (a seq_file snapshot).</summary>
internal sealed class SnapshotFile(string path, int flags, byte[] content, Func<StatInfo> stat) : OpenFile(path, flags)
{
    public override Errno Stat(out StatInfo st)
    {
        st = stat();
        return Errno.None;
    }

    public override long Read(Task task, Span<byte> buffer)
    {
        var n = ReadAt(buffer, Position);
        if (n > 0)
        {
            Position += n;
        }

        return n;
    }

    public override long ReadAt(Span<byte> buffer, long offset)
    {
        if ((Flags & OpenFlags.Path) != 0 || !CanRead)
        {
            return -(long)Errno.EBADF;
        }

        if (offset < 0)
        {
            return -(long)Errno.EINVAL;
        }

        if (offset >= content.Length)
        {
            return 0;
        }

        var n = (int)Math.Min(buffer.Length, content.Length - offset);
        content.AsSpan((int)offset, n).CopyTo(buffer);
        return n;
    }

    public override long Write(Task task, ReadOnlySpan<byte> data) => -(long)Errno.EINVAL;

    public override long Seek(long offset, int whence)
    {
        var target = whence switch
        {
            0 => offset,
            1 => Position + offset,
            2 => content.Length + offset,
            _ => -1,
        };
        if (target < 0)
        {
            return -(long)Errno.EINVAL;
        }

        Position = target;
        return target;
    }
}

/// <summary>A directory listed when it was opened; positions are indexes into the listing ("." and ".." first).</summary>
internal sealed class SnapshotDirectory(string path, int flags, List<(string Name, ulong Ino, byte Type)> entries, Func<StatInfo> stat)
    : OpenFile(path, flags)
{
    public override Errno Stat(out StatInfo st)
    {
        st = stat();
        return Errno.None;
    }

    public override long Read(Task task, Span<byte> buffer) => -(long)Errno.EISDIR;

    public override long Seek(long offset, int whence)
    {
        if (whence != 0 && whence != 1 || (whence == 0 ? offset : Position + offset) < 0)
        {
            return -(long)Errno.EINVAL;
        }

        Position = whence == 0 ? offset : Position + offset;
        return Position;
    }

    public override long GetDents64(Span<byte> buffer)
    {
        if ((Flags & OpenFlags.Path) != 0)
        {
            return -(long)Errno.EBADF;
        }

        var written = 0;
        while (Position < entries.Count)
        {
            var (name, ino, type) = entries[(int)Position];
            var nameBytes = Encoding.UTF8.GetByteCount(name);
            var reclen = (19 + nameBytes + 1 + 7) & ~7;
            if (written + reclen > buffer.Length)
            {
                return written > 0 ? written : -(long)Errno.EINVAL;
            }

            var r = buffer.Slice(written, reclen);
            r.Clear();
            BinaryPrimitives.WriteUInt64LittleEndian(r, ino);
            BinaryPrimitives.WriteInt64LittleEndian(r[8..], Position + 1);
            BinaryPrimitives.WriteUInt16LittleEndian(r[16..], (ushort)reclen);
            r[18] = type;
            Encoding.UTF8.GetBytes(name, r[19..]);
            written += reclen;
            Position++;
        }

        return written;
    }
}

/// <summary>
/// A read-only tree generated on demand (procfs, sysfs): each path resolves to a node that
/// is a directory (with a listing), a file (with content) or a symlink (with a target, and
/// for magic links an object to jump to).
/// </summary>
public abstract class SyntheticFileSystem : IFileSystem
{
    private static int _lastAnonymousMinor = 10;

    protected SyntheticFileSystem(DateTimeOffset created)
    {
        Device = (ulong)Interlocked.Increment(ref _lastAnonymousMinor);
        Created = created;
    }

    public abstract string Type { get; }

    protected abstract long Magic { get; }

    public ulong Device { get; }

    protected DateTimeOffset Created { get; }

    protected enum Kind
    {
        Directory,
        File,
        Symlink,
    }

    /// <summary>One node of the tree.</summary>
    protected sealed record Node
    {
        public required Kind Kind { get; init; }
        public required uint Permissions { get; init; }
        public Func<byte[]>? Content { get; init; }
        public Func<IEnumerable<string>>? List { get; init; }
        public Func<string>? Target { get; init; }

        /// <summary>A magic link: (canonical guest path to jump to, or the open file, or an error).</summary>
        public Func<(string? Jump, OpenFile? File, Errno Error)>? Jump { get; init; }

        public uint Uid { get; init; }
        public uint Gid { get; init; }

        /// <summary>Why reading or following this link is refused (EACCES where Linux's ptrace check fails), or None.</summary>
        public Errno Denied { get; init; }
        public long Size { get; init; }

        public static Node Dir(Func<IEnumerable<string>> list, uint permissions = 0x16D) =>
            new() { Kind = Kind.Directory, Permissions = permissions, List = list };

        public static Node Text(Func<string> text, uint permissions = 0x124) =>
            new() { Kind = Kind.File, Permissions = permissions, Content = () => Encoding.UTF8.GetBytes(text()) };

        public static Node Bytes(Func<byte[]> bytes, uint permissions = 0x124) =>
            new() { Kind = Kind.File, Permissions = permissions, Content = bytes };

        public static Node Link(Func<string> target, uint permissions = 0x1FF) =>
            new() { Kind = Kind.Symlink, Permissions = permissions, Target = target };
    }

    /// <summary>The node at the components of a path, or an errno (ENOENT, ENOTDIR, ELOOP through a symlink).</summary>
    protected abstract Errno Resolve(string[] parts, Task? caller, out Node node);

    private Errno Find(string path, Task? caller, out Node node)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return Resolve(parts, caller, out node);
    }

    /// <summary>A stable inode number for a path (the root is 1).</summary>
    protected static ulong InodeOf(string path)
    {
        if (path.Trim('/').Length == 0)
        {
            return 1;
        }

        var h = 14695981039346656037UL;
        foreach (var c in path.Trim('/'))
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return (h & 0x7FFF_FFFF) | 0x1000;
    }

    private StatInfo StatOf(string path, Node node)
    {
        var seconds = Created.ToUnixTimeSeconds();
        var nanos = Created.ToUnixTimeMilliseconds() % 1000 * 1_000_000;
        var type = node.Kind switch
        {
            Kind.Directory => InodeMode.Directory,
            Kind.Symlink => InodeMode.Symlink,
            _ => InodeMode.Regular,
        };
        return new StatInfo
        {
            Device = Device,
            Inode = InodeOf(path),
            Mode = type | node.Permissions,
            Links = node.Kind == Kind.Directory ? 2UL : 1UL,
            Uid = node.Uid,
            Gid = node.Gid,
            Size = node.Size,
            BlockSize = 1024,
            AccessSeconds = seconds, AccessNanos = nanos,
            ModifySeconds = seconds, ModifyNanos = nanos,
            ChangeSeconds = seconds, ChangeNanos = nanos,
        };
    }

    public Errno StatFs(string path, out StatFsInfo info)
    {
        info = new StatFsInfo { Type = Magic, BlockSize = 4096, FragmentSize = 4096, NameMax = 255, Flags = 0x1020 | 0x2 | 0x4 | 0x8 };
        return Errno.None;
    }

    public Errno Stat(string path, Task? caller, out StatInfo stat)
    {
        var e = Find(path, caller, out var node);
        stat = e == Errno.None ? StatOf(path, node) : default;
        return e;
    }

    public Errno ReadLink(string path, Task? caller, out string target)
    {
        target = "";
        var e = Find(path, caller, out var node);
        if (e != Errno.None)
        {
            return e;
        }

        if (node.Kind != Kind.Symlink)
        {
            return Errno.EINVAL;
        }

        if (node.Denied != Errno.None)
        {
            return node.Denied;
        }

        target = node.Target!();
        return Errno.None;
    }

    public bool TryMagicLink(string path, Task? caller, out string? jumpTo, out OpenFile? file, out Errno errno)
    {
        jumpTo = null;
        file = null;
        errno = Find(path, caller, out var node);
        if (errno != Errno.None || node.Jump is null)
        {
            return errno != Errno.None;
        }

        (jumpTo, file, errno) = node.Denied != Errno.None ? (null, null, node.Denied) : node.Jump();
        return true;
    }

    public virtual Errno? Permission(string path, Task? caller, Credentials cred, int mask) => null;

    public Errno Open(string path, int flags, uint mode, Task? caller, out OpenFile? file)
    {
        file = null;
        var e = Find(path, caller, out var node);
        if (e != Errno.None)
        {
            return e;
        }

        var st = StatOf(path, node);
        StatInfo Stat() => st;
        if ((flags & OpenFlags.Path) != 0)
        {
            file = new SnapshotFile(path, flags, Array.Empty<byte>(), Stat);
            return Errno.None;
        }

        if (node.Kind == Kind.Symlink)
        {
            return Errno.ELOOP;
        }

        if ((flags & OpenFlags.Directory) != 0 && node.Kind != Kind.Directory)
        {
            return Errno.ENOTDIR;
        }

        var writes = (flags & OpenFlags.AccessMode) != OpenFlags.ReadOnly;
        if (node.Kind == Kind.Directory)
        {
            if (writes || (flags & OpenFlags.Create) != 0)
            {
                return Errno.EISDIR;
            }

            var entries = new List<(string, ulong, byte)> { (".", st.Inode, 4), ("..", InodeOf(ParentOf(path)), 4) };
            foreach (var name in node.List!())
            {
                var childPath = path.TrimEnd('/') + "/" + name;
                if (Find(childPath, caller, out var child) == Errno.None)
                {
                    entries.Add((name, InodeOf(childPath), child.Kind switch { Kind.Directory => 4, Kind.Symlink => 10, _ => 8 }));
                }
            }

            file = new SnapshotDirectory(path, flags, entries, Stat);
            return Errno.None;
        }

        // Root may open any of them for writing; writes to files without a handler fail (EINVAL).
        file = new SnapshotFile(path, flags, node.Content!(), Stat);
        return Errno.None;
    }

    private static string ParentOf(string path)
    {
        var p = path.TrimEnd('/');
        var i = p.LastIndexOf('/');
        return i <= 0 ? "/" : p[..i];
    }

    private Errno ReadOnly(string path) => Find(path, null, out _) == Errno.None ? Errno.EPERM : Errno.EACCES;

    /// <summary>Nothing can be created here: the directories have no create operation (ENOENT, as Linux answers).</summary>
    public Errno MakeDirectory(string path, uint mode) => Errno.ENOENT;

    public Errno MakeNode(string path, uint mode, ulong device) => Errno.ENOENT;

    public Errno Unlink(string path, bool removeDirectory) => ReadOnly(path);

    public Errno Rename(string oldPath, string newPath, int flags) => ReadOnly(oldPath);

    public Errno Symlink(string target, string linkPath) => Errno.ENOENT;

    public Errno Link(string oldPath, string newPath) => Errno.EPERM;

    public Errno Chmod(string path, uint mode) => ReadOnly(path);

    public Errno Chown(string path, int uid, int gid) => ReadOnly(path);

    public Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) => ReadOnly(path);

    public Errno Truncate(string path, long length) => Errno.EACCES;
}
