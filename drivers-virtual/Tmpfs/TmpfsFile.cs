using System.Buffers.Binary;
using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Tmpfs;

/// <summary>An open tmpfs file or directory (or an O_PATH handle on anything).</summary>
internal sealed class TmpfsFile : OpenFile
{
    private const int SeekSet = 0, SeekCur = 1, SeekEnd = 2, SeekData = 3, SeekHole = 4;

    private readonly Tmpfs _fs;
    private readonly TmpInode _inode;

    public TmpfsFile(Tmpfs fs, TmpInode inode, string path, int flags)
        : base(path, flags)
    {
        _fs = fs;
        _inode = inode;
    }

    /// <summary>The filesystem the file is on.</summary>
    public Tmpfs FileSystem => _fs;

    /// <summary>The inode it is open on.</summary>
    public TmpInode Inode => _inode;

    public override Errno Stat(out StatInfo stat)
    {
        lock (_fs.SyncRoot)
        {
            stat = _inode.Stat(_fs.Device);
            return Errno.None;
        }
    }

    private bool IsPath => (Flags & OpenFlags.Path) != 0;

    public override Errno GetXattr(string name, out byte[] value)
    {
        lock (_fs.SyncRoot)
        {
            return TmpfsXattrs.Get(_inode, name, out value);
        }
    }

    public override Errno SetXattr(string name, byte[] value, int flags)
    {
        lock (_fs.SyncRoot)
        {
            return TmpfsXattrs.Set(_inode, name, value, flags);
        }
    }

    public override Errno RemoveXattr(string name)
    {
        lock (_fs.SyncRoot)
        {
            return TmpfsXattrs.Remove(_inode, name);
        }
    }

    public override Errno ListXattr(out List<string> names)
    {
        lock (_fs.SyncRoot)
        {
            return TmpfsXattrs.List(_inode, out names);
        }
    }

    public override Errno? Chmod(uint mode)
    {
        lock (_fs.SyncRoot)
        {
            return Tmpfs.Chmod(_inode, mode);
        }
    }

    public override Errno? Chown(int uid, int gid)
    {
        lock (_fs.SyncRoot)
        {
            return Tmpfs.Chown(_inode, uid, gid);
        }
    }

    public override Errno? Utimens((long Seconds, long Nanos) access, (long Seconds, long Nanos) modify)
    {
        lock (_fs.SyncRoot)
        {
            return Tmpfs.Utimens(_inode, access, modify);
        }
    }

    /// <summary>fstatfs(2): tmpfs answers the same for every file.</summary>
    public override Errno? StatFs(out StatFsInfo info) => _fs.StatFs("/", out info);

    public override long Read(Task task, Span<byte> buffer)
    {
        lock (_fs.SyncRoot)
        {
            var n = ReadAtLocked(buffer, Position);
            if (n > 0)
            {
                Position += n;
            }

            return n;
        }
    }

    public override long ReadAt(Span<byte> buffer, long offset)
    {
        lock (_fs.SyncRoot)
        {
            return ReadAtLocked(buffer, offset);
        }
    }

    private long ReadAtLocked(Span<byte> buffer, long offset)
    {
        if (IsPath || !CanRead)
        {
            return -(long)Errno.EBADF;
        }

        if (_inode is TmpDirectory)
        {
            return -(long)Errno.EISDIR;
        }

        if (_inode is not TmpFile file)
        {
            return -(long)Errno.EINVAL;
        }

        if (offset < 0)
        {
            return -(long)Errno.EINVAL;
        }

        if (offset >= file.Length)
        {
            return 0;
        }

        var n = (int)Math.Min(buffer.Length, file.Length - offset);
        file.Data.AsSpan((int)offset, n).CopyTo(buffer);
        if ((Flags & OpenFlags.NoAtime) == 0)
        {
            file.Access = TmpInode.Now();
        }

        return n;
    }

    public override long Write(Task task, ReadOnlySpan<byte> data)
    {
        lock (_fs.SyncRoot)
        {
            var offset = (Flags & OpenFlags.Append) != 0 && _inode is TmpFile f ? f.Length : Position;
            var n = WriteAtLocked(data, offset);
            if (n >= 0)
            {
                Position = offset + n;
            }

            return n;
        }
    }

    public override long WriteAt(ReadOnlySpan<byte> data, long offset)
    {
        lock (_fs.SyncRoot)
        {
            // pwrite on an O_APPEND file appends, as Linux does.
            if ((Flags & OpenFlags.Append) != 0 && _inode is TmpFile f)
            {
                offset = f.Length;
            }

            return WriteAtLocked(data, offset);
        }
    }

