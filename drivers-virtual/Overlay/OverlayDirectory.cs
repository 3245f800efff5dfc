using System.Buffers.Binary;
using System.Text;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Drivers.Overlay;

/// <summary>
/// An open overlay directory: fstat and the like go to the directory of the top layer; the
/// listing is the merged one, read when the position is 0 (at open and after a rewind), with
/// d_off being the index of the next entry, so offsets stay valid across calls.
/// </summary>
internal sealed class OverlayDirectory : OpenFile
{
    private const byte DtDir = 4;

    private readonly OverlayFileSystem _fs;
    private readonly string _fsPath;
    private readonly OpenFile _inner;
    private List<(string Name, ulong Inode, byte Type)>? _entries;

    public OverlayDirectory(OverlayFileSystem fs, string path, int flags, OpenFile inner)
        : base(path, flags)
    {
        _fs = fs;
        _fsPath = path;
        _inner = inner;
    }

    public override Errno Stat(out StatInfo stat) => _inner.Stat(out stat);

    public override long Read(Task task, Span<byte> buffer) => -(long)Errno.EISDIR;

    public override long ReadAt(Span<byte> buffer, long offset) => -(long)Errno.EISDIR;

    public override long Sync() => _inner.Sync();

    public override long Seek(long offset, int whence)
    {
        switch (whence)
        {
            case 0 when offset >= 0:
                Position = offset;
                break;
            case 1 when Position + offset >= 0:
                Position += offset;
                break;
            default:
                return -(long)Errno.EINVAL;
        }

        if (Position == 0)
        {
            _entries = null;
        }

        return Position;
    }

    public override long GetDents64(Span<byte> buffer)
    {
        if ((Flags & OpenFlags.Path) != 0)
        {
            return -(long)Errno.EBADF;
        }

        if (_entries is null || Position == 0)
        {
            var list = new List<(string Name, ulong Inode, byte Type)>();
            _inner.Stat(out var self);
            var parent = _fsPath == "/" ? "/" : _fsPath[..Math.Max(1, _fsPath.LastIndexOf('/'))];
            var parentInode = _fs.Stat(parent, null, out var up) == Errno.None ? up.Inode : self.Inode;
            list.Add((".", self.Inode, DtDir));
            list.Add(("..", parentInode, DtDir));
            var e = _fs.ListForOpen(_fsPath, list);
            if (e != Errno.None)
            {
                // A directory removed while open lists nothing, as on Linux.
                list.Clear();
            }

            _entries = list;
        }

        var written = 0;
        while (Position < _entries.Count)
        {
            var (name, ino, type) = _entries[(int)Position];
            var nameBytes = Encoding.UTF8.GetByteCount(name);
            var reclen = (19 + nameBytes + 1 + 7) & ~7;
            if (written + reclen > buffer.Length)
            {
                if (written == 0)
                {
                    return -(long)Errno.EINVAL;
                }

                break;
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

    protected override void Close() => _inner.Release();
}
