namespace UserModeOS.Syscalls;

internal static class FileOpen
{
    public static void Register(SyscallTable table)
    {
    }
}
