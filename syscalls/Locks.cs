using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>
/// Advisory locks: flock(2), and fcntl(2)'s POSIX record locks (F_GETLK, F_SETLK, F_SETLKW)
/// and open file description locks (F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW), kept in the
/// kernel's <see cref="FileLocks"/> table. Only the box's own processes take part: locks
/// held by host processes are not seen.
/// </summary>
internal static unsafe class Locks
{
    public const int FGetLk = 5, FSetLk = 6, FSetLkW = 7, FOfdGetLk = 36, FOfdSetLk = 37, FOfdSetLkW = 38;

    private const int LockSh = 1, LockEx = 2, LockNb = 4, LockUn = 8;
    private const int FlockSize = 32;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Flock, &Flock, Arg.Fd, Arg.Hex);
    }

    private static long Flock(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null || (file.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        var op = (int)a.A1;
        short type = (op & ~LockNb) switch
        {
            LockSh => FileLocks.ReadLock,
            LockEx => FileLocks.WriteLock,
            LockUn => FileLocks.Unlock,
            _ => -1,
        };
        if (type < 0)
        {
            return Errors.EINVAL;
        }

        return t.Kernel.FileLocks.Flock(t, file, type, wait: (op & LockNb) == 0);
    }

    /// <summary>The fcntl lock commands; <paramref name="address"/> points at a struct flock.</summary>
    public static long Record(Task t, OpenFile file, int cmd, ulong address)
    {
        var ofd = cmd is FOfdGetLk or FOfdSetLk or FOfdSetLkW;
        Span<byte> flock = stackalloc byte[FlockSize];
        if (!t.CopyIn(address, flock))
        {
            return Errors.EFAULT;
        }

        var type = BinaryPrimitives.ReadInt16LittleEndian(flock);
        var whence = BinaryPrimitives.ReadInt16LittleEndian(flock[2..]);
        var start = BinaryPrimitives.ReadInt64LittleEndian(flock[8..]);
        var length = BinaryPrimitives.ReadInt64LittleEndian(flock[16..]);
        var pid = BinaryPrimitives.ReadInt32LittleEndian(flock[24..]);
        if (ofd && pid != 0)
        {
            return Errors.EINVAL;
        }

        if (cmd is FGetLk or FOfdGetLk)
        {
            if (type is not (FileLocks.ReadLock or FileLocks.WriteLock))
            {
                return Errors.EINVAL;
            }
        }
        else if (type is not (FileLocks.ReadLock or FileLocks.WriteLock or FileLocks.Unlock))
        {
            return Errors.EINVAL;
        }

        // flock_to_posix_lock(): the range is [first, last], last = OFFSET_MAX for l_len 0.
        long origin;
        switch (whence)
        {
            case 0:
                origin = 0;
                break;
            case 1:
                origin = file.Seek(0, 1);
                if (origin < 0)
                {
                    origin = file.Position;
                }

                break;
            case 2:
                origin = file.Stat(out var st) == Errno.None ? st.Size : 0;
                break;
            default:
                return Errors.EINVAL;
        }

        if (start > FileLocks.ToEnd - origin)
        {
            return Errors.Fail(Errno.EOVERFLOW);
        }

        var first = origin + start;
        if (first < 0)
        {
            return Errors.EINVAL;
        }

        long last;
        if (length > 0)
        {
            if (length - 1 > FileLocks.ToEnd - first)
            {
                return Errors.Fail(Errno.EOVERFLOW);
            }

            last = first + (length - 1);
        }
        else if (length < 0)
        {
            if (first + length < 0)
            {
                return Errors.EINVAL;
            }

            last = first - 1;
            first += length;
        }
        else
        {
            last = FileLocks.ToEnd;
        }

        if (cmd is FGetLk or FOfdGetLk)
        {
            var conflict = t.Kernel.FileLocks.Test(t, file, ofd, type, first, last);
            if (conflict is not { } c)
            {
                BinaryPrimitives.WriteInt16LittleEndian(flock, FileLocks.Unlock);
                return t.CopyOut(address, flock[..2]) ? 0 : Errors.EFAULT;
            }

            BinaryPrimitives.WriteInt16LittleEndian(flock, c.Type);
            BinaryPrimitives.WriteInt16LittleEndian(flock[2..], 0);
            BinaryPrimitives.WriteInt64LittleEndian(flock[8..], c.Start);
            BinaryPrimitives.WriteInt64LittleEndian(flock[16..], c.End == FileLocks.ToEnd ? 0 : c.End - c.Start + 1);
            BinaryPrimitives.WriteInt32LittleEndian(flock[24..], c.Pid);
            return t.CopyOut(address, flock[..28]) ? 0 : Errors.EFAULT;
        }

        // A read lock needs the file open for reading, a write lock for writing.
        if ((type == FileLocks.ReadLock && !file.CanRead) || (type == FileLocks.WriteLock && !file.CanWrite))
        {
            return Errors.EBADF;
        }

        return t.Kernel.FileLocks.SetRecord(t, file, ofd, type, first, last, wait: cmd is FSetLkW or FOfdSetLkW);
    }
}
