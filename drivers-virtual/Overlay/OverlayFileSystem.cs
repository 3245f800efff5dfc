using System.Runtime.CompilerServices;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Overlay;

/// <summary>
/// overlay: a read-only lower filesystem under a writable upper one, as Linux's overlayfs.
/// Lookups see the upper over the lower; directory listings merge (the upper wins, whiteouts
/// hide). Anything that changes a lower file copies it up first (content, mode, owner,
/// times; missing parent directories are created in the upper, parents first). The lower
/// filesystem is never written.
/// <para>
/// Whiteouts (a deleted lower entry) are, as in overlayfs, character devices 0/0 in the upper;
/// where the host cannot mknod (not root), an empty marker file <c>.wh.NAME</c> next to it, as
/// aufs does. An opaque directory (removed, then created again: lower entries stay hidden) is
/// marked by an empty file <c>.wh..wh..opq</c> in it (the host xattr trusted.overlay.opaque
/// needs CAP_SYS_ADMIN on the host, which umos may lack, and tmpfs uppers would show it to the
/// guest). Names beginning with
/// <c>.wh.</c> are therefore reserved: they are never listed and cannot be looked up.
/// </para>
/// <para>
/// Renaming a directory that has lower content answers EXDEV, as overlayfs does without
/// redirect_dir: mv falls back to copy and delete.
/// </para>
/// </summary>
public sealed class OverlayFileSystem : IFileSystem
{
    internal const string WhiteoutPrefix = ".wh.";
    internal const string OpaqueMarker = ".wh..wh..opq";
    private const int RenameNoReplace = 1, RenameExchange = 2, RenameWhiteout = 4;

    private readonly object _sync = new();

    /// <summary>
    /// The files opened on the lower layer itself (not directories, which <see cref="OverlayDirectory"/>
    /// wraps), each mapped to that layer: what changes them must copy them up first, by path.
    /// </summary>
    private readonly ConditionalWeakTable<OpenFile, IFileSystem> _lowerFiles = new();

    public OverlayFileSystem(IFileSystem lower, IFileSystem upper)
    {
        Lower = lower;
        Upper = upper;
    }

    public IFileSystem Lower { get; }

    public IFileSystem Upper { get; }

    public string Type => "overlay";

    internal enum Layer
    {
        None,
        Upper,
        Lower,
    }

    /// <summary>What a path names in the overlay.</summary>
    internal struct Node
    {
        public Layer Layer;
        public StatInfo Stat;

        /// <summary>For a directory: lower entries below it are visible (a lower or merged directory).</summary>
        public bool LowerBelow;

        /// <summary>The lower layer holds something visible at this path (it needs a whiteout when removed).</summary>
        public bool HasLower;

        public readonly bool Exists => Layer != Layer.None;
    }

    private static string Combine(string dir, string name) => dir == "/" ? "/" + name : dir + "/" + name;

    private static (string Parent, string Name) Split(string path)
    {
        var slash = path.LastIndexOf('/');
        return (slash <= 0 ? "/" : path[..slash], path[(slash + 1)..]);
    }

    internal static bool IsWhiteoutStat(in StatInfo st) =>
        (st.Mode & InodeMode.TypeMask) == InodeMode.Char && st.RDevice == 0;

    private bool UpperExists(string path) => Upper.Stat(path, null, out _) == Errno.None;

    /// <summary>The upper directory <paramref name="dir"/> hides every lower entry below it.</summary>
    private bool IsOpaque(string dir) => UpperExists(Combine(dir, OpaqueMarker));

