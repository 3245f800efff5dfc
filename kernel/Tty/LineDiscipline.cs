namespace UserModeOS.Kernel.Tty;

/// <summary>
/// The line discipline of a pseudo-terminal (Linux's n_tty, termios(3)): input the ptmx
/// writes is edited into lines (ICANON: VERASE, VKILL, VEOF) or passed on raw (VMIN/VTIME
/// are the reader's business), echoed (ECHO, ECHOE, ECHOK, ECHONL, ECHOCTL), translated
/// (ICRNL, INLCR, IGNCR, ISTRIP) and turned into signals (ISIG: VINTR, VQUIT, VSUSP); what
/// the pts writes is post-processed (OPOST: ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS) for
/// the ptmx to read. Not thread-safe: the <see cref="PtyPair"/> owning it holds its lock.
/// </summary>
public sealed class LineDiscipline
{
    /// <summary>N_TTY_BUF_SIZE: the longest canonical line is one less.</summary>
    private const int LineLimit = 4096 - 1;

    /// <summary>TTYB_DEFAULT_MEM_LIMIT: how much may wait on either side before writers block.</summary>
    public const int BufferLimit = 64 * 1024;

    /// <summary>Input the pts may read: raw bytes, or (ICANON) complete lines.</summary>
    private readonly List<byte> _read = new();

    /// <summary>ICANON: the length of each complete line in <see cref="_read"/> (a line ended by VEOF has no terminator; 0 is end of file).</summary>
    private readonly List<int> _lines = new();

    /// <summary>ICANON: the line being edited.</summary>
    private readonly List<byte> _edit = new();

    /// <summary>What the ptmx reads: the pts's output and the echoes.</summary>
    private readonly List<byte> _output = new();

    /// <summary>The output column (for tabs and erasing them); and where the line being edited began.</summary>
    private int _column, _canonColumn;

    public Termios Termios { get; private set; } = Termios.ForPts();

    private bool Canonical => Termios.Has(Termios.Icanon);

    /// <summary>Output stopped by VSTOP (IXON) until VSTART.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Whether a read of the pts would find something (ICANON: a complete line).</summary>
    public bool InputAvailable => Canonical ? _lines.Count > 0 : _read.Count > 0;

    /// <summary>FIONREAD/TIOCINQ on the pts: the bytes that may be read.</summary>
    public int InputCount => _read.Count;

    public bool InputFull => _read.Count + _edit.Count >= BufferLimit;

    public int OutputCount => _output.Count;

    public bool OutputFull => _output.Count >= BufferLimit;

    /// <summary>
    /// TCSETS: new settings. Leaving ICANON makes the line being edited readable; entering it
    /// makes what is readable one line (n_tty_set_termios()).
    /// </summary>
    public void SetTermios(Termios termios)
    {
        var wasCanonical = Canonical;
        Termios = termios;
        if (wasCanonical && !Canonical)
        {
            _read.AddRange(_edit);
            _edit.Clear();
            _lines.Clear();
        }
        else if (!wasCanonical && Canonical && _read.Count > 0)
        {
            _lines.Clear();
            _lines.Add(_read.Count);
        }

        if ((termios.Iflag & Termios.Ixon) == 0)
        {
            Stopped = false;
        }
    }

    /// <summary>TCSETSF, TCFLSH and ISIG without NOFLSH: discards the pts's unread input.</summary>
    public void FlushInput()
    {
        _read.Clear();
        _lines.Clear();
        _edit.Clear();
    }

    /// <summary>TCFLSH with TCOFLUSH: discards what the ptmx has not read.</summary>
    public void FlushOutput() => _output.Clear();

    /// <summary>
    /// Input written to the ptmx (n_tty_receive_buf()): processes bytes until the pts's buffer
    /// is full and returns how many it took. Signals for the foreground group are added to
    /// <paramref name="signals"/>, to be sent once the lock is dropped.
    /// </summary>
    public int Receive(ReadOnlySpan<byte> data, List<int> signals)
    {
        var taken = 0;
        while (taken < data.Length && !InputFull)
        {
            ReceiveChar(data[taken++], signals);
        }

        return taken;
    }

