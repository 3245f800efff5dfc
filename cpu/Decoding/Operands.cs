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
    /// Fills the memory operand fields. False for forms we do not run: 32-bit address size,
    /// and segment overrides other than FS and GS (which have no base in 64-bit mode).
    /// </summary>
    public static bool Mem(in Instruction insn, ref Op op)
    {
        op.Seg = insn.MemorySegment switch
        {
            Register.FS => RegSlot.FsBase,
            Register.GS => RegSlot.GsBase,
            _ => RegSlot.Zero,
        };
        if (insn.IsIPRelativeMemoryOperand)
        {
            if (insn.MemoryBase == Register.EIP)
            {
                return false;
            }

            op.Base = RegSlot.Zero;
            op.Index = RegSlot.Zero;
            op.Scale = 0;
            op.Disp = (long)insn.IPRelativeMemoryAddress;
            return true;
        }

        var b = insn.MemoryBase;
        var x = insn.MemoryIndex;
        if (b.IsGPR32() || x.IsGPR32())
        {
            return false;
        }

        op.Base = b == Register.None ? (byte)RegSlot.Zero : Gpr(b);
        op.Index = x == Register.None ? (byte)RegSlot.Zero : Gpr(x);
        op.Scale = insn.MemoryIndexScale switch
        {
            1 => 0,
            2 => 1,
            4 => 2,
            _ => 3,
        };
        op.Disp = (long)insn.MemoryDisplacement64;
        return true;
    }

    /// <summary>Operand size in bytes of a general register.</summary>
    public static int Size(Register r) => r.GetSize();
}
