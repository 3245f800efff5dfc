using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Tty;

/// <summary>
/// An open /dev/ptmx (pty(7)): each open makes a new pair. What is written here is the pts's
/// input, through its line discipline; what is read is the pts's output and the echoes. Once
/// every pts description is closed, reads return what is left, then EIO.
/// </summary>
public sealed class PtyMaster : PtyFile
{
    public PtyMaster(PtyPair pair, Ptys ptys, int flags, Func<StatInfo> stat)
        : base(pair, ptys, flags, stat)
    {
    }

    protected override bool IsMaster => true;

    private bool SlaveGone => Pair.Slaves == 0 && Pair.SlaveClosed;

    public override long Read(Task task, Span<byte> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        long n;
        lock (Pair.Queue.SyncRoot)
        {
            while (Pair.Ldisc.OutputCount == 0)
            {
                if (SlaveGone)
                {
                    return -(long)Errno.EIO;
                }

                if (NonBlocking)
                {
                    return -(long)Errno.EAGAIN;
                }

                var r = Pair.Queue.Wait(task, () => Pair.Ldisc.OutputCount > 0 || SlaveGone);
                if (r != 0)
                {
                    return r;
                }
            }

            n = Pair.Ldisc.ReadOutput(buffer);
        }

        Pair.Queue.WakeAll();
        return n;
    }

    /// <summary>Input for the pts: blocks while its buffer is full; ISIG characters signal its foreground group.</summary>
    public override long Write(Task task, ReadOnlySpan<byte> data)
    {
        var signals = new List<int>();
        long written = 0;
        int foreground;
        lock (Pair.Queue.SyncRoot)
        {
            while (written < data.Length)
            {
                if (Pair.Ldisc.InputFull)
                {
                    var r = NonBlocking ? -(long)Errno.EAGAIN : Pair.Queue.Wait(task, () => !Pair.Ldisc.InputFull);
                    if (r != 0)
                    {
                        if (written > 0)
                        {
                            break;
                        }

                        return r;
                    }
                }

                written += Pair.Ldisc.Receive(data[(int)written..], signals);
            }

            foreground = Pair.ForegroundGroup;
        }

        Pair.Queue.WakeAll();
        if (foreground > 0)
        {
            foreach (var signal in signals)
            {
                task.Kernel.SignalProcessGroup(foreground, signal);
            }
        }

        return written;
    }

    /// <summary>
    /// n_tty_poll() on the ptmx: readable with output waiting, writable while the pts's buffer
    /// has room; hung up (and readable, the read fails) once the last pts description is closed.
    /// </summary>
    public override int Poll()
    {
        lock (Pair.Queue.SyncRoot)
        {
            var events = Pair.Ldisc.InputFull ? 0 : PollEvents.Out | PollEvents.WrNorm;
            if (Pair.Ldisc.OutputCount > 0 || SlaveGone)
            {
                events |= PollEvents.In | PollEvents.RdNorm;
            }

            return SlaveGone ? events | PollEvents.Hup : events;
        }
    }

    public override long Ioctl(Task task, uint request, ulong argument)
    {
        switch (request)
        {
            case Tiocgptn:
                return PutInt(task, argument, Pair.Index);
            case Tiocsptlck or Tiocgptlck:
                return Lock(task, request == Tiocsptlck, argument);
            case Tiocgptpeer:
                return OpenPeer(task, (int)argument);
            default:
                return base.Ioctl(task, request, argument);
        }
    }

    /// <summary>TIOCSPTLCK (unlockpt(3) passes 0) and TIOCGPTLCK.</summary>
    private long Lock(Task task, bool set, ulong argument)
    {
        if (!set)
        {
            return PutInt(task, argument, Pair.Locked ? 1 : 0);
        }

        Span<byte> b = stackalloc byte[4];
        if (!task.CopyIn(argument, b))
        {
            return -(long)Errno.EFAULT;
        }

        lock (Pair.Queue.SyncRoot)
        {
            Pair.Locked = BitConverter.ToInt32(b) != 0;
        }

        return 0;
    }

    /// <summary>
    /// TIOCGPTPEER (openpty(3) tries it first): an fd on the pts, opened as /dev/pts/N is,
    /// with the access mode and O_NONBLOCK, O_NOCTTY, O_CLOEXEC of <paramref name="flags"/>.
    /// </summary>
    private long OpenPeer(Task task, int flags)
    {
        const int Allowed = OpenFlags.AccessMode | OpenFlags.NonBlock | OpenFlags.NoCtty | OpenFlags.CloseOnExec;
        if ((flags & ~Allowed) != 0)
        {
            return -(long)Errno.EINVAL;
        }

        var e = task.Kernel.Vfs.Open(task, "/dev/pts/" + Pair.Index, flags, 0, out var file);
        if (e != Errno.None || file is null)
        {
            return -(long)e;
        }

        return task.Group.Fds.Add(file, (flags & OpenFlags.CloseOnExec) != 0);
    }

    /// <summary>
    /// pty_close() of the ptmx: the pair leaves devpts and the pts hangs up; the session it is
    /// the controlling terminal of loses it, and its leader gets SIGHUP and SIGCONT.
    /// </summary>
    protected override void Close()
    {
        int session;
        lock (Pair.Queue.SyncRoot)
        {
            Pair.MasterOpen = false;
            Pair.Ldisc.FlushInput();
            session = Pair.Session;
            Pair.Session = 0;
            Pair.ForegroundGroup = 0;
        }

        Ptys.Remove(Pair);
        Pair.Queue.WakeAll();
        if (session > 0 && Ptys.Kernel.FindProcess(session) is { } leader && leader.Session == session)
        {
            Ptys.Kernel.SendSignal(leader, SigInfo.FromKernel(Signals.SIGHUP));
            Ptys.Kernel.SendSignal(leader, SigInfo.FromKernel(Signals.SIGCONT));
        }
    }
}
