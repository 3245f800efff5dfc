using UserModeOS.Kernel.Sched;

namespace UserModeOS.Kernel.Tty;

/// <summary>
/// A Unix 98 pseudo-terminal (pty(7)): the ptmx side a terminal emulator holds and the pts
/// side a program sees as its terminal, joined by one line discipline. Like Linux, which
/// keeps the settings, window size and job control of a pair on the pts's tty_struct, the
/// pair holds them once; either side's ioctls reach them. <see cref="Queue"/>'s lock guards
/// everything and is woken on every change (reads, writes, poll, closes).
/// </summary>
public sealed class PtyPair
{
    /// <summary>Unix 98 pts devices are char 136:N (UNIX98_PTY_SLAVE_MAJOR); /dev/ptmx is 5:2.</summary>
    public const uint PtsMajor = 136, PtmxMajor = 5, PtmxMinor = 2;

    internal PtyPair(int index, Credentials opener)
    {
        Index = index;
        Uid = opener.Fsuid;
        Gid = opener.Fsgid;
    }

    /// <summary>N of /dev/pts/N (TIOCGPTN).</summary>
    public int Index { get; }

    public WaitQueue Queue { get; } = new();

    public LineDiscipline Ldisc { get; } = new();

    /// <summary>The /dev/pts/N node's owner and permission bits: the opener of the ptmx, 0620 (devpts's defaults; grantpt(3) may change them).</summary>
    public uint Uid { get; private set; }

    public uint Gid { get; private set; }

    public uint Permissions { get; private set; } = 0x190;

    /// <summary>chmod(2) of /dev/pts/N.</summary>
    public void Chmod(uint mode) => Permissions = mode & 0xFFF;

    /// <summary>chown(2) of /dev/pts/N; -1 leaves an id unchanged.</summary>
    public void Chown(int uid, int gid)
    {
        Uid = uid == -1 ? Uid : (uint)uid;
        Gid = gid == -1 ? Gid : (uint)gid;
    }

    /// <summary>TIOCSPTLCK: a new pair is locked until unlockpt(3); opening a locked pts fails with EIO.</summary>
    internal bool Locked { get; set; } = true;

    /// <summary>False once the ptmx is closed: the pts is hung up.</summary>
    internal bool MasterOpen { get; set; } = true;

    /// <summary>Open descriptions of the pts, and whether one ever was (the ptmx reads EIO once the last is closed: TTY_OTHER_CLOSED).</summary>
    internal int Slaves { get; set; }

    internal bool SlaveClosed { get; set; }

    /// <summary>The session this is the controlling terminal of (tty->ctrl.session), or 0.</summary>
    internal int Session { get; set; }

    /// <summary>The foreground process group (tty->ctrl.pgrp), or 0.</summary>
    internal int ForegroundGroup { get; set; }

    /// <summary>struct winsize: rows, columns, x and y pixels (TIOCGWINSZ); zeros until set, as on Linux.</summary>
    internal byte[] WindowSize { get; } = new byte[8];
}

/// <summary>
/// The pseudo-terminals of one kernel (what a devpts instance lists): indexes are handed out
/// lowest first, and an index is free again once its ptmx is closed.
/// </summary>
public sealed class Ptys
{
    private readonly SortedDictionary<int, PtyPair> _pairs = new();

    public Ptys(Kernel kernel)
    {
        Kernel = kernel;
    }

    /// <summary>Whose processes the terminals signal.</summary>
    public Kernel Kernel { get; }

    /// <summary>Where devpts nodes change, for a filesystem listing them (devpts's times).</summary>
    public DateTimeOffset Changed { get; private set; } = DateTimeOffset.UtcNow;

    /// <summary>A new pair for an open of /dev/ptmx (ptmx_open()).</summary>
    public PtyPair Create(Credentials opener)
    {
        lock (_pairs)
        {
            var index = 0;
            while (_pairs.ContainsKey(index))
            {
                index++;
            }

            var pair = new PtyPair(index, opener);
            _pairs.Add(index, pair);
            Changed = DateTimeOffset.UtcNow;
            return pair;
        }
    }

    /// <summary>The pair /dev/pts/N names, while its ptmx is open.</summary>
    public PtyPair? Find(int index)
    {
        lock (_pairs)
        {
            return _pairs.GetValueOrDefault(index);
        }
    }

    /// <summary>The live pairs, lowest index first.</summary>
    public List<PtyPair> All()
    {
        lock (_pairs)
        {
            return _pairs.Values.ToList();
        }
    }

    /// <summary>devpts_pty_kill(): the ptmx is closed, /dev/pts/N goes away.</summary>
    internal void Remove(PtyPair pair)
    {
        lock (_pairs)
        {
            _pairs.Remove(pair.Index);
            Changed = DateTimeOffset.UtcNow;
        }
    }

    /// <summary>
    /// The controlling terminal of <paramref name="group"/>'s session: a pair whose session it
    /// is, while the session leader lives (its exit disassociates the terminal).
    /// </summary>
    public PtyPair? ControllingTerminal(ThreadGroup group)
    {
        var session = group.Session;
        if (group.Kernel.FindProcess(session) is not { IsExiting: false } leader || leader.Session != session)
        {
            return null;
        }

        lock (_pairs)
        {
            foreach (var pair in _pairs.Values)
            {
                if (pair.Session == session)
                {
                    return pair;
                }
            }
        }

        return null;
    }
}
