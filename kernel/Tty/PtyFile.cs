using System.Buffers.Binary;
using UserModeOS.Kernel.Sched;
using UserModeOS.Kernel.Vfs;

namespace UserModeOS.Kernel.Tty;

/// <summary>
/// An open file description on either side of a <see cref="PtyPair"/>: the tty ioctls both
/// answer (tty_ioctl(4)), which act on the pair's one set of settings as Linux's act on the
/// pts's tty_struct whichever side asks.
/// </summary>
public abstract class PtyFile : OpenFile
{
    private const uint Tcgets = 0x5401, Tcsets = 0x5402, Tcsetsw = 0x5403, Tcsetsf = 0x5404;
    private const uint Tcsbrk = 0x5409, Tcflsh = 0x540B, Tiocsctty = 0x540E, Tiocgpgrp = 0x540F, Tiocspgrp = 0x5410;
    private const uint Tiocoutq = 0x5411, Tiocgwinsz = 0x5413, Tiocswinsz = 0x5414, Fionread = 0x541B;
    private const uint Tiocnotty = 0x5422, Tcsbrkp = 0x5425, Tiocgsid = 0x5429;
    protected const uint Tiocgptn = 0x80045430, Tiocsptlck = 0x40045431, Tiocgptlck = 0x80045439, Tiocgptpeer = 0x5441;

    /// <summary>tcflush(3) queue selectors.</summary>
    private const int Tciflush = 0, Tcoflush = 1, Tcioflush = 2;

    private readonly Func<StatInfo> _stat;

    protected PtyFile(PtyPair pair, Ptys ptys, int flags, Func<StatInfo> stat)
        : base("", flags)
    {
        Pair = pair;
        Ptys = ptys;
        _stat = stat;
    }

    protected PtyPair Pair { get; }

    protected Ptys Ptys { get; }

    /// <summary>The ptmx side (Linux's "tty != real_tty"): its ioctls never need it to be the caller's terminal.</summary>
    protected abstract bool IsMaster { get; }

    protected bool NonBlocking => (Flags & OpenFlags.NonBlock) != 0;

    public override bool IsStream => true;

    public override bool IsTerminal => true;

    public override WaitQueue PollQueue => Pair.Queue;

    public override Errno Stat(out StatInfo stat)
    {
        stat = _stat();
        return Errno.None;
    }

    public override long Ioctl(Task task, uint request, ulong argument)
    {
        switch (request)
        {
            case Tcgets:
                var termios = new byte[Termios.Size];
                lock (Pair.Queue.SyncRoot)
                {
                    Pair.Ldisc.Termios.Write(termios);
                }

                return task.CopyOut(argument, termios) ? 0 : -(long)Errno.EFAULT;
            case Tcsets or Tcsetsw or Tcsetsf:
                return SetTermios(task, argument, flush: request == Tcsetsf);
            case Tiocgwinsz:
                return task.CopyOut(argument, Locked(() => Pair.WindowSize.ToArray())) ? 0 : -(long)Errno.EFAULT;
            case Tiocswinsz:
                return SetWindowSize(task, argument);
            case Fionread:
                return PutInt(task, argument, Locked(() => IsMaster ? Pair.Ldisc.OutputCount : Pair.Ldisc.InputCount));
            case Tiocoutq:
                // Written output is in the other side's buffer at once: a pty has no chars_in_buffer(), Linux answers 0 too.
                return PutInt(task, argument, 0);
            case Tcflsh:
                // The ptmx's input is the pts's output, and the other way round.
                return Flush(IsMaster ? (int)argument switch { Tciflush => Tcoflush, Tcoflush => Tciflush, var both => both } : (int)argument);
            case Tcsbrk or Tcsbrkp:
                // tcdrain(3) and tcsendbreak(3): output is never held back, a pty has no line to break.
                return 0;
            case Tiocsctty:
                return SetControllingTerminal(task, argument);
            case Tiocnotty:
                return DropControllingTerminal(task);
            case Tiocgpgrp or Tiocgsid:
                return GetJobControl(task, request == Tiocgsid, argument);
            case Tiocspgrp:
                return SetForegroundGroup(task, argument);
            default:
                return -(long)Errno.ENOTTY;
        }
    }

    private T Locked<T>(Func<T> get)
    {
        lock (Pair.Queue.SyncRoot)
        {
            return get();
        }
    }

    protected static long PutInt(Task task, ulong address, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        return task.CopyOut(address, b) ? 0 : -(long)Errno.EFAULT;
    }

    /// <summary>TCSETS (TCSETSW: nothing to drain first; TCSETSF: the unread input goes).</summary>
    private long SetTermios(Task task, ulong argument, bool flush)
    {
        var b = new byte[Termios.Size];
        if (!task.CopyIn(argument, b))
        {
            return -(long)Errno.EFAULT;
        }

        var termios = new Termios();
        termios.Read(b);
        lock (Pair.Queue.SyncRoot)
        {
            if (flush)
            {
                Pair.Ldisc.FlushInput();
            }

            Pair.Ldisc.SetTermios(termios);
        }

        Pair.Queue.WakeAll();
        return 0;
    }

