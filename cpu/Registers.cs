using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu;

/// <summary>
/// The register file the executor addresses by byte offset: slots 0-15 are RAX..R15 in
/// encoding order, slot 16 always reads zero (an absent base or index register), slots 17
/// and 18 hold the FS and GS bases so an effective address is one branch-free sum.
/// </summary>
[InlineArray(SlotCount)]
public struct RegisterFile
{
    public const int SlotCount = 20;
    private ulong _slot0;
}

/// <summary>Register numbers in x86-64 encoding order.</summary>
public enum Reg
{
    Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15,
}

/// <summary>Byte offsets into <see cref="RegisterFile"/> used by decoded ops.</summary>
public static class RegSlot
{
    public const int Zero = 16 * 8;
    public const int FsBase = 17 * 8;
    public const int GsBase = 18 * 8;

    public static byte Of(Reg r) => (byte)((int)r * 8);
}

/// <summary>XMM0-15, little-endian lanes.</summary>
[InlineArray(16)]
public struct XmmFile
{
    private UInt128 _xmm0;
}
