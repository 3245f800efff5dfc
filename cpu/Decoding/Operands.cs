using Iced.Intel;

namespace UserModeOS.Cpu.Decoding;

/// <summary>Translates Iced operands into the fields of an <see cref="Op"/>.</summary>
internal static class Operands
{
    /// <summary>The register-file byte offset of a general register of any size (AH..BH are the second byte).</summary>
    public static byte Gpr(Register r)
    {
        if (r is >= Register.AH and <= Register.BH)
        {
            return (byte)(((r - Register.AH) * 8) + 1);
        }

        return (byte)(r.GetFullRegister().GetNumber() * 8);
    }

    /// <summary>An XMM register's number.</summary>
    public static byte Xmm(Register r) => (byte)(r - Register.XMM0);

    /// <summary>
    /// Fills the memory operand fields. With a 67h prefix (32-bit address size) the address
    /// is truncated to 32 bits before the FS/GS base is added. False for segment overrides
    /// other than FS and GS, which cannot appear with a base in 64-bit mode anyway.
    /// </summary>
    public static bool Mem(in Instruction insn, ref Op op)
    {
        op.Seg = insn.MemorySegment switch
        {
            Register.FS => RegSlot.FsBase,
            Register.GS => RegSlot.GsBase,
            _ => RegSlot.Zero,
        };
        var b = insn.MemoryBase;
        var x = insn.MemoryIndex;
        // Iced reports a 4-byte displacement size only under 32-bit address size.
        var address32 = b.IsGPR32() || x.IsGPR32() || b == Register.EIP ||
            (b == Register.None && x == Register.None && insn.MemoryDisplSize == 4);
        if (insn.IsIPRelativeMemoryOperand)
        {
            op.Base = RegSlot.Zero;
            op.Index = RegSlot.Zero;
            op.Scale = (byte)(address32 ? Address32 : 0);
            op.Disp = (long)insn.IPRelativeMemoryAddress;
            return true;
        }

        op.Base = b == Register.None ? (byte)RegSlot.Zero : Gpr(b);
        op.Index = x == Register.None ? (byte)RegSlot.Zero : Gpr(x);
        op.Scale = (byte)((insn.MemoryIndexScale switch
        {
            1 => 0,
            2 => 1,
            4 => 2,
            _ => 3,
        }) | (address32 ? Address32 : 0));
        op.Disp = address32 ? (long)(uint)insn.MemoryDisplacement32 : (long)insn.MemoryDisplacement64;
        return true;
    }

    /// <summary>Flag in <see cref="Op.Scale"/>: the 67h prefix made the effective address 32 bits wide.</summary>
    public const int Address32 = 4;
}
