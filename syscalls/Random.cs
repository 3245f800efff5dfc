namespace UserModeOS.Syscalls;

internal static class Random
{
    public static void Register(SyscallTable table)
    {
    }
}
