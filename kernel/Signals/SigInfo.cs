using System.Buffers.Binary;

namespace UserModeOS.Kernel;

/// <summary>Which union member of siginfo_t a <see cref="SigInfo"/> fills.</summary>
public enum SigInfoLayout
{
    /// <summary>si_pid, si_uid (kill, tkill, sigqueue with si_value).</summary>
    Kill,

    /// <summary>si_addr (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP).</summary>
    Fault,

    /// <summary>si_pid, si_uid, si_status, si_utime, si_stime (SIGCHLD).</summary>
    Child,

    /// <summary>si_tid, si_overrun, si_value (POSIX timers, ITIMER_REAL).</summary>
    Timer,
}

/// <summary>
/// One queued signal with the information siginfo_t carries (sigaction(2)). Written to the
/// guest as the 128-byte x86-64 siginfo_t.
/// </summary>
public sealed class SigInfo
{
    public const int Size = 128;

    public const int SiUser = 0, SiKernel = 0x80, SiQueue = -1, SiTimer = -2, SiTkill = -6;
    public const int SegvMapErr = 1, SegvAccErr = 2, IllIllOpc = 1, IllIllOpn = 2, FpeIntDiv = 1, TrapBrkpt = 1, BusAdrErr = 2;
    public const int CldExited = 1, CldKilled = 2, CldDumped = 3, CldStopped = 5, CldContinued = 6;

    public const int FpeFltDiv = 3, FpeFltOvf = 4, FpeFltUnd = 5, FpeFltRes = 6, FpeFltInv = 7;

    /// <summary>
    /// The SIGFPE si_code for pending x87 exception flags (FSW bits: IE 1, DE 2, ZE 4, OE 8,
    /// UE 16, PE 32), in Linux's order of precedence (fpu__exception_code).
    /// </summary>
    public static int FloatingPointCode(int flags) =>
        (flags & 1) != 0 ? FpeFltInv : (flags & 4) != 0 ? FpeFltDiv : (flags & 8) != 0 ? FpeFltOvf :
        (flags & 0x12) != 0 ? FpeFltUnd : (flags & 32) != 0 ? FpeFltRes : 0;

    public int Signo { get; init; }
    public int Code { get; init; }
    public SigInfoLayout Layout { get; init; }
    public int Pid { get; init; }
    public uint Uid { get; init; }
    public int Status { get; init; }
    public ulong Address { get; init; }
    public ulong Value { get; init; }

    /// <summary>The caller's own siginfo bytes (rt_sigqueueinfo), used as given apart from si_signo.</summary>
    public byte[]? Raw { get; init; }

    /// <summary>A signal a process sent: its pid and real uid go in si_pid and si_uid.</summary>
    public static SigInfo FromUser(int signo, int code, int pid, uint uid = 0) =>
        new() { Signo = signo, Code = code, Layout = SigInfoLayout.Kill, Pid = pid, Uid = uid };

    public static SigInfo FromKernel(int signo) => new() { Signo = signo, Code = SiKernel, Layout = SigInfoLayout.Kill };

    public static SigInfo Fault(int signo, int code, ulong address) =>
        new() { Signo = signo, Code = code, Layout = SigInfoLayout.Fault, Address = address };

    public void Write(Span<byte> b)
    {
        b[..Size].Clear();
        if (Raw is not null)
        {
            Raw.AsSpan(0, Math.Min(Raw.Length, Size)).CopyTo(b);
            BinaryPrimitives.WriteInt32LittleEndian(b, Signo);
            return;
        }

        BinaryPrimitives.WriteInt32LittleEndian(b, Signo);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], Code);
        switch (Layout)
        {
            case SigInfoLayout.Fault:
                BinaryPrimitives.WriteUInt64LittleEndian(b[16..], Address);
                break;
            case SigInfoLayout.Child:
                BinaryPrimitives.WriteInt32LittleEndian(b[16..], Pid);
                BinaryPrimitives.WriteUInt32LittleEndian(b[20..], Uid);
                BinaryPrimitives.WriteInt32LittleEndian(b[24..], Status);
                break;
            case SigInfoLayout.Timer:
                BinaryPrimitives.WriteInt32LittleEndian(b[16..], Pid);
                BinaryPrimitives.WriteUInt64LittleEndian(b[24..], Value);
                break;
            default:
                BinaryPrimitives.WriteInt32LittleEndian(b[16..], Pid);
                BinaryPrimitives.WriteUInt32LittleEndian(b[20..], Uid);
                BinaryPrimitives.WriteUInt64LittleEndian(b[24..], Value);
                break;
        }
    }
}