    /// <summary>
    /// Resolves <paramref name="path"/> through both layers. Errno.None with a node that may not
    /// exist (the last component is missing but its parent is a directory), or the error an
    /// intermediate component gives (ENOENT, ENOTDIR, ELOOP).
    /// </summary>
    internal Errno Lookup(string path, out Node node)
    {
        node = default;
        var e = Upper.Stat("/", null, out var rootStat);
        if (e != Errno.None)
        {
            return e;
        }

        var cur = new Node { Layer = Layer.Upper, Stat = rootStat, LowerBelow = !IsOpaque("/"), HasLower = true };
        var dir = "/";
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            if (!cur.Stat.IsDirectory)
            {
                return (cur.Stat.Mode & InodeMode.TypeMask) == InodeMode.Symlink ? Errno.ELOOP : Errno.ENOTDIR;
            }

            var name = parts[i];
            var child = Combine(dir, name);
            var last = i == parts.Length - 1;
            Node next = default;
            if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
            {
                // Reserved: whiteout markers are invisible.
            }
            else if (cur.Layer == Layer.Upper && Upper.Stat(child, null, out var up) == Errno.None)
            {
                if (!IsWhiteoutStat(up))
                {
                    next.Layer = Layer.Upper;
                    next.Stat = up;
                    if (cur.LowerBelow && Lower.Stat(child, null, out var lo) == Errno.None)
                    {
                        next.HasLower = true;
                        next.LowerBelow = up.IsDirectory && lo.IsDirectory && !IsOpaque(child);
                    }
                }
            }
            else if (cur.LowerBelow && Lower.Stat(child, null, out var lo) == Errno.None &&
                !(cur.Layer == Layer.Upper && UpperExists(Combine(dir, WhiteoutPrefix + name))))
            {
                next = new Node { Layer = Layer.Lower, Stat = lo, LowerBelow = lo.IsDirectory, HasLower = true };
            }

            if (!next.Exists)
            {
                if (last)
                {
                    node = default;
                    return Errno.None;
                }

                return Errno.ENOENT;
            }

            cur = next;
            dir = child;
        }

