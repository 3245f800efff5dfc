namespace UserModeOS.Cpu.Instructions;

internal static class StringOps
{
    public static void Register()
    {
    }
}
