namespace UserModeOS.Kernel;

/// <summary>Linux signal numbers (x86-64) and their default dispositions (signal(7)).</summary>
public static class Signals
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8;
    public const int SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14, SIGTERM = 15;
    public const int SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21, SIGTTOU = 22;
    public const int SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28, SIGIO = 29;
    public const int SIGPWR = 30, SIGSYS = 31;
    public const int Max = 64;

    /// <summary>SIGKILL and SIGSTOP can be neither blocked nor caught.</summary>
    public const ulong Unblockable = (1UL << (SIGKILL - 1)) | (1UL << (SIGSTOP - 1));

    /// <summary>True when the default action dumps core (the wait status gets the 0x80 bit).</summary>
    public static bool DumpsCore(int sig) =>
        sig is SIGQUIT or SIGILL or SIGTRAP or SIGABRT or SIGBUS or SIGFPE or SIGSEGV or SIGXCPU or SIGXFSZ or SIGSYS;

    public static string Name(int sig) => sig switch
    {
        SIGHUP => "SIGHUP",
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGILL => "SIGILL",
        SIGTRAP => "SIGTRAP",
        SIGABRT => "SIGABRT",
        SIGBUS => "SIGBUS",
        SIGFPE => "SIGFPE",
        SIGKILL => "SIGKILL",
        SIGUSR1 => "SIGUSR1",
        SIGSEGV => "SIGSEGV",
        SIGUSR2 => "SIGUSR2",
        SIGPIPE => "SIGPIPE",
        SIGALRM => "SIGALRM",
        SIGTERM => "SIGTERM",
        SIGCHLD => "SIGCHLD",
        SIGCONT => "SIGCONT",
        SIGSTOP => "SIGSTOP",
        SIGTSTP => "SIGTSTP",
        SIGSYS => "SIGSYS",
        _ => $"signal {sig}",
    };
}

/// <summary>One entry of a process's signal table, as rt_sigaction(2) stores it.</summary>
public record struct SigAction(ulong Handler, ulong Flags, ulong Restorer, ulong Mask)
{
    public const ulong Default = 0, Ignore = 1;
}
