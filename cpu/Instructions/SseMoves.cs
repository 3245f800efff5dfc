namespace UserModeOS.Cpu.Instructions;

internal static class SseMoves
{
    public static void Register()
    {
    }
}
