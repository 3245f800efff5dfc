using System.Buffers.Binary;

namespace UserModeOS.Kernel.Tty;

/// <summary>
/// A terminal's settings, the kernel's struct termios (termios(3), tty_ioctl(4)): four flag
/// words, the line discipline number and NCCS = 19 control characters, 36 bytes on x86-64
/// (glibc's larger struct is translated by tcgetattr/tcsetattr; TCGETS sees this one).
/// </summary>
public sealed class Termios
{
    public const int Size = 36;
    private const int Nccs = 19;

    // c_iflag
    public const uint Istrip = 0x20, Inlcr = 0x40, Igncr = 0x80, Icrnl = 0x100, Ixon = 0x400, Iutf8 = 0x4000;

    // c_oflag
    public const uint Opost = 0x1, Olcuc = 0x2, Onlcr = 0x4, Ocrnl = 0x8, Onocr = 0x10, Onlret = 0x20;
    public const uint Tabdly = 0x1800, Xtabs = 0x1800;

    // c_cflag
    public const uint B38400 = 0xF, Cs8 = 0x30, Cread = 0x80;

    // c_lflag
    public const uint Isig = 0x1, Icanon = 0x2, Echo = 0x8, Echoe = 0x10, Echok = 0x20, Echonl = 0x40;
    public const uint Noflsh = 0x80, Echoctl = 0x200, Echoke = 0x800, Iexten = 0x8000;

    // c_cc indices
    public const int Vintr = 0, Vquit = 1, Verase = 2, Vkill = 3, Veof = 4, Vtime = 5, Vmin = 6;
    public const int Vstart = 8, Vstop = 9, Vsusp = 10, Veol = 11, Veol2 = 16;

    /// <summary>_POSIX_VDISABLE: a control character set to it is off.</summary>
    public const byte Disabled = 0;

    public uint Iflag, Oflag, Cflag, Lflag;
    public byte Line;
    public readonly byte[] Cc = new byte[Nccs];

    /// <summary>
    /// What a new pts starts with: tty_std_termios, with the cflag unix98_pty_init() gives the
    /// slave driver (no HUPCL), and INIT_C_CC (^C ^\ DEL ^U ^D, VMIN 1, ^Q ^S ^Z ^R ^O ^W ^V).
    /// </summary>
    public static Termios ForPts()
    {
        var t = new Termios
        {
            Iflag = Icrnl | Ixon,
            Oflag = Opost | Onlcr,
            Cflag = B38400 | Cs8 | Cread,
            Lflag = Isig | Icanon | Echo | Echoe | Echok | Echoctl | Echoke | Iexten,
        };
        byte[] initial = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0];
        initial.CopyTo(t.Cc, 0);
        return t;
    }

    public bool Has(uint lflag) => (Lflag & lflag) != 0;

    /// <summary>Whether <paramref name="c"/> is the control character at <paramref name="index"/> (a disabled one matches nothing).</summary>
    public bool Is(byte c, int index) => Cc[index] != Disabled && Cc[index] == c;

    public void Write(Span<byte> b)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b, Iflag);
        BinaryPrimitives.WriteUInt32LittleEndian(b[4..], Oflag);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], Cflag);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], Lflag);
        b[16] = Line;
        Cc.CopyTo(b[17..]);
    }

    public void Read(ReadOnlySpan<byte> b)
    {
        Iflag = BinaryPrimitives.ReadUInt32LittleEndian(b);
        Oflag = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
        Cflag = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        Lflag = BinaryPrimitives.ReadUInt32LittleEndian(b[12..]);
        Line = b[16];
        b.Slice(17, Nccs).CopyTo(Cc);
    }
}
