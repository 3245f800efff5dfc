namespace UserModeOS.Syscalls;

internal static class Ioctl
{
    public static void Register(SyscallTable table)
    {
    }
}
