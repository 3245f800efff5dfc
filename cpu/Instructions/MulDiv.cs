namespace UserModeOS.Cpu.Instructions;

internal static class MulDiv
{
    public static void Register()
    {
    }
}
