using System.Security.Cryptography;
using UserModeOS.Kernel.Memory;

namespace UserModeOS.Kernel.Exec;

/// <summary>personality(2) flags that matter to us.</summary>
public static class Personality
{
    /// <summary>ADDR_NO_RANDOMIZE: disable address-space layout randomisation (setarch -R).</summary>
    public const uint AddrNoRandomize = 0x0040000;
}

/// <summary>
/// Where execve puts a program: the PIE base, the top of the mmap area (where ld.so and
/// libraries land), the stack top and the start of the heap. With ASLR each is randomised
/// with Linux x86-64's ranges (28 bits of pages for PIE and mmap, up to 16 GiB for the
/// stack, 32 MiB for brk); without, they are Linux's fixed addresses.
/// </summary>
public readonly record struct AddressLayout(ulong PieBase, ulong MmapBase, ulong StackTop, ulong BrkOffset)
{
    private const int PageShift = 12;
    private const int MmapRandomBits = 28;
    private const ulong StackRandomRange = 16UL << 30;
    private const ulong BrkRandomRange = 32UL << 20;

    public static AddressLayout Fixed { get; } = new(ProgramLoader.PieBase, AddressSpace.MmapTop, AddressSpace.StackTop, 0);

    public static AddressLayout For(bool randomize)
    {
        if (!randomize)
        {
            return Fixed;
        }

        var stackTop = AddressSpace.StackTop - (Random(StackRandomRange >> PageShift) << PageShift);

        // The mmap area starts below the stack's largest extent, then moves down by a random amount.
        var mmapBase = AddressSpace.MmapTop - (StackRandomRange - (AddressSpace.StackTop - stackTop)) - (Random(1UL << MmapRandomBits) << PageShift);
        return new AddressLayout(
            ProgramLoader.PieBase + (Random(1UL << MmapRandomBits) << PageShift),
            mmapBase,
            stackTop,
            Random(BrkRandomRange >> PageShift) << PageShift);
    }

    /// <summary>A uniformly random value in [0, <paramref name="range"/>), range a power of two.</summary>
    private static ulong Random(ulong range)
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return BitConverter.ToUInt64(bytes) & (range - 1);
    }
}