    private long WriteAtLocked(ReadOnlySpan<byte> data, long offset)
    {
        if (IsPath || !CanWrite)
        {
            return -(long)Errno.EBADF;
        }

        if (_inode is not TmpFile file)
        {
            return -(long)Errno.EINVAL;
        }

        if (offset < 0)
        {
            return -(long)Errno.EINVAL;
        }

        if (data.IsEmpty)
        {
            return 0;
        }

        var n = (int)Math.Min(data.Length, _fs.Room(file, offset));
        if (n == 0)
        {
            return -(long)Errno.ENOSPC;
        }

        var end = offset + n;
        if (end > file.Length)
        {
            var e = _fs.Resize(file, end);
            if (e != Errno.None)
            {
                return -(long)e;
            }
        }

        data[..n].CopyTo(file.Data.AsSpan((int)offset));
        file.Touch();
        // Writing clears set-user-ID and set-group-ID-with-group-execute (file_remove_privs) for non-root... root keeps them.
        return n;
    }

    public override long Seek(long offset, int whence)
    {
        lock (_fs.SyncRoot)
        {
            if (IsPath)
            {
                return -(long)Errno.EBADF;
            }

            long size = _inode is TmpFile f ? f.Length : 0;
            long target;
            switch (whence)
            {
                case SeekSet:
                    target = offset;
                    break;
                case SeekCur:
                    target = Position + offset;
                    break;
                case SeekEnd:
                    target = size + offset;
                    break;
                case SeekData when _inode is TmpFile:
                    if (offset < 0 || offset >= size)
                    {
                        return -(long)Errno.ENXIO;
                    }

                    target = offset;
                    break;
                case SeekHole when _inode is TmpFile:
                    if (offset < 0 || offset >= size)
                    {
                        return -(long)Errno.ENXIO;
                    }

                    target = size;
                    break;
                default:
                    return -(long)Errno.EINVAL;
            }

            if (target < 0)
            {
                return -(long)Errno.EINVAL;
            }

            Position = target;
            return target;
        }
    }

    public override long Truncate(long length)
    {
        lock (_fs.SyncRoot)
        {
            if (_inode is not TmpFile file || !CanWrite || IsPath)
            {
                return -(long)Errno.EINVAL;
            }

            return -(long)_fs.Resize(file, length);
        }
    }

    /// <summary>
    /// linux_dirent64 records from the position: 0 is ".", 1 is "..", then each entry by its
    /// cookie; d_off is the position after the record.
    /// </summary>
    public override long GetDents64(Span<byte> buffer)
    {
        lock (_fs.SyncRoot)
        {
            if (IsPath)
            {
                return -(long)Errno.EBADF;
            }

            if (_inode is not TmpDirectory dir)
            {
                return -(long)Errno.ENOTDIR;
            }

            if (dir.Links == 0)
            {
                return 0;
            }

            var written = 0;
            bool Put(ulong ino, long next, byte type, string name, Span<byte> b)
            {
                var nameBytes = Encoding.UTF8.GetByteCount(name);
                var reclen = (19 + nameBytes + 1 + 7) & ~7;
                if (written + reclen > b.Length)
                {
                    return false;
                }

                var r = b.Slice(written, reclen);
                r.Clear();
                BinaryPrimitives.WriteUInt64LittleEndian(r, ino);
                BinaryPrimitives.WriteInt64LittleEndian(r[8..], next);
                BinaryPrimitives.WriteUInt16LittleEndian(r[16..], (ushort)reclen);
                r[18] = type;
                Encoding.UTF8.GetBytes(name, r[19..]);
                written += reclen;
                return true;
            }

            if (Position == 0)
            {
                if (!Put(dir.Ino, 1, 4, ".", buffer))
                {
                    return -(long)Errno.EINVAL;
                }

                Position = 1;
            }

            if (Position == 1)
            {
                if (!Put(dir.Parent.Ino, TmpDirectory.FirstCookie, 4, "..", buffer))
                {
                    return written > 0 ? written : -(long)Errno.EINVAL;
                }

                Position = TmpDirectory.FirstCookie;
            }

            foreach (var (cookie, name) in dir.Order)
            {
                if (cookie < Position)
                {
                    continue;
                }

                var inode = dir.Entries[name].Inode;
                if (!Put(inode.Ino, cookie + 1, inode.DirentType, name, buffer))
                {
                    return written > 0 ? written : -(long)Errno.EINVAL;
                }

                Position = cookie + 1;
            }

            if (written > 0 || true)
            {
                dir.Access = TmpInode.Now();
            }

            return written;
        }
    }
}
