namespace UserModeOS.Syscalls;

internal static class Identity
{
    public static void Register(SyscallTable table)
    {
    }
}
