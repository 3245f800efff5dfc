namespace UserModeOS.Cpu.Instructions;

internal static class FlagOps
{
    public static void Register()
    {
    }
}
