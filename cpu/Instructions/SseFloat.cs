namespace UserModeOS.Cpu.Instructions;

internal static class SseFloat
{
    public static void Register()
    {
    }
}
