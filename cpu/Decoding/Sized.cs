namespace UserModeOS.Cpu.Decoding;

/// <summary>Picks the handler instantiation for an operand size in bytes.</summary>
internal static unsafe class Sized
{
    public static delegate*<CpuState, Op*, int> Pick(
        int size,
        delegate*<CpuState, Op*, int> h8,
        delegate*<CpuState, Op*, int> h16,
        delegate*<CpuState, Op*, int> h32,
        delegate*<CpuState, Op*, int> h64) => size switch
        {
            1 => h8,
            2 => h16,
            4 => h32,
            8 => h64,
            _ => null,
        };
}
