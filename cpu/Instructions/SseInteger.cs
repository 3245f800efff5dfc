namespace UserModeOS.Cpu.Instructions;

internal static class SseInteger
{
    public static void Register()
    {
    }
}
