using System.Buffers.Binary;
using UserModeOS.Kernel;
using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Syscalls;

/// <summary>poll(2), ppoll(2), select(2), pselect6(2): waiting for readiness on many fds.</summary>
internal static unsafe class Poll
{
    private const int FdSetBits = 1024;
    private const int SelectIn = PollEvents.In | PollEvents.RdNorm | PollEvents.RdBand | PollEvents.Hup | PollEvents.Err;
    private const int SelectOut = PollEvents.Out | PollEvents.WrNorm | PollEvents.WrBand | PollEvents.Err;
    private const int SelectEx = PollEvents.Pri;

    public static void Register(SyscallTable t)
    {
        t.Add(Nr.Poll, &PollCall, Arg.Ptr, Arg.Int, Arg.Int);
        t.Add(Nr.Ppoll, &Ppoll, Arg.Ptr, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Int);
        t.Add(Nr.Select, &Select, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Ptr, Arg.Ptr);
        t.Add(Nr.Pselect6, &Pselect6, Arg.Int, Arg.Ptr, Arg.Ptr, Arg.Ptr, Arg.Ptr, Arg.Ptr);
    }

    private static long PollCall(Task t, in SyscallArgs a)
    {
        var ms = (int)a.A2;
        var deadline = ms < 0 ? Deadline.Never : Deadline.After(TimeSpan.FromMilliseconds(ms));
        return DoPoll(t, a.A0, a.A1, deadline, ms == 0);
    }

    private static long Ppoll(Task t, in SyscallArgs a)
    {
        if (!ReadTimespec(t, a.A2, out var deadline, out var immediate))
        {
            return Errors.EFAULT;
        }

        if (deadline is null)
        {
            return Errors.EINVAL;
        }

        var masked = ApplyTemporaryMask(t, a.A3, a.A4);
        if (masked != 0)
        {
            return masked;
        }

        return Interrupted(DoPoll(t, a.A0, a.A1, deadline.Value, immediate));
    }

    /// <summary>Reads a timespec timeout (NULL: forever); deadline null means EINVAL.</summary>
    internal static bool ReadTimespec(Task t, ulong address, out Deadline? deadline, out bool immediate)
    {
        deadline = Deadline.Never;
        immediate = false;
        if (address == 0)
        {
            return true;
        }

        Span<byte> b = stackalloc byte[16];
        if (!t.CopyIn(address, b))
        {
            return false;
        }

        var seconds = BinaryPrimitives.ReadInt64LittleEndian(b);
        var nanos = BinaryPrimitives.ReadInt64LittleEndian(b[8..]);
        if (seconds < 0 || nanos is < 0 or >= 1_000_000_000)
        {
            deadline = null;
            return true;
        }

        immediate = seconds == 0 && nanos == 0;
        deadline = Deadline.After(TimeSpan.FromTicks((Math.Min(seconds, 1L << 40) * TimeSpan.TicksPerSecond) + (nanos / 100)));
        return true;
    }

    /// <summary>ppoll/pselect: the mask applies during the wait and is restored afterwards (or after the handler).</summary>
    internal static long ApplyTemporaryMask(Task t, ulong address, ulong size)
    {
        if (address == 0)
        {
            return 0;
        }

        if (size != 8)
        {
            return Errors.EINVAL;
        }

        Span<byte> b = stackalloc byte[8];
        if (!t.CopyIn(address, b))
        {
            return Errors.EFAULT;
        }

        t.SavedSignalMask ??= t.SignalMask;
        t.SignalMask = BinaryPrimitives.ReadUInt64LittleEndian(b) & ~Signals.Unblockable;
        return 0;
    }

    /// <summary>An interrupted wait reports EINTR once a handler ran (ERESTARTNOHAND).</summary>
    private static long Interrupted(long r) => r == -(long)Errno.ERESTARTSYS ? Errors.Fail(Errno.ERESTARTNOHAND) : r;

