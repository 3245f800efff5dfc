namespace UserModeOS.Cpu.Instructions;

internal static class BitOps
{
    public static void Register()
    {
    }
}
