namespace UserModeOS.Syscalls;

internal static class Time
{
    public static void Register(SyscallTable table)
    {
    }
}