    private void ReceiveChar(byte c, List<int> signals)
    {
        var t = Termios;
        if ((t.Iflag & Termios.Istrip) != 0)
        {
            c &= 0x7F;
        }

        if ((t.Iflag & Termios.Ixon) != 0 && (t.Is(c, Termios.Vstart) || t.Is(c, Termios.Vstop)))
        {
            // Flow control, never input.
            Stopped = t.Is(c, Termios.Vstop);
            return;
        }

        if (t.Has(Termios.Isig) && SignalOf(c) is int signal and > 0)
        {
            // isig(): unless NOFLSH, unread input goes, and so does what the ptmx has not read
            // (pty_flush_buffer() flushes the other side's buffer and line discipline).
            if (!t.Has(Termios.Noflsh))
            {
                FlushInput();
                FlushOutput();
            }

            if (t.Has(Termios.Echo))
            {
                EchoChar(c);
            }

            signals.Add(signal);
            return;
        }

        if (c == '\r')
        {
            if ((t.Iflag & Termios.Igncr) != 0)
            {
                return;
            }

            if ((t.Iflag & Termios.Icrnl) != 0)
            {
                c = (byte)'\n';
            }
        }
        else if (c == '\n' && (t.Iflag & Termios.Inlcr) != 0)
        {
            c = (byte)'\r';
        }

        if (!Canonical)
        {
            EchoInput(c);
            _read.Add(c);
            return;
        }

        if (t.Is(c, Termios.Verase))
        {
            Erase(all: false);
        }
        else if (t.Is(c, Termios.Vkill))
        {
            Erase(all: true);
        }
        else if (t.Is(c, Termios.Veof))
        {
            // The line so far becomes readable, without the VEOF; alone it is end of file.
            CommitLine();
        }
        else if (c == '\n' || t.Is(c, Termios.Veol) || (t.Is(c, Termios.Veol2) && t.Has(Termios.Iexten)))
        {
            if (c == '\n' && !t.Has(Termios.Echo) && t.Has(Termios.Echonl))
            {
                Output(c);
            }

            EchoInput(c);
            _edit.Add(c);
            CommitLine();
        }
        else if (_edit.Count < LineLimit)
        {
            EchoInput(c);
            _edit.Add(c);
        }
    }

    /// <summary>The signal an ISIG character raises, or 0.</summary>
    private int SignalOf(byte c) =>
        Termios.Is(c, Termios.Vintr) ? Signals.SIGINT
        : Termios.Is(c, Termios.Vquit) ? Signals.SIGQUIT
        : Termios.Is(c, Termios.Vsusp) ? Signals.SIGTSTP
        : 0;

    private void CommitLine()
    {
        _read.AddRange(_edit);
        _lines.Add(_edit.Count);
        _edit.Clear();
    }

    /// <summary>Echoes a character of input when ECHO is on, noting where a new line's echo begins.</summary>
    private void EchoInput(byte c)
    {
        if (!Termios.Has(Termios.Echo))
        {
            return;
        }

        if (_edit.Count == 0)
        {
            _canonColumn = _column;
        }

        EchoChar(c);
    }

    /// <summary>echo_char(): a control character as ^X under ECHOCTL (not tab or newline), else as output.</summary>
    private void EchoChar(byte c)
    {
        if (Termios.Has(Termios.Echoctl) && IsControl(c) && c != '\t' && c != '\n')
        {
            _output.Add((byte)'^');
            _output.Add((byte)(c ^ 0x40));
            _column += 2;
            return;
        }

        Output(c);
    }

    /// <summary>
    /// VERASE (one character) or VKILL (the line), as eraser() echoes it: "\b \b" per column
    /// under ECHOE (ECHOKE for VKILL), else the character itself (and a newline for ECHOK).
    /// </summary>
    private void Erase(bool all)
    {
        if (_edit.Count == 0)
        {
            return;
        }

        var t = Termios;
        if (!t.Has(Termios.Echo))
        {
            RemoveLast(all);
            return;
        }

        if (all ? !(t.Has(Termios.Echok) && t.Has(Termios.Echoke) && t.Has(Termios.Echoe)) : !t.Has(Termios.Echoe))
        {
            RemoveLast(all);
            EchoChar(t.Cc[all ? Termios.Vkill : Termios.Verase]);
            if (all && t.Has(Termios.Echok))
            {
                Output((byte)'\n');
            }

            return;
        }

        do
        {
            var c = _edit[^1];
            _edit.RemoveAt(_edit.Count - 1);
            while (IsContinuation(c) && _edit.Count > 0)
            {
                c = _edit[^1];
                _edit.RemoveAt(_edit.Count - 1);
            }

            var columns = c == '\t' ? TabWidthAtEnd() : IsControl(c) ? (t.Has(Termios.Echoctl) ? 2 : 0) : 1;
            for (var i = 0; i < columns; i++)
            {
                if (c == '\t')
                {
                    MoveBack();
                }
                else
                {
                    MoveBack();
                    Output((byte)' ');
                    MoveBack();
                }
            }
        }
        while (all && _edit.Count > 0);
    }

