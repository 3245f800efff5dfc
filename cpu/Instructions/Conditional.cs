namespace UserModeOS.Cpu.Instructions;

internal static class Conditional
{
    public static void Register()
    {
    }
}
