using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Tty;

/// <summary>
/// An open /dev/pts/N (pts(4)): the terminal a program reads and writes through the line
/// discipline. Once the ptmx is closed it is hung up: reads return 0, writes and ioctls EIO.
/// </summary>
public sealed class PtySlave : PtyFile
{
    private PtySlave(PtyPair pair, Ptys ptys, int flags, Func<StatInfo> stat)
        : base(pair, ptys, flags, stat)
    {
    }

    /// <summary>
    /// Opens the pts of <paramref name="pair"/> (EIO while locked or hung up). Opened without
    /// O_NOCTTY and for reading by a session leader without a controlling terminal, it becomes
    /// that session's (tty_open_proc_set_tty()).
    /// </summary>
    public static Errno Open(PtyPair pair, Ptys ptys, int flags, Task? caller, Func<StatInfo> stat, out OpenFile? file)
    {
        file = null;
        lock (pair.Queue.SyncRoot)
        {
            if (pair.Locked || !pair.MasterOpen)
            {
                return Errno.EIO;
            }

            pair.Slaves++;
        }

        var slave = new PtySlave(pair, ptys, flags, stat);
        if (caller?.Group is { } me && (flags & OpenFlags.NoCtty) == 0 && slave.CanRead && me.Session == me.Pid &&
            ptys.ControllingTerminal(me) is null)
        {
            lock (pair.Queue.SyncRoot)
            {
                if (pair.Session == 0)
                {
                    pair.Session = me.Session;
                    pair.ForegroundGroup = me.ProcessGroup;
                }
            }
        }

        file = slave;
        return Errno.None;
    }

    protected override bool IsMaster => false;

    private bool HungUp => !Pair.MasterOpen;

    /// <summary>n_tty_read(): ICANON waits for a line; otherwise VMIN and VTIME say how long to wait for how much.</summary>
    public override long Read(Task task, Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        long n;
        lock (Pair.Queue.SyncRoot)
        {
            var termios = Pair.Ldisc.Termios;
            var canonical = termios.Has(Termios.Icanon);
            var min = canonical ? 1 : Math.Min((int)termios.Cc[Termios.Vmin], buffer.Length);
            var time = canonical ? 0 : termios.Cc[Termios.Vtime];
            var got = 0;
            while (true)
            {
                if (HungUp)
                {
                    return got;
                }

                if (Pair.Ldisc.InputAvailable)
                {
                    got += Pair.Ldisc.ReadInput(buffer[got..]);
                    if (canonical || got >= min || got == buffer.Length)
                    {
                        break;
                    }

                    continue;
                }

                // VMIN 0, VTIME 0: a poll; VMIN 0 with VTIME: one timer for the whole read;
                // VMIN with VTIME: an inter-byte timer once the first byte has come.
                if (min == 0 && time == 0)
                {
                    break;
                }

                if (NonBlocking)
                {
                    if (got > 0)
                    {
                        break;
                    }

                    return -(long)Errno.EAGAIN;
                }

                var deadline = time > 0 && (min == 0 || got > 0) ? Sched.Deadline.After(TimeSpan.FromMilliseconds(time * 100)) : Sched.Deadline.Never;
                var r = Pair.Queue.Wait(task, () => Pair.Ldisc.InputAvailable || HungUp, deadline);
                if (r == -(int)Errno.ETIMEDOUT)
                {
                    break;
                }

                if (r != 0)
                {
                    if (got > 0)
                    {
                        break;
                    }

                    return r;
                }
            }

            n = got;
        }

        Pair.Queue.WakeAll();
        return n;
    }

    /// <summary>n_tty_write(): through OPOST into the ptmx's buffer, waiting while it is full or output is stopped (VSTOP).</summary>
    public override long Write(Task task, ReadOnlySpan<byte> data)
    {
        long written = 0;
        lock (Pair.Queue.SyncRoot)
        {
            while (written < data.Length)
            {
                if (HungUp)
                {
                    return written > 0 ? written : -(long)Errno.EIO;
                }

                if (Pair.Ldisc.OutputFull || Pair.Ldisc.Stopped)
                {
                    var r = NonBlocking ? -(long)Errno.EAGAIN
                        : Pair.Queue.Wait(task, () => !(Pair.Ldisc.OutputFull || Pair.Ldisc.Stopped) || HungUp);
                    if (r != 0)
                    {
                        if (written > 0)
                        {
                            break;
                        }

                        return r;
                    }

                    continue;
                }

                written += Pair.Ldisc.Write(data[(int)written..]);
            }
        }

        Pair.Queue.WakeAll();
        return written;
    }

    /// <summary>n_tty_poll() on the pts; hung up it is everything (hung_up_tty_poll()).</summary>
    public override int Poll()
    {
        lock (Pair.Queue.SyncRoot)
        {
            if (HungUp)
            {
                return PollEvents.In | PollEvents.RdNorm | PollEvents.Out | PollEvents.WrNorm | PollEvents.Err | PollEvents.Hup;
            }

            var events = Pair.Ldisc.InputAvailable ? PollEvents.In | PollEvents.RdNorm : 0;
            return Pair.Ldisc.OutputFull || Pair.Ldisc.Stopped ? events : events | PollEvents.Out | PollEvents.WrNorm;
        }
    }

    /// <summary>hung_up_tty_ioctl(): EIO once hung up (ENOTTY for TIOCSPGRP).</summary>
    public override long Ioctl(Task task, uint request, ulong argument)
    {
        const uint Tiocspgrp = 0x5410;
        if (HungUp)
        {
            return request == Tiocspgrp ? -(long)Errno.ENOTTY : -(long)Errno.EIO;
        }

        return base.Ioctl(task, request, argument);
    }

    protected override void Close()
    {
        lock (Pair.Queue.SyncRoot)
        {
            Pair.Slaves--;
            Pair.SlaveClosed = true;
        }

        Pair.Queue.WakeAll();
    }
}
