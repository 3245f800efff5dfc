using System.Buffers;
using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>read(2), write(2), readv/writev(2), pread64/pwrite64(2), preadv/pwritev(2), lseek(2).</summary>
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
        t.Add(Nr.Preadv, &Preadv, Arg.Fd, Arg.Ptr, Arg.Int, Arg.Int, Arg.Int);
        t.Add(Nr.Pwritev, &Pwritev, Arg.Fd, Arg.Ptr, Arg.Int, Arg.Int, Arg.Int);
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

                // A stream gave what it had; reading it again would wait (as in ReadInto).
                if (w < n || n < span.Length || input.IsStream)
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

    private static long Read(Task t, in SyscallArgs a) => ReadOrWrite(t, (int)a.A0, a.A1, (long)a.A2, -1, read: true);

    private static long Pread64(Task t, in SyscallArgs a) =>
        (long)a.A3 < 0 ? Errors.EINVAL : ReadOrWrite(t, (int)a.A0, a.A1, (long)a.A2, (long)a.A3, read: true);

    private static long Write(Task t, in SyscallArgs a) => ReadOrWrite(t, (int)a.A0, a.A1, (long)a.A2, -1, read: false);

    private static long Pwrite64(Task t, in SyscallArgs a) =>
        (long)a.A3 < 0 ? Errors.EINVAL : ReadOrWrite(t, (int)a.A0, a.A1, (long)a.A2, (long)a.A3, read: false);

    /// <summary>read(2), write(2) and their p- forms: one guest buffer; <paramref name="offset"/> -1 means the file position.</summary>
    private static long ReadOrWrite(Task t, int fd, ulong buffer, long count, long offset, bool read)
    {
        if (OpenFor(t, fd, read) is not { } file)
        {
            return Errors.EBADF;
        }

        if (count < 0)
        {
            return Errors.EINVAL;
        }

        var iov = (buffer, count);
        var one = new ReadOnlySpan<(ulong Base, long Length)>(in iov);
        return read ? ReadInto(t, file, one, count, offset) : WriteFrom(t, file, one, count, offset);
    }

    /// <summary>The open file behind <paramref name="fd"/> if its access mode allows reading (or writing) it.</summary>
    private static OpenFile? OpenFor(Task t, int fd, bool read) =>
        t.Group.Fds.Get(fd) is { } file && (read ? file.CanRead : file.CanWrite) ? file : null;

    /// <summary>
    /// Reads up to <paramref name="count"/> bytes into the guest buffers <paramref name="iov"/>,
    /// in chunks; <paramref name="offset"/> -1 means the file position.
    /// </summary>
    private static long ReadInto(Task t, OpenFile file, ReadOnlySpan<(ulong Base, long Length)> iov, long count, long offset)
    {
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

                if (n > 0 && !CopyGuest(t, iov, done, span[..(int)n], toGuest: true))
                {
                    return done > 0 ? done : Errors.EFAULT;
                }

                done += n;

                // A short read (end of file, a terminal line) ends the call, as on Linux; so does
                // any read of a stream, which would wait for more (pipe_read returns what the pipe
                // holds, however much was asked for).
                if (n < want || file.IsStream)
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

    /// <summary>
    /// Writes <paramref name="count"/> bytes from the guest buffers <paramref name="iov"/>, in
    /// chunks: a write of up to PIPE_BUF bytes is one chunk, so a pipe takes it whole (pipe(7)).
    /// </summary>
    private static long WriteFrom(Task t, OpenFile file, ReadOnlySpan<(ulong Base, long Length)> iov, long count, long offset)
    {
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
                if (!CopyGuest(t, iov, done, span, toGuest: false))
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

    /// <summary>
    /// Copies <paramref name="data"/> to (or fills it from) the guest buffers
    /// <paramref name="iov"/>, taken as one, from <paramref name="at"/> bytes in; false on a fault.
    /// </summary>
    internal static bool CopyGuest(Task t, ReadOnlySpan<(ulong Base, long Length)> iov, long at, Span<byte> data, bool toGuest)
    {
        foreach (var (address, length) in iov)
        {
            if (data.IsEmpty)
            {
                break;
            }

            if (at >= length)
            {
                at -= length;
                continue;
            }

            var part = data[..(int)Math.Min(length - at, data.Length)];
            if (!(toGuest ? t.CopyOut(address + (ulong)at, part) : t.CopyIn(address + (ulong)at, part)))
            {
                return false;
            }

            data = data[part.Length..];
            at = 0;
        }

        return true;
    }

    internal const int IovMax = 1024;

    /// <summary>Reads the iovec array; null when it is unreadable.</summary>
    internal static (ulong Base, long Length)[]? ReadIovecs(Task t, ulong address, int count)
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

    private static long Readv(Task t, in SyscallArgs a) => Vectored(t, (int)a.A0, a.A1, (int)a.A2, -1, read: true);

    private static long Writev(Task t, in SyscallArgs a) => Vectored(t, (int)a.A0, a.A1, (int)a.A2, -1, read: false);

    /// <summary>preadv(2): on x86-64 pos_l is the whole offset (pos_from_hilo shifts pos_h out).</summary>
    private static long Preadv(Task t, in SyscallArgs a) =>
        (long)a.A3 < 0 ? Errors.EINVAL : Vectored(t, (int)a.A0, a.A1, (int)a.A2, (long)a.A3, read: true);

    private static long Pwritev(Task t, in SyscallArgs a) =>
        (long)a.A3 < 0 ? Errors.EINVAL : Vectored(t, (int)a.A0, a.A1, (int)a.A2, (long)a.A3, read: false);

    /// <summary>
    /// readv(2) and writev(2): one transfer over all the buffers, as Linux's iov_iter, so that a
    /// stream is read once and a writev of up to PIPE_BUF bytes in all is atomic on a pipe.
    /// </summary>
    private static long Vectored(Task t, int fd, ulong iovAddress, int count, long offset, bool read)
    {
        if (OpenFor(t, fd, read) is not { } file)
        {
            return Errors.EBADF;
        }

        if (count < 0 || count > IovMax)
        {
            return Errors.EINVAL;
        }

        var iov = ReadIovecs(t, iovAddress, count);
        if (iov is null)
        {
            return Errors.EFAULT;
        }

        // import_iovec: a negative length is EINVAL; the total is cut to MAX_RW_COUNT.
        long total = 0;
        foreach (var (_, len) in iov)
        {
            if (len < 0)
            {
                return Errors.EINVAL;
            }

            total += Math.Min(len, MaxIo - total);
        }

        // vfs_readv and vfs_writev stop at an empty total: no call reaches the file.
        if (total == 0)
        {
            return 0;
        }

        return read ? ReadInto(t, file, iov, total, offset) : WriteFrom(t, file, iov, total, offset);
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
