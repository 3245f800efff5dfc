using System.Buffers;
using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Ipc;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>splice(2) and tee(2): moving and duplicating pipe data without a user buffer.</summary>
internal static unsafe class Splice
{
    private const uint FlagNonBlock = 2;
    private const uint AllFlags = 0xF;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Splice, &DoSplice, Arg.Fd, Arg.Ptr, Arg.Fd, Arg.Ptr, Arg.Int, Arg.Hex);
        t.Add(Nr.Tee, &Tee, Arg.Fd, Arg.Fd, Arg.Int, Arg.Hex);
    }

    private static long DoSplice(Task t, in SyscallArgs a)
    {
        var len = a.A4;
        var flags = (uint)a.A5;
        if (len == 0)
        {
            return 0;
        }

        if ((flags & ~AllFlags) != 0)
        {
            return Errors.EINVAL;
        }

        var input = t.Group.Fds.Get((int)a.A0);
        var output = t.Group.Fds.Get((int)a.A2);
        if (input is null || output is null)
        {
            return Errors.EBADF;
        }

        var inPipe = (input as PipeEnd)?.Pipe;
        var outPipe = (output as PipeEnd)?.Pipe;
        var offInAddress = a.A1;
        var offOutAddress = a.A3;
        if ((inPipe is not null && offInAddress != 0) || (outPipe is not null && offOutAddress != 0))
        {
            return Errors.Fail(Errno.ESPIPE);
        }

        Span<byte> word = stackalloc byte[8];
        long? offOut = null, offIn = null;
        if (offOutAddress != 0)
        {
            if (!t.CopyIn(offOutAddress, word))
            {
                return Errors.EFAULT;
            }

            offOut = BinaryPrimitives.ReadInt64LittleEndian(word);
        }

        if (offInAddress != 0)
        {
            if (!t.CopyIn(offInAddress, word))
            {
                return Errors.EFAULT;
            }

            offIn = BinaryPrimitives.ReadInt64LittleEndian(word);
        }

        if (!input.CanRead || !output.CanWrite || (input.Flags & OpenFlags.Path) != 0 || (output.Flags & OpenFlags.Path) != 0)
        {
            return Errors.EBADF;
        }

        var count = (long)Math.Min(len, Pipe.DefaultCapacity);
        var nonBlocking = (flags & FlagNonBlock) != 0;
        if (inPipe is not null && outPipe is not null)
        {
            if (inPipe == outPipe)
            {
                return Errors.EINVAL;
            }

            nonBlocking |= ((input.Flags | output.Flags) & OpenFlags.NonBlock) != 0;
            return PipeToPipe(t, inPipe, outPipe, count, nonBlocking, consume: true);
        }

        if (inPipe is not null)
        {
            if ((output.Flags & OpenFlags.Append) != 0 || offOut < 0)
            {
                return Errors.EINVAL;
            }

            nonBlocking |= (input.Flags & OpenFlags.NonBlock) != 0;
            var avail = inPipe.WaitReadable(t, nonBlocking);
            if (avail <= 0)
            {
                return avail;
            }

            var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(count, avail));
            try
            {
                var span = buffer.AsSpan(0, (int)Math.Min(count, avail));
                var n = inPipe.Read(t, span, nonBlocking: true);
                if (n <= 0)
                {
                    return n;
                }

                var data = span[..(int)n];
                var w = offOut is { } o ? output.WriteAt(data, o) : output.Write(t, data);
                if (w > 0)
                {
                    output.Fsnotify?.Modified(output);
                }

                if (w > 0 && offOut is { } o2)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(word, o2 + w);
                    if (!t.CopyOut(offOutAddress, word))
                    {
                        return Errors.EFAULT;
                    }
                }

                return w;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (outPipe is not null)
        {
            if (offIn < 0)
            {
                return Errors.EINVAL;
            }

            nonBlocking |= (output.Flags & OpenFlags.NonBlock) != 0;
            var free = outPipe.WaitWritable(t, nonBlocking);
            if (free < 0)
            {
                return free;
            }

            var want = (int)Math.Min(count, free);
            var buffer = ArrayPool<byte>.Shared.Rent(want);
            try
            {
                var span = buffer.AsSpan(0, want);
                var n = offIn is { } o ? input.ReadAt(span, o) : input.Read(t, span);
                if (n <= 0)
                {
                    return n;
                }

                input.Fsnotify?.Accessed(input);
                var w = outPipe.Write(t, span[..(int)n], nonBlocking: false);
                if (w > 0 && offIn is { } o2)
                {
                    BinaryPrimitives.WriteInt64LittleEndian(word, o2 + w);
                    if (!t.CopyOut(offInAddress, word))
                    {
                        return Errors.EFAULT;
                    }
                }

                return w;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return Errors.EINVAL;
    }

    private static long Tee(Task t, in SyscallArgs a)
    {
        var flags = (uint)a.A3;
        if ((flags & ~AllFlags) != 0)
        {
            return Errors.EINVAL;
        }

        if (a.A2 == 0)
        {
            return 0;
        }

        var input = t.Group.Fds.Get((int)a.A0);
        var output = t.Group.Fds.Get((int)a.A1);
        if (input is null || output is null)
        {
            return Errors.EBADF;
        }

        if (!input.CanRead || !output.CanWrite)
        {
            return Errors.EBADF;
        }

        var inPipe = (input as PipeEnd)?.Pipe;
        var outPipe = (output as PipeEnd)?.Pipe;
        if (inPipe is null || outPipe is null || inPipe == outPipe)
        {
            return Errors.EINVAL;
        }

        var nonBlocking = (flags & FlagNonBlock) != 0 || ((input.Flags | output.Flags) & OpenFlags.NonBlock) != 0;
        return PipeToPipe(t, inPipe, outPipe, (long)Math.Min(a.A2, Pipe.DefaultCapacity), nonBlocking, consume: false);
    }

    private static long PipeToPipe(Task t, Pipe from, Pipe to, long count, bool nonBlocking, bool consume)
    {
        var avail = from.WaitReadable(t, nonBlocking);
        if (avail <= 0)
        {
            return avail;
        }

        var free = to.WaitWritable(t, nonBlocking);
        if (free < 0)
        {
            return free;
        }

        var want = (int)Math.Min(count, Math.Min(avail, free));
        var buffer = ArrayPool<byte>.Shared.Rent(want);
        try
        {
            var span = buffer.AsSpan(0, want);
            long n = consume ? from.Read(t, span, nonBlocking: true) : from.Peek(span);
            if (n <= 0)
            {
                return n;
            }

            return to.Write(t, span[..(int)n], nonBlocking: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
