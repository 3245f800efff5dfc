namespace UserModeOS.Syscalls;

/// <summary>The six argument registers of an x86-64 syscall: RDI, RSI, RDX, R10, R8, R9.</summary>
public readonly struct SyscallArgs
{
    public readonly ulong A0, A1, A2, A3, A4, A5;

    public SyscallArgs(ulong a0, ulong a1, ulong a2, ulong a3, ulong a4, ulong a5)
    {
        A0 = a0;
        A1 = a1;
        A2 = a2;
        A3 = a3;
        A4 = a4;
        A5 = a5;
    }

    public ulong this[int i] => i switch
    {
        0 => A0,
        1 => A1,
        2 => A2,
        3 => A3,
        4 => A4,
        _ => A5,
    };
}

/// <summary>How strace shows an argument.</summary>
public enum Arg
{
    /// <summary>A signed decimal integer.</summary>
    Int,

    /// <summary>An unsigned number in hex (flags, addresses).</summary>
    Hex,

    /// <summary>A file descriptor (AT_FDCWD shown by name).</summary>
    Fd,

    /// <summary>A NUL-terminated string (a path).</summary>
    Str,

    /// <summary>A buffer whose length is the next argument, shown as a quoted string.</summary>
    Buf,

    /// <summary>A buffer whose length is the call's result (read), shown after the call.</summary>
    OutBuf,

    /// <summary>A pointer shown as an address.</summary>
    Ptr,
}