    /// <summary>TIOCSWINSZ: a new size raises SIGWINCH in the foreground process group (tty_do_resize()).</summary>
    private long SetWindowSize(Task task, ulong argument)
    {
        var size = new byte[8];
        if (!task.CopyIn(argument, size))
        {
            return -(long)Errno.EFAULT;
        }

        int foreground;
        lock (Pair.Queue.SyncRoot)
        {
            if (size.AsSpan().SequenceEqual(Pair.WindowSize))
            {
                return 0;
            }

            size.CopyTo(Pair.WindowSize, 0);
            foreground = Pair.ForegroundGroup;
        }

        if (foreground > 0)
        {
            task.Kernel.SignalProcessGroup(foreground, Signals.SIGWINCH);
        }

        return 0;
    }

    /// <summary>TCFLSH on the pts's queues: input (what it has not read) and output (what the ptmx has not).</summary>
    private long Flush(int queue)
    {
        if (queue is not (Tciflush or Tcoflush or Tcioflush))
        {
            return -(long)Errno.EINVAL;
        }

        lock (Pair.Queue.SyncRoot)
        {
            if (queue != Tcoflush)
            {
                Pair.Ldisc.FlushInput();
            }

            if (queue != Tciflush)
            {
                Pair.Ldisc.FlushOutput();
            }
        }

        Pair.Queue.WakeAll();
        return 0;
    }

    /// <summary>Whether the pair is the controlling terminal of the caller's session.</summary>
    private bool IsCallersTerminal(Task task) => Ptys.ControllingTerminal(task.Group) == Pair;

    /// <summary>
    /// TIOCSCTTY (tiocsctty()): a session leader without a controlling terminal takes this one,
    /// unless another session has it (root may steal it with argument 1); it must be open for reading.
    /// </summary>
    private long SetControllingTerminal(Task task, ulong argument)
    {
        var me = task.Group;
        if (me.Session == me.Pid && IsCallersTerminal(task))
        {
            return 0;
        }

        if (me.Session != me.Pid || Ptys.ControllingTerminal(me) is not null)
        {
            return -(long)Errno.EPERM;
        }

        lock (Pair.Queue.SyncRoot)
        {
            var owner = Pair.Session != 0 && task.Kernel.FindProcess(Pair.Session) is { IsExiting: false } leader && leader.Session == Pair.Session;
            if ((owner && !(argument == 1 && task.Cred.Euid == 0)) || !CanRead)
            {
                return -(long)Errno.EPERM;
            }

            Pair.Session = me.Session;
            Pair.ForegroundGroup = me.ProcessGroup;
        }

        return 0;
    }

    /// <summary>
    /// TIOCNOTTY: the caller gives up its controlling terminal; when the session leader does,
    /// the foreground group gets SIGHUP and SIGCONT and the session loses it (disassociate_ctty()).
    /// A process that is not the leader cannot lose it alone here: the terminal is the session's.
    /// </summary>
    private long DropControllingTerminal(Task task)
    {
        if (!IsCallersTerminal(task))
        {
            return -(long)Errno.ENOTTY;
        }

        if (task.Group.Session != task.Group.Pid)
        {
            return 0;
        }

        int foreground;
        lock (Pair.Queue.SyncRoot)
        {
            foreground = Pair.ForegroundGroup;
            Pair.Session = 0;
            Pair.ForegroundGroup = 0;
        }

        if (foreground > 0)
        {
            task.Kernel.SignalProcessGroup(foreground, Signals.SIGHUP);
            task.Kernel.SignalProcessGroup(foreground, Signals.SIGCONT);
        }

        return 0;
    }

    /// <summary>TIOCGPGRP and TIOCGSID: on the pts only for the caller's own terminal (ENOTTY otherwise).</summary>
    private long GetJobControl(Task task, bool session, ulong argument)
    {
        if (!IsMaster && !IsCallersTerminal(task))
        {
            return -(long)Errno.ENOTTY;
        }

        var (sid, pgrp) = Locked(() => (Pair.Session, Pair.ForegroundGroup));
        if (session && sid == 0)
        {
            return -(long)Errno.ENOTTY;
        }

        return PutInt(task, argument, session ? sid : pgrp);
    }

    /// <summary>TIOCSPGRP (tcsetpgrp(3)): a process group of the caller's session becomes the foreground of its terminal.</summary>
    private long SetForegroundGroup(Task task, ulong argument)
    {
        Span<byte> b = stackalloc byte[4];
        if (!task.CopyIn(argument, b))
        {
            return -(long)Errno.EFAULT;
        }

        var pgrp = BinaryPrimitives.ReadInt32LittleEndian(b);
        if (pgrp < 0)
        {
            return -(long)Errno.EINVAL;
        }

        if (!IsCallersTerminal(task))
        {
            return -(long)Errno.ENOTTY;
        }

        var members = task.Kernel.Processes().FindAll(p => p.ProcessGroup == pgrp && !p.IsExiting);
        if (members.Count == 0)
        {
            return -(long)Errno.ESRCH;
        }

        if (members[0].Session != task.Group.Session)
        {
            return -(long)Errno.EPERM;
        }

        lock (Pair.Queue.SyncRoot)
        {
            Pair.ForegroundGroup = pgrp;
        }

        return 0;
    }
}