    private void RemoveLast(bool all) => _edit.RemoveRange(all ? 0 : _edit.Count - 1, all ? _edit.Count : 1);

    /// <summary>IUTF8: a byte in the middle of a character, erased with it.</summary>
    private bool IsContinuation(byte c) => (Termios.Iflag & Termios.Iutf8) != 0 && (c & 0xC0) == 0x80;

    /// <summary>The columns a tab now erased took: its line's echo is replayed from where the line began.</summary>
    private int TabWidthAtEnd()
    {
        var column = _canonColumn;
        foreach (var c in _edit)
        {
            column += c == '\t' ? 8 - (column & 7) : IsControl(c) ? (Termios.Has(Termios.Echoctl) ? 2 : 0) : IsContinuation(c) ? 0 : 1;
        }

        return 8 - (column & 7);
    }

    private void MoveBack()
    {
        _output.Add((byte)'\b');
        if (_column > 0)
        {
            _column--;
        }
    }

    private static bool IsControl(byte c) => c < 0x20 || c == 0x7F;

    /// <summary>
    /// Output written to the pts (n_tty_write()): post-processed into the ptmx's buffer until
    /// it is full; returns how many bytes were taken.
    /// </summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        var taken = 0;
        while (taken < data.Length && !OutputFull)
        {
            Output(data[taken++]);
        }

        return taken;
    }

    /// <summary>do_output_char(): one byte through OPOST, keeping the column.</summary>
    private void Output(byte c)
    {
        var o = Termios.Oflag;
        if ((o & Termios.Opost) == 0)
        {
            _output.Add(c);
            return;
        }

        switch (c)
        {
            case (byte)'\n':
                if ((o & Termios.Onlret) != 0)
                {
                    _column = 0;
                }

                if ((o & Termios.Onlcr) != 0)
                {
                    _column = 0;
                    _output.Add((byte)'\r');
                }

                break;
            case (byte)'\r':
                if ((o & Termios.Onocr) != 0 && _column == 0)
                {
                    return;
                }

                if ((o & Termios.Ocrnl) != 0)
                {
                    c = (byte)'\n';
                    if ((o & Termios.Onlret) != 0)
                    {
                        _column = 0;
                    }

                    break;
                }

                _column = 0;
                break;
            case (byte)'\t':
                var spaces = 8 - (_column & 7);
                _column += spaces;
                if ((o & Termios.Tabdly) == Termios.Xtabs)
                {
                    _output.AddRange(Enumerable.Repeat((byte)' ', spaces));
                    return;
                }

                break;
            case (byte)'\b':
                if (_column > 0)
                {
                    _column--;
                }

                break;
            default:
                if (!IsControl(c))
                {
                    if ((o & Termios.Olcuc) != 0 && c is >= (byte)'a' and <= (byte)'z')
                    {
                        c -= 0x20;
                    }

                    if ((c & 0xC0) != 0x80)
                    {
                        _column++;
                    }
                }

                break;
        }

        _output.Add(c);
    }

    /// <summary>
    /// A read of the pts: ICANON gives at most one line (without a VEOF that ended it; a line
    /// that is only VEOF reads as 0, end of file); otherwise whatever is there.
    /// </summary>
    public int ReadInput(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, Canonical && _lines.Count > 0 ? _lines[0] : _read.Count);
        MoveFirst(_read, n, buffer);
        if (Canonical && _lines.Count > 0)
        {
            // What a short read leaves of a line is read next, still as one line.
            _lines[0] -= n;
            if (_lines[0] == 0)
            {
                _lines.RemoveAt(0);
            }
        }

        return n;
    }

    /// <summary>A read of the ptmx: whatever the pts wrote and the echoes.</summary>
    public int ReadOutput(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _output.Count);
        MoveFirst(_output, n, buffer);
        return n;
    }

    /// <summary>Moves the first <paramref name="n"/> bytes of <paramref name="from"/> to <paramref name="to"/>.</summary>
    private static void MoveFirst(List<byte> from, int n, Span<byte> to)
    {
        System.Runtime.InteropServices.CollectionsMarshal.AsSpan(from)[..n].CopyTo(to);
        from.RemoveRange(0, n);
    }
}
