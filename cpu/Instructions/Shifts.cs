namespace UserModeOS.Cpu.Instructions;

internal static class Shifts
{
    public static void Register()
    {
    }
}