        node = cur;
        return Errno.None;
    }

    private Errno LookupExisting(string path, out Node node)
    {
        var e = Lookup(path, out node);
        return e != Errno.None ? e : node.Exists ? Errno.None : Errno.ENOENT;
    }

    /// <summary>Makes sure the directory <paramref name="dir"/> exists in the upper layer, copying its ancestors up first.</summary>
    private Errno CopyUpDirectory(string dir)
    {
        var e = LookupExisting(dir, out var node);
        if (e != Errno.None)
        {
            return e;
        }

        if (!node.Stat.IsDirectory)
        {
            return Errno.ENOTDIR;
        }

        return node.Layer == Layer.Upper ? Errno.None : CopyUp(dir, node);
    }

    /// <summary>Copies a lower entry to the upper layer: content, mode, owner and times.</summary>
    private Errno CopyUp(string path, in Node node)
    {
        if (node.Layer != Layer.Lower)
        {
            return Errno.None;
        }

        var (parent, _) = Split(path);
        var e = CopyUpDirectory(parent);
        if (e != Errno.None)
        {
            return e;
        }

        var st = node.Stat;
        var perm = st.Mode & 0xFFF;
        switch (st.Mode & InodeMode.TypeMask)
        {
            case InodeMode.Directory:
                e = Upper.MakeDirectory(path, perm);
                break;
            case InodeMode.Symlink:
                e = Lower.ReadLink(path, null, out var target);
                if (e == Errno.None)
                {
                    e = Upper.Symlink(target, path);
                }

                break;
            case InodeMode.Regular:
                e = CopyContent(path, perm);
                break;
            default:
                e = Upper.MakeNode(path, st.Mode, st.RDevice);
                break;
        }

        if (e != Errno.None)
        {
            return e;
        }

        Upper.Chown(path, (int)st.Uid, (int)st.Gid);
        if ((st.Mode & InodeMode.TypeMask) != InodeMode.Symlink)
        {
            // chown clears set-id bits: the mode goes last.
            Upper.Chmod(path, perm);
        }

        Upper.Utimens(path, (st.AccessSeconds, st.AccessNanos), (st.ModifySeconds, st.ModifyNanos));
        return Errno.None;
    }

    private Errno CopyContent(string path, uint perm)
    {
        var e = Lower.Open(path, OpenFlags.ReadOnly | OpenFlags.NoFollow, 0, null, out var source);
        if (e != Errno.None)
        {
            return e;
        }

        try
        {
            e = Upper.Open(path, OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.Exclusive | OpenFlags.NoFollow, perm, null, out var target);
            if (e != Errno.None)
            {
                return e;
            }

            try
            {
                var buffer = new byte[1 << 16];
                long offset = 0;
                while (true)
                {
                    var n = source!.ReadAt(buffer, offset);
                    if (n < 0)
                    {
                        return (Errno)(-n);
                    }

                    if (n == 0)
                    {
                        return Errno.None;
                    }

                    var done = 0L;
                    while (done < n)
                    {
                        var w = target!.WriteAt(buffer.AsSpan((int)done, (int)(n - done)), offset + done);
                        if (w <= 0)
                        {
                            return w < 0 ? (Errno)(-w) : Errno.EIO;
                        }

                        done += w;
                    }

                    offset += n;
                }
            }
            finally
            {
                target!.Release();
            }
        }
        finally
        {
            source!.Release();
        }
    }

    /// <summary>Looks the path up and copies it up: for the calls that change an existing file.</summary>
    private Errno CopyUpExisting(string path, out Node node)
    {
        var e = LookupExisting(path, out node);
        if (e == Errno.None && node.Layer == Layer.Lower)
        {
            e = CopyUp(path, node);
            node.Layer = Layer.Upper;
        }

        return e;
    }

    /// <summary>
    /// Gets a missing path ready to be created in the upper layer: the parent copied up and a
    /// whiteout in the way removed; true in <paramref name="hadWhiteout"/> when there was one.
    /// </summary>
    private Errno PrepareCreate(string path, out bool hadWhiteout)
    {
        hadWhiteout = false;
        var (parent, name) = Split(path);
        var e = CopyUpDirectory(parent);
        if (e != Errno.None)
        {
            return e;
        }

        if (Upper.Stat(path, null, out var up) == Errno.None && IsWhiteoutStat(up))
        {
            hadWhiteout = true;
            return Upper.Unlink(path, removeDirectory: false);
        }

        var marker = Combine(parent, WhiteoutPrefix + name);
        if (UpperExists(marker))
        {
            hadWhiteout = true;
            return Upper.Unlink(marker, removeDirectory: false);
        }

        return Errno.None;
    }

    /// <summary>Hides the lower entry at <paramref name="path"/> (nothing is in the upper there any more).</summary>
    private Errno MakeWhiteout(string path)
    {
        var e = Upper.MakeNode(path, InodeMode.Char, 0);
        if (e is Errno.EPERM or Errno.EACCES or Errno.EOPNOTSUPP)
        {
            var (parent, name) = Split(path);
            e = Upper.Open(Combine(parent, WhiteoutPrefix + name), OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.NoFollow, 0x1A4, null, out var marker);
            marker?.Release();
        }

        return e;
    }

    /// <summary>The merged listing of a directory (no "." or ".."), with each entry's d_type and inode.</summary>
    internal Errno List(string path, in Node node, List<(string Name, ulong Inode, byte Type)> entries)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var hidden = new HashSet<string>(StringComparer.Ordinal);
        if (node.Layer == Layer.Upper)
        {
            var e = ReadDirectory(Upper, path, (name, ino, type) =>
            {
                if (name is "." or "..")
                {
                    return;
                }

                if (name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
                {
                    if (name != OpaqueMarker)
                    {
                        hidden.Add(name[WhiteoutPrefix.Length..]);
                    }

                    return;
                }

                seen.Add(name);
                if (type == DtChr && Upper.Stat(Combine(path, name), null, out var st) == Errno.None && IsWhiteoutStat(st))
                {
                    return;
                }

                entries.Add((name, ino, type));
            });
            if (e != Errno.None)
            {
                return e;
            }
        }

        if (node.LowerBelow)
        {
            var e = ReadDirectory(Lower, path, (name, ino, type) =>
            {
                if (name is "." or ".." || seen.Contains(name) || hidden.Contains(name) ||
                    name.StartsWith(WhiteoutPrefix, StringComparison.Ordinal))
                {
                    return;
                }

                entries.Add((name, ino, type));
            });
            if (e != Errno.None && node.Layer == Layer.Lower)
            {
                return e;
            }
        }

        return Errno.None;
    }

    private const byte DtChr = 2;

    private static Errno ReadDirectory(IFileSystem fs, string path, Action<string, ulong, byte> each)
    {
        var e = fs.Open(path, OpenFlags.ReadOnly | OpenFlags.Directory | OpenFlags.NoFollow, 0, null, out var dir);
        if (e != Errno.None)
        {
            return e;
        }

        try
        {
            var buffer = new byte[32 * 1024];
            while (true)
            {
                var n = dir!.GetDents64(buffer);
                if (n < 0)
                {
                    return (Errno)(-n);
                }

                if (n == 0)
                {
                    return Errno.None;
                }

                for (var at = 0; at < n;)
                {
                    var record = buffer.AsSpan(at);
                    var ino = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(record);
                    var reclen = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(record[16..]);
                    var type = record[18];
                    var nameSpan = record[19..reclen];
                    var end = nameSpan.IndexOf((byte)0);
                    var name = System.Text.Encoding.UTF8.GetString(end < 0 ? nameSpan : nameSpan[..end]);
                    each(name, ino, type);
                    at += reclen;
                }
            }
        }
        finally
        {
            dir!.Release();
        }
    }

    /// <summary>An empty directory as the guest sees it: no entry in the merged listing.</summary>
    private Errno CheckEmpty(string path, in Node node)
    {
        var entries = new List<(string, ulong, byte)>();
        var e = List(path, node, entries);
        return e != Errno.None ? e : entries.Count == 0 ? Errno.None : Errno.ENOTEMPTY;
    }

    /// <summary>Empties an upper directory the guest sees as empty: only whiteouts and markers are left in it.</summary>
    private void ClearUpperDirectory(string path)
    {
        var names = new List<string>();
        ReadDirectory(Upper, path, (name, _, _) =>
        {
            if (name is not ("." or ".."))
            {
                names.Add(name);
            }
        });
        foreach (var name in names)
        {
            Upper.Unlink(Combine(path, name), removeDirectory: false);
        }
    }

    // ------------------------------------------------------------------ IFileSystem

    public Errno StatFs(string path, out StatFsInfo info)
    {
        var e = Upper.StatFs("/", out info);
        if (e == Errno.None)
        {
            info.Type = 0x794c7630; // OVERLAYFS_SUPER_MAGIC
        }

        return e;
    }

    /// <summary>
    /// Finds (copying up or preparing to create as needed) the layer to open in under the
    /// lock, then opens outside it, so that a slow layer holds up no other lookup. Fifos are
    /// opened by the VFS (fifo(7)), which asks here only for their inode (O_PATH).
    /// </summary>
    public Errno Open(string path, int flags, uint mode, Task? caller, out OpenFile? file)
    {
        file = null;
        var e = PrepareOpen(path, flags, out var layer, out var directory);
        if (e != Errno.None)
        {
            return e;
        }

        e = layer!.Open(path, flags, mode, caller, out var inner);
        if (e != Errno.None || !directory)
        {
            if (e == Errno.None && layer == Lower)
            {
                _lowerFiles.AddOrUpdate(inner!, Lower);
            }

            file = inner;
            return e;
        }

        file = new OverlayDirectory(this, path, flags, inner!);
        return Errno.None;
    }

    private Errno PrepareOpen(string path, int flags, out IFileSystem? layer, out bool directory)
    {
        layer = null;
        directory = false;
        lock (_sync)
        {
            var e = Lookup(path, out var node);
            if (e != Errno.None)
            {
                return e;
            }

            var isPath = (flags & OpenFlags.Path) != 0;
            if (!node.Exists)
            {
                if (isPath || (flags & OpenFlags.Create) == 0)
                {
                    return Errno.ENOENT;
                }

                e = PrepareCreate(path, out _);
                layer = Upper;
                return e;
            }

            if ((flags & OpenFlags.Create) != 0 && (flags & OpenFlags.Exclusive) != 0)
            {
                return Errno.EEXIST;
            }

            directory = node.Stat.IsDirectory && !isPath;
            var writes = !isPath && ((flags & OpenFlags.AccessMode) != OpenFlags.ReadOnly || (flags & OpenFlags.Truncate) != 0);
            if (writes && node.Layer == Layer.Lower && node.Stat.IsRegular)
            {
                e = CopyUp(path, node);
                if (e != Errno.None)
                {
                    return e;
                }

                node.Layer = Layer.Upper;
            }

            layer = node.Layer == Layer.Upper ? Upper : Lower;
            return Errno.None;
        }
    }

    public Errno Stat(string path, Task? caller, out StatInfo stat)
    {
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            stat = node.Stat;
            return e;
        }
    }

    public Errno ReadLink(string path, Task? caller, out string target)
    {
        target = "";
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            return e != Errno.None ? e : (node.Layer == Layer.Upper ? Upper : Lower).ReadLink(path, caller, out target);
        }
    }

    public Errno MakeDirectory(string path, uint mode)
    {
        lock (_sync)
        {
            var e = Lookup(path, out var node);
            if (e != Errno.None)
            {
                return e;
            }

            if (node.Exists)
            {
                return Errno.EEXIST;
            }

            e = PrepareCreate(path, out var hadWhiteout);
            if (e != Errno.None)
            {
                return e;
            }

            e = Upper.MakeDirectory(path, mode);
            if (e == Errno.None && hadWhiteout)
            {
                // A directory made where a lower entry was deleted shows none of the lower's entries.
                e = Upper.Open(Combine(path, OpaqueMarker), OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.NoFollow, 0x1A4, null, out var marker);
                marker?.Release();
            }

            return e;
        }
    }

    public Errno MakeNode(string path, uint mode, ulong device) => CreateNew(path, () => Upper.MakeNode(path, mode, device));

    /// <summary>A new name made in the upper layer by <paramref name="create"/>: EEXIST when the merged view has it already.</summary>
    private Errno CreateNew(string path, Func<Errno> create)
    {
        lock (_sync)
        {
            var e = Lookup(path, out var node);
            if (e != Errno.None)
            {
                return e;
            }

            if (node.Exists)
            {
                return Errno.EEXIST;
            }

            e = PrepareCreate(path, out _);
            return e != Errno.None ? e : create();
        }
    }

    public Errno Unlink(string path, bool removeDirectory)
    {
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            if (e != Errno.None)
            {
                return e;
            }

            return Remove(path, node, removeDirectory);
        }
    }

    private Errno Remove(string path, in Node node, bool removeDirectory)
    {
        if (removeDirectory && !node.Stat.IsDirectory)
        {
            return Errno.ENOTDIR;
        }

        if (!removeDirectory && node.Stat.IsDirectory)
        {
            return Errno.EISDIR;
        }

        Errno e;
        if (removeDirectory)
        {
            e = CheckEmpty(path, node);
            if (e != Errno.None)
            {
                return e;
            }
        }

        var (parent, _) = Split(path);
        e = CopyUpDirectory(parent);
        if (e != Errno.None)
        {
            return e;
        }

        if (node.Layer == Layer.Upper)
        {
            if (removeDirectory)
            {
                ClearUpperDirectory(path);
            }

            e = Upper.Unlink(path, removeDirectory);
            if (e != Errno.None)
            {
                return e;
            }
        }

        return node.HasLower ? MakeWhiteout(path) : Errno.None;
    }

    public Errno Rename(string oldPath, string newPath, int flags)
    {
        lock (_sync)
        {
            var e = LookupExisting(oldPath, out var source);
            if (e != Errno.None)
            {
                return e;
            }

            e = Lookup(newPath, out var target);
            if (e != Errno.None)
            {
                return e;
            }

            if (oldPath == newPath)
            {
                return Errno.None;
            }

            if ((flags & RenameExchange) != 0)
            {
                if (!target.Exists)
                {
                    return Errno.ENOENT;
                }

                if ((source.Stat.IsDirectory && source.LowerBelow) || (target.Stat.IsDirectory && target.LowerBelow))
                {
                    return Errno.EXDEV;
                }

                e = CopyUpExisting(oldPath, out _);
                if (e == Errno.None)
                {
                    e = CopyUpExisting(newPath, out _);
                }

                return e != Errno.None ? e : Upper.Rename(oldPath, newPath, RenameExchange);
            }

            if (target.Exists && (flags & RenameNoReplace) != 0)
            {
                return Errno.EEXIST;
            }

            if (source.Stat.IsDirectory && source.LowerBelow)
            {
                // Without redirect_dir, overlayfs cannot move a directory with lower content.
                return Errno.EXDEV;
            }

            if (target.Exists)
            {
                if (target.Stat.IsDirectory && !source.Stat.IsDirectory)
                {
                    return Errno.EISDIR;
                }

                if (!target.Stat.IsDirectory && source.Stat.IsDirectory)
                {
                    return Errno.ENOTDIR;
                }

                if (target.Stat.IsDirectory)
                {
                    e = CheckEmpty(newPath, target);
                    if (e != Errno.None)
                    {
                        return e;
                    }
                }
            }

            e = CopyUpExisting(oldPath, out _);
            if (e != Errno.None)
            {
                return e;
            }

            var opaque = false;
            if (target.Exists && (target.Layer == Layer.Lower || target.Stat.IsDirectory))
            {
                // Clear the way: a lower target (or a merged directory) is removed first, as rmdir/unlink would.
                e = Remove(newPath, target, target.Stat.IsDirectory);
                if (e != Errno.None)
                {
                    return e;
                }

                target = default;
            }

            if (!target.Exists)
            {
                e = PrepareCreate(newPath, out opaque);
                if (e != Errno.None)
                {
                    return e;
                }
            }

            e = Upper.Rename(oldPath, newPath, flags & ~(RenameNoReplace | RenameWhiteout));
            if (e != Errno.None)
            {
                return e;
            }

            if (opaque && source.Stat.IsDirectory && !UpperExists(Combine(newPath, OpaqueMarker)))
            {
                Upper.Open(Combine(newPath, OpaqueMarker), OpenFlags.WriteOnly | OpenFlags.Create | OpenFlags.NoFollow, 0x1A4, null, out var marker);
                marker?.Release();
            }

            return source.HasLower ? MakeWhiteout(oldPath) : Errno.None;
        }
    }

    public Errno Symlink(string target, string linkPath) => CreateNew(linkPath, () => Upper.Symlink(target, linkPath));

    /// <summary>O_TMPFILE (ovl_tmpfile): the unnamed file is made in the upper layer's copy of the directory.</summary>
    public Errno OpenTmpFile(string directory, int flags, uint mode, out OpenFile? file)
    {
        file = null;
        lock (_sync)
        {
            var e = LookupExisting(directory, out var node);
            if (e != Errno.None)
            {
                return e;
            }

            e = node.Stat.IsDirectory ? CopyUpDirectory(directory) : Errno.ENOTDIR;
            if (e != Errno.None)
            {
                return e;
            }
        }

        return Upper.OpenTmpFile(directory, flags, mode, out file);
    }

    /// <summary>Names an O_TMPFILE file, which lives in the upper layer, where new names go.</summary>
    public Errno LinkFile(OpenFile file, string newPath) => CreateNew(newPath, () => Upper.LinkFile(file, newPath));

    public Errno Link(string oldPath, string newPath)
    {
        lock (_sync)
        {
            var e = LookupExisting(oldPath, out var source);
            if (e != Errno.None)
            {
                return e;
            }

            if (source.Stat.IsDirectory)
            {
                return Errno.EPERM;
            }

            e = Lookup(newPath, out var target);
            if (e != Errno.None)
            {
                return e;
            }

            if (target.Exists)
            {
                return Errno.EEXIST;
            }

            e = CopyUpExisting(oldPath, out _);
            if (e == Errno.None)
            {
                e = PrepareCreate(newPath, out _);
            }

            return e != Errno.None ? e : Upper.Link(oldPath, newPath);
        }
    }

    public Errno Chmod(string path, uint mode)
    {
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            if (e != Errno.None)
            {
                return e;
            }

            if ((node.Stat.Mode & InodeMode.TypeMask) == InodeMode.Symlink)
            {
                return Errno.EOPNOTSUPP;
            }

            e = CopyUpExisting(path, out _);
            return e != Errno.None ? e : Upper.Chmod(path, mode);
        }
    }

    public Errno Chown(string path, int uid, int gid)
    {
        lock (_sync)
        {
            var e = CopyUpExisting(path, out _);
            return e != Errno.None ? e : Upper.Chown(path, uid, gid);
        }
    }

    public Errno Utimens(string path, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify)
    {
        lock (_sync)
        {
            var e = CopyUpExisting(path, out _);
            return e != Errno.None ? e : Upper.Utimens(path, access, modify);
        }
    }

    // fchmod(2), fchown(2), futimens(3): a file open on the upper layer changes its inode
    // itself; one still open on the lower layer goes by its path (null), which copies it up.
    // That open file itself stays on the lower inode (fstat(2) through it does not see the change).

    public Errno? Chmod(OpenFile file, uint mode) => IsLower(file) ? null : file.Chmod(mode);

    public Errno? Chown(OpenFile file, int uid, int gid) => IsLower(file) ? null : file.Chown(uid, gid);

    public Errno? Utimens(OpenFile file, (long Seconds, long Nanos) access, (long Seconds, long Nanos) modify) =>
        IsLower(file) ? null : file.Utimens(access, modify);

    private bool IsLower(OpenFile file) => _lowerFiles.TryGetValue(file, out _);

    /// <summary>fstatfs(2): the overlay's, whichever layer the file is open on.</summary>
    public Errno? StatFs(OpenFile file, out StatFsInfo info) => StatFs("/", out info);

    public Errno Truncate(string path, long length)
    {
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            if (e != Errno.None)
            {
                return e;
            }

            if (node.Stat.IsDirectory)
            {
                return Errno.EISDIR;
            }

            e = CopyUpExisting(path, out _);
            return e != Errno.None ? e : Upper.Truncate(path, length);
        }
    }

    public Errno GetXattr(string path, string name, out byte[] value)
    {
        value = Array.Empty<byte>();
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            return e != Errno.None ? e : (node.Layer == Layer.Upper ? Upper : Lower).GetXattr(path, name, out value);
        }
    }

    public Errno ListXattr(string path, out List<string> names)
    {
        names = new List<string>();
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            return e != Errno.None ? e : (node.Layer == Layer.Upper ? Upper : Lower).ListXattr(path, out names);
        }
    }

    /// <summary>setxattr(2) copies the file up first, as every change does.</summary>
    public Errno SetXattr(string path, string name, byte[] value, int flags)
    {
        lock (_sync)
        {
            var e = CopyUpExisting(path, out _);
            return e != Errno.None ? e : Upper.SetXattr(path, name, value, flags);
        }
    }

    public Errno RemoveXattr(string path, string name)
    {
        lock (_sync)
        {
            var e = CopyUpExisting(path, out _);
            return e != Errno.None ? e : Upper.RemoveXattr(path, name);
        }
    }

    /// <summary>Snapshot of a merged directory's entries for <see cref="OverlayDirectory"/>.</summary>
    internal Errno ListForOpen(string path, List<(string Name, ulong Inode, byte Type)> entries)
    {
        lock (_sync)
        {
            var e = LookupExisting(path, out var node);
            return e != Errno.None ? e : List(path, node, entries);
        }
    }
}
