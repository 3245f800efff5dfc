using Iced.Intel;

namespace UserModeOS.Cpu.Tests.Differential;

/// <summary>A way of addressing the scratch page: the operand, the registers it needs, and the page offset it hits.</summary>
public sealed record MemoryMode(string Text, MemoryOperand Operand, int Offset, (Register Reg, ulong Value)[] Registers)
{
    /// <summary>The registers the address uses; keep operand registers out of this set.</summary>
    public static readonly Register[] AddressRegisters = [Register.RBX, Register.RBP, Register.RSI, Register.R10, Register.R12, Register.R13, Register.R14];

    public void Apply(ulong[] gpr)
    {
        foreach (var (reg, value) in Registers)
        {
            gpr[reg.GetNumber()] = value;
        }
    }

    public override string ToString() => Text;
}

/// <summary>Building blocks for data-driven differential cases: register values, interesting operands, memory forms.</summary>
public static class CaseKit
{
    private const ulong Scratch = Differential.ScratchAddress;

    /// <summary>
    /// Addressing forms over the scratch page: base, base+disp8, base+disp32 (SIB), base+index*scale-disp,
    /// absolute disp32, RIP-relative, a misaligned address and an FS override (FS base is 0).
    /// They use only <see cref="MemoryMode.AddressRegisters"/>.
    /// </summary>
    public static readonly MemoryMode[] MemoryModes =
    [
        new("[rbx+0x10]", new MemoryOperand(Register.RBX, 0x10), 0x10, [(Register.RBX, Scratch)]),
        new("[rbp]", new MemoryOperand(Register.RBP), 0x40, [(Register.RBP, Scratch + 0x40)]),
        new("[r12+0x7F0]", new MemoryOperand(Register.R12, 0x7F0), 0x7F0, [(Register.R12, Scratch)]),
        new("[r13+r14*8-0x20]", new MemoryOperand(Register.R13, Register.R14, 8, -0x20, 1), 0x160, [(Register.R13, Scratch + 0x100), (Register.R14, 0x10)]),
        new("[abs 0x60000200]", new MemoryOperand(Register.None, (long)Scratch + 0x200, 4), 0x200, []),
        new("[rip->0x60000300]", new MemoryOperand(Register.RIP, (long)Scratch + 0x300), 0x300, []),
        new("[rsi+0x13] misaligned", new MemoryOperand(Register.RSI, 0x13), 0x13, [(Register.RSI, Scratch)]),
        new("fs:[r10+0x38]", new MemoryOperand(Register.R10, Register.None, 1, 0x38, 1, false, Register.FS), 0x38, [(Register.R10, Scratch)]),
    ];

    /// <summary>A distinct non-trivial value in every register, so a write to the wrong one or to too many bits shows.</summary>
    public static ulong[] BackgroundGpr()
    {
        var gpr = new ulong[16];
        for (var i = 0; i < 16; i++)
        {
            gpr[i] = 0xA5C3_E1F0_5A3C_1E0FUL ^ (0x0101_0101_0101_0101UL * (ulong)(i + 1) * 0x11);
        }

        return gpr;
    }

    /// <summary>Writes <paramref name="value"/> into the part of a 64-bit register an 8/16/32/64-bit register names (AH..BH included).</summary>
    public static void Put(ulong[] gpr, Register reg, ulong value)
    {
        var size = reg.GetSize();
        var shift = reg is >= Register.AH and <= Register.BH ? 8 : 0;
        var slot = reg is >= Register.AH and <= Register.BH ? reg - Register.AH : reg.GetFullRegister().GetNumber();
        var mask = (size == 8 ? ulong.MaxValue : (1UL << (size * 8)) - 1) << shift;
        gpr[slot] = (gpr[slot] & ~mask) | ((value << shift) & mask);
    }

    /// <summary>All ones in the low <paramref name="bits"/> bits.</summary>
    public static ulong Mask(int bits) => bits == 64 ? ulong.MaxValue : (1UL << bits) - 1;

    /// <summary>
    /// Operands where flags are decided: zero, one, the nibble carry (AF), the signed limits and
    /// their neighbours, all ones, alternating bits and two arbitrary values.
    /// </summary>
    public static ulong[] EdgeValues(int bits)
    {
        var m = Mask(bits);
        var min = 1UL << (bits - 1);
        return [0, 1, 2, 0xF, 0x10, min - 1, min, min + 1, m, m - 1, 0x5555_5555_5555_5555 & m, 0xAAAA_AAAA_AAAA_AAAA & m, 0x1234_5678_9ABC_DEF1 & m, 0xFEDC_BA98_7654_3219 & m];
    }

    /// <summary>A smaller set of operand pairs for checking operand forms rather than arithmetic.</summary>
    public static (ulong A, ulong B)[] FormPairs(int bits)
    {
        var m = Mask(bits);
        var min = 1UL << (bits - 1);
        return [(0, 0), (1, m), (min - 1, 1), (min, min), (m, 1), (0xF, 1), (min, 1), (0x1234_5678_9ABC_DEF1 & m, 0xFEDC_BA98_7654_3219 & m)];
    }

    /// <summary>Scratch contents: a byte pattern (so stray writes show), <paramref name="length"/> bytes long.</summary>
    public static byte[] PatternScratch(int length = 0x800)
    {
        var page = new byte[length];
        for (var i = 0; i < page.Length; i++)
        {
            page[i] = (byte)((i * 0x3B) + 0x11);
        }

        return page;
    }

    /// <summary>Stores the low <paramref name="bytes"/> bytes of <paramref name="value"/> little-endian.</summary>
    public static void Store(byte[] scratch, int offset, int bytes, ulong value)
    {
        for (var i = 0; i < bytes; i++)
        {
            scratch[offset + i] = (byte)(value >> (8 * i));
        }
    }

    /// <summary>Formats an instruction the way failure reports do.</summary>
    public static string Text(in Instruction insn)
    {
        var output = new StringOutput();
        new IntelFormatter().Format(insn, output);
        return output.ToStringAndReset();
    }
}
