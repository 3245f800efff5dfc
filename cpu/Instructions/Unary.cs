namespace UserModeOS.Cpu.Instructions;

internal static class Unary
{
    public static void Register()
    {
    }
}
