namespace UserModeOS.Cpu.Instructions;

internal static class Atomics
{
    public static void Register()
    {
    }
}
