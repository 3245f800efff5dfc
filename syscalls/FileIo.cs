using System.Buffers;
using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>read(2), write(2), readv/writev(2), pread64/pwrite64(2), lseek(2).</summary>
internal static unsafe class FileIo
{
    /// <summary>Linux caps a single read or write at 0x7ffff000 bytes (read(2) NOTES).</summary>
    private const long MaxIo = 0x7FFFF000;

    private const int ChunkSize = 64 * 1024;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Read, &Read, Arg.Fd, Arg.OutBuf, Arg.Int);
        t.Add(Nr.Write, &Write, Arg.Fd, Arg.Buf, Arg.Int);
        t.Add(Nr.Pread64, &Pread64, Arg.Fd, Arg.OutBuf, Arg.Int, Arg.Int);
        t.Add(Nr.Pwrite64, &Pwrite64, Arg.Fd, Arg.Buf, Arg.Int, Arg.Int);
        t.Add(Nr.Readv, &Readv, Arg.Fd, Arg.Ptr, Arg.Int);
        t.Add(Nr.Writev, &Writev, Arg.Fd, Arg.Ptr, Arg.Int);
        t.Add(Nr.Lseek, &Lseek, Arg.Fd, Arg.Int, Arg.Int);
        t.Add(Nr.Sendfile, &Sendfile, Arg.Fd, Arg.Fd, Arg.Ptr, Arg.Int);
        t.Add(Nr.CopyFileRange, &CopyFileRange, Arg.Fd, Arg.Ptr, Arg.Fd, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Fadvise64, &Fadvise64, Arg.Fd, Arg.Int, Arg.Int, Arg.Int);
        t.Add(Nr.Fallocate, &Fallocate, Arg.Fd, Arg.Hex, Arg.Int, Arg.Int);
    }

    /// <summary>posix_fadvise(2): advice only; pipes are ESPIPE, unknown advice EINVAL.</summary>
    private static long Fadvise64(Task t, in SyscallArgs a)
    {
        const int MaxAdvice = 5;
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        if ((int)a.A3 is < 0 or > MaxAdvice || (long)a.A2 < 0)
        {
            return Errors.EINVAL;
        }

        return file.Stat(out var st) == Errno.None && (st.Mode & InodeMode.TypeMask) == InodeMode.Fifo ? Errors.Fail(Errno.ESPIPE) : 0;
    }

    /// <summary>
    /// fallocate(2), in vfs_fallocate()'s order of checks: mode 0 grows the file to
    /// offset + len (data kept), FALLOC_FL_KEEP_SIZE changes nothing visible, other modes are
    /// EOPNOTSUPP.
    /// </summary>
    private static long Fallocate(Task t, in SyscallArgs a)
    {
        const int KeepSize = 1;
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        var mode = (int)a.A1;
        var offset = (long)a.A2;
        var length = (long)a.A3;
        if (offset < 0 || length <= 0)
        {
            return Errors.EINVAL;
        }

        if ((mode & ~KeepSize) != 0)
        {
            return Errors.Fail(Errno.EOPNOTSUPP);
        }

        if (!file.CanWrite || (file.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        if (file.Stat(out var st) != Errno.None)
        {
            return Errors.EBADF;
        }

        switch (st.Mode & InodeMode.TypeMask)
        {
            case InodeMode.Fifo:
                return Errors.Fail(Errno.ESPIPE);
            case InodeMode.Directory:
                return Errors.Fail(Errno.EISDIR);
            case InodeMode.Regular:
                break;
            default:
                return Errors.Fail(Errno.ENODEV);
        }

        var end = offset + length;
        if (end < 0)
        {
            return Errors.Fail(Errno.EFBIG);
        }

        return (mode & KeepSize) == 0 && end > st.Size ? Math.Min(file.Truncate(end), 0) : 0;
    }

    /// <summary>sendfile(2): copies from a file (at *offset, or its position) to any writable fd.</summary>
    private static long Sendfile(Task t, in SyscallArgs a) => Transfer(t, (int)a.A1, a.A2, (int)a.A0, 0, (long)a.A3);

    /// <summary>copy_file_range(2): between two regular files, each at *offset or its position.</summary>
    private static long CopyFileRange(Task t, in SyscallArgs a)
    {
        if (a.A5 != 0)
        {
            return Errors.EINVAL;
        }

        return Transfer(t, (int)a.A0, a.A1, (int)a.A2, a.A3, (long)a.A4);
    }

    /// <summary>
    /// Moves up to <paramref name="count"/> bytes between two open files through a kernel
    /// buffer. An offset pointer, when given, is used and updated instead of the file position.
    /// </summary>
    private static long Transfer(Task t, int inFd, ulong inOffsetAddress, int outFd, ulong outOffsetAddress, long count)
    {
        var input = t.Group.Fds.Get(inFd);
        var output = t.Group.Fds.Get(outFd);
        if (input is null || output is null || !input.CanRead || !output.CanWrite)
        {
            return Errors.EBADF;
        }

        if (count < 0)
        {
            return Errors.EINVAL;
        }

        Span<byte> word = stackalloc byte[8];
        long? inOffset = null, outOffset = null;
        if (inOffsetAddress != 0)
        {
            if (!t.CopyIn(inOffsetAddress, word))
            {
                return Errors.EFAULT;
            }

            inOffset = BinaryPrimitives.ReadInt64LittleEndian(word);
        }

        if (outOffsetAddress != 0)
        {
            if (!t.CopyIn(outOffsetAddress, word))
            {
                return Errors.EFAULT;
            }

            outOffset = BinaryPrimitives.ReadInt64LittleEndian(word);
        }

        if (inOffset < 0 || outOffset < 0)
        {
            return Errors.EINVAL;
        }

        count = Math.Min(count, MaxIo);
        var chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(count, 1), ChunkSize));
        long done = 0;
        try
        {
            while (done < count)
            {
                var span = chunk.AsSpan(0, (int)Math.Min(count - done, chunk.Length));
                var n = inOffset is { } io ? input.ReadAt(span, io + done) : input.Read(t, span);
                if (n <= 0)
                {
                    if (n < 0 && done == 0)
                    {
                        return n;
                    }

                    break;
                }

                var data = span[..(int)n];
                var w = outOffset is { } oo ? output.WriteAt(data, oo + done) : output.Write(t, data);
                if (w < 0)
                {
                    if (done == 0)
                    {
                        return w;
                    }

                    break;
                }

                done += w;
                if (w < n || n < span.Length)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        if (done > 0)
        {
            input.Fsnotify?.Accessed(input);
            output.Fsnotify?.Modified(output);
        }

        if (inOffset is { } finalIn)
        {
            BinaryPrimitives.WriteInt64LittleEndian(word, finalIn + done);
            if (!t.CopyOut(inOffsetAddress, word))
            {
                return Errors.EFAULT;
            }
        }

        if (outOffset is { } finalOut)
        {
            BinaryPrimitives.WriteInt64LittleEndian(word, finalOut + done);
            if (!t.CopyOut(outOffsetAddress, word))
            {
                return Errors.EFAULT;
            }
        }

        return done;
    }

    private static long Read(Task t, in SyscallArgs a) => ReadInto(t, (int)a.A0, a.A1, (long)a.A2, -1);

    private static long Pread64(Task t, in SyscallArgs a) =>
        (long)a.A3 < 0 ? Errors.EINVAL : ReadInto(t, (int)a.A0, a.A1, (long)a.A2, (long)a.A3);

    private static long Write(Task t, in SyscallArgs a) => WriteFrom(t, (int)a.A0, a.A1, (long)a.A2, -1);

    private static long Pwrite64(Task t, in SyscallArgs a) =>
        (long)a.A3 < 0 ? Errors.EINVAL : WriteFrom(t, (int)a.A0, a.A1, (long)a.A2, (long)a.A3);

    /// <summary>Reads into guest memory in chunks; <paramref name="offset"/> -1 means the file position.</summary>
    private static long ReadInto(Task t, int fd, ulong buffer, long count, long offset)
    {
        var file = t.Group.Fds.Get(fd);
        if (file is null || !file.CanRead)
        {
            return Errors.EBADF;
        }

        if (count < 0)
        {
            return Errors.EINVAL;
        }

        count = Math.Min(count, MaxIo);

        // Stores through MAP_SHARED mappings of the file reach it before it is read.
        t.Kernel.PageCache.Lookup(file)?.WriteBack(null);
        var chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(count, ChunkSize));
        try
        {
            long done = 0;
            while (done < count)
            {
                var want = (int)Math.Min(count - done, chunk.Length);
                var span = chunk.AsSpan(0, want);
                var n = offset < 0 ? file.Read(t, span) : file.ReadAt(span, offset + done);
                if (n < 0)
                {
                    return done > 0 ? done : n;
                }

                if (n > 0 && !t.CopyOut(buffer + (ulong)done, span[..(int)n]))
                {
                    return done > 0 ? done : Errors.EFAULT;
                }

                done += n;

                // A short read (a pipe, a terminal, end of file) ends the call, as on Linux.
                if (n < want)
                {
                    break;
                }
            }

            if (done > 0)
            {
                file.Fsnotify?.Accessed(file);
            }

            return done;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private static long WriteFrom(Task t, int fd, ulong buffer, long count, long offset)
    {
        var file = t.Group.Fds.Get(fd);
        if (file is null || !file.CanWrite)
        {
            return Errors.EBADF;
        }

        if (count < 0)
        {
            return Errors.EINVAL;
        }

        count = Math.Min(count, MaxIo);

        // MAP_SHARED mappings of the file and write(2) stay coherent: mapped stores go first, then the mappings see the new data.
        var cached = t.Kernel.PageCache.Lookup(file);
        cached?.WriteBack(null);
        var chunk = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(count, 1), ChunkSize));
        try
        {
            long done = 0;
            do
            {
                var want = (int)Math.Min(count - done, chunk.Length);
                var span = chunk.AsSpan(0, want);
                if (!t.CopyIn(buffer + (ulong)done, span))
                {
                    return done > 0 ? done : Errors.EFAULT;
                }

                var n = offset < 0 ? file.Write(t, span) : file.WriteAt(span, offset + done);
                if (n < 0)
                {
                    return done > 0 ? done : n;
                }

                done += n;
                if (n < want)
                {
                    break;
                }
            }
            while (done < count);

            if (cached is not null)
            {
                // write(2) (O_APPEND too) put the data just before the new position.
                var at = offset >= 0 ? offset : file.Seek(0, 1) - done;
                cached.Refresh(at >= 0 ? at : 0, at >= 0 ? done : long.MaxValue / 2);
            }

            if (done > 0)
            {
                file.Fsnotify?.Modified(file);
            }

            return done;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private const int IovMax = 1024;

    /// <summary>Reads the iovec array; null when it is unreadable.</summary>
    private static (ulong Base, long Length)[]? ReadIovecs(Task t, ulong address, int count)
    {
        var raw = new byte[count * 16];
        if (!t.CopyIn(address, raw))
        {
            return null;
        }

        var iov = new (ulong, long)[count];
        for (var i = 0; i < count; i++)
        {
            iov[i] = (BinaryPrimitives.ReadUInt64LittleEndian(raw.AsSpan(i * 16)), BinaryPrimitives.ReadInt64LittleEndian(raw.AsSpan((i * 16) + 8)));
        }

        return iov;
    }

    private static long Readv(Task t, in SyscallArgs a) => Vectored(t, (int)a.A0, a.A1, (int)a.A2, read: true);

    private static long Writev(Task t, in SyscallArgs a) => Vectored(t, (int)a.A0, a.A1, (int)a.A2, read: false);

    private static long Vectored(Task t, int fd, ulong iovAddress, int count, bool read)
    {
        if (count < 0 || count > IovMax)
        {
            return Errors.EINVAL;
        }

        if (t.Group.Fds.Get(fd) is null)
        {
            return Errors.EBADF;
        }

        var iov = ReadIovecs(t, iovAddress, count);
        if (iov is null)
        {
            return Errors.EFAULT;
        }

        long total = 0;
        foreach (var (b, len) in iov)
        {
            if (len < 0)
            {
                return Errors.EINVAL;
            }

            if (len == 0)
            {
                continue;
            }

            var n = read ? ReadInto(t, fd, b, len, -1) : WriteFrom(t, fd, b, len, -1);
            if (n < 0)
            {
                return total > 0 ? total : n;
            }

            total += n;
            if (n < len)
            {
                break;
            }
        }

        return total;
    }

    private static long Lseek(Task t, in SyscallArgs a)
    {
        var file = t.Group.Fds.Get((int)a.A0);
        if (file is null)
        {
            return Errors.EBADF;
        }

        return file.Seek((long)a.A1, (int)a.A2);
    }
}
