namespace UserModeOS.Syscalls;

internal static class Directories
{
    public static void Register(SyscallTable table)
    {
    }
}
