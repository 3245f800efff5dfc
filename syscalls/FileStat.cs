namespace UserModeOS.Syscalls;

internal static class FileStat
{
    public static void Register(SyscallTable table)
    {
    }
}