    private static long DoPoll(Task t, ulong address, ulong count, Deadline deadline, bool immediate)
    {
        if (count > (ulong)FdTable.MaxFds)
        {
            return Errors.EINVAL;
        }

        var n = (int)count;
        var raw = new byte[n * 8];
        if (!t.CopyIn(address, raw))
        {
            return Errors.EFAULT;
        }

        var files = new OpenFile?[n];
        var events = new short[n];
        var revents = new short[n];
        using var waiter = new PollWaiter();
        for (var i = 0; i < n; i++)
        {
            var fd = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 8));
            events[i] = BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan((i * 8) + 4));
            files[i] = fd >= 0 ? t.Group.Fds.Get(fd) : null;
            if (files[i] is { } f)
            {
                waiter.Watch(f);
            }
        }

        int Scan()
        {
            var ready = 0;
            for (var i = 0; i < n; i++)
            {
                var fd = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 8));
                if (fd < 0)
                {
                    revents[i] = 0;
                    continue;
                }

                // POLLERR, POLLHUP and POLLNVAL are reported whether asked for or not.
                var r = files[i] is { } f ? f.Poll() & (events[i] | PollEvents.Err | PollEvents.Hup) : PollEvents.Nval;
                revents[i] = (short)r;
                if (r != 0)
                {
                    ready++;
                }
            }

            return ready;
        }

        var result = immediate ? Scan() : waiter.Wait(t, Scan, deadline);
        if (result < 0)
        {
            return Interrupted(result);
        }

        for (var i = 0; i < n; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(raw.AsSpan((i * 8) + 6), revents[i]);
        }

        return t.CopyOut(address, raw) ? result : Errors.EFAULT;
    }

    private static long Select(Task t, in SyscallArgs a)
    {
        var deadline = Deadline.Never;
        var immediate = false;
        if (a.A4 != 0)
        {
            Span<byte> b = stackalloc byte[16];
            if (!t.CopyIn(a.A4, b))
            {
                return Errors.EFAULT;
            }

            var seconds = BinaryPrimitives.ReadInt64LittleEndian(b);
            var micros = BinaryPrimitives.ReadInt64LittleEndian(b[8..]);
            if (seconds < 0 || micros < 0)
            {
                return Errors.EINVAL;
            }

            immediate = seconds == 0 && micros == 0;
            deadline = Deadline.After(TimeSpan.FromTicks((Math.Min(seconds, 1L << 40) * TimeSpan.TicksPerSecond) + (micros * 10)));
        }

        var result = Interrupted(DoSelect(t, (int)a.A0, a.A1, a.A2, a.A3, deadline, immediate));
        WriteBackRemaining(t, a.A4, deadline, micros: true);
        return result;
    }

    /// <summary>select(2) and pselect6 tell the caller how much of its timeout is left (Linux does; POSIX allows it).</summary>
    private static void WriteBackRemaining(Task t, ulong address, Deadline deadline, bool micros)
    {
        if (address == 0 || deadline.IsNever)
        {
            return;
        }

        var left = deadline.Remaining();
        Span<byte> b = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(b, (long)left.TotalSeconds);
        var fraction = left.Ticks % TimeSpan.TicksPerSecond;
        BinaryPrimitives.WriteInt64LittleEndian(b[8..], micros ? fraction / 10 : fraction * 100);
        t.CopyOut(address, b);
    }

    private static long Pselect6(Task t, in SyscallArgs a)
    {
        if (!ReadTimespec(t, a.A4, out var deadline, out var immediate))
        {
            return Errors.EFAULT;
        }

        if (deadline is null)
        {
            return Errors.EINVAL;
        }

        // The sixth argument points at { const sigset_t *ss; size_t ss_len; }.
        if (a.A5 != 0)
        {
            Span<byte> b = stackalloc byte[16];
            if (!t.CopyIn(a.A5, b))
            {
                return Errors.EFAULT;
            }

            var masked = ApplyTemporaryMask(t, BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b[8..]));
            if (masked != 0)
            {
                return masked;
            }
        }

        var result = Interrupted(DoSelect(t, (int)a.A0, a.A1, a.A2, a.A3, deadline.Value, immediate));
        WriteBackRemaining(t, a.A4, deadline.Value, micros: false);
        return result;
    }

    private static long DoSelect(Task t, int nfds, ulong readAddress, ulong writeAddress, ulong exceptAddress, Deadline deadline, bool immediate)
    {
        if (nfds < 0 || nfds > FdSetBits)
        {
            return Errors.EINVAL;
        }

        var bytes = ((nfds + 63) / 64) * 8;
        var sets = new byte[3][];
        var addresses = new[] { readAddress, writeAddress, exceptAddress };
        for (var s = 0; s < 3; s++)
        {
            sets[s] = new byte[bytes];
            if (addresses[s] != 0 && !t.CopyIn(addresses[s], sets[s]))
            {
                return Errors.EFAULT;
            }
        }

        static bool IsSet(byte[] set, int fd) => (set[fd / 8] & (1 << (fd % 8))) != 0;
        var files = new OpenFile?[nfds];
        using var waiter = new PollWaiter();
        for (var fd = 0; fd < nfds; fd++)
        {
            if (IsSet(sets[0], fd) || IsSet(sets[1], fd) || IsSet(sets[2], fd))
            {
                files[fd] = t.Group.Fds.Get(fd);
                if (files[fd] is null)
                {
                    return Errors.EBADF;
                }

                waiter.Watch(files[fd]!);
            }
        }

        var results = new byte[3][];
        int Scan()
        {
            var ready = 0;
            for (var s = 0; s < 3; s++)
            {
                results[s] = new byte[bytes];
            }

            for (var fd = 0; fd < nfds; fd++)
            {
                if (files[fd] is not { } f)
                {
                    continue;
                }

                var r = f.Poll();
                var masks = new[] { SelectIn, SelectOut, SelectEx };
                for (var s = 0; s < 3; s++)
                {
                    if (IsSet(sets[s], fd) && (r & masks[s]) != 0)
                    {
                        results[s][fd / 8] |= (byte)(1 << (fd % 8));
                        ready++;
                    }
                }
            }

            return ready;
        }

        var result = immediate ? Scan() : waiter.Wait(t, Scan, deadline);
        if (result < 0)
        {
            return Interrupted(result);
        }

        for (var s = 0; s < 3; s++)
        {
            if (addresses[s] != 0 && !t.CopyOut(addresses[s], results[s]))
            {
                return Errors.EFAULT;
            }
        }

        return result;
    }
}
