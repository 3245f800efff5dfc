using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>The ops every block builder uses: leaving a block and the undefined instruction.</summary>
internal static unsafe class CoreOps
{
    /// <summary>Ends a block that did not end in a branch: continue at the next instruction.</summary>
    public static int FallThrough(CpuState c, Op* op)
    {
        c.Rip = (ulong)op->Imm;
        return 1;
    }

    /// <summary>
    /// Replaces every op of a block whose code was overwritten: whoever is running the block
    /// leaves it at the next instruction and decodes the new bytes (x86 requires a store to
    /// upcoming code to take effect, even within the same basic block).
    /// </summary>
    public static int Resync(CpuState c, Op* op)
    {
        c.Rip = op->Rip;
        return 1;
    }

    /// <summary>#UD: an invalid or not yet implemented instruction, reported with its bytes and disassembly.</summary>
    public static int Undefined(CpuState c, Op* op)
    {
        if (c.Log is { } log)
        {
            var bytes = new byte[15];
            var n = 0;
            while (n < bytes.Length && c.Memory.TryRead(op->Rip + (ulong)n, bytes.AsSpan(n, 1)))
            {
                n++;
            }

            var decoder = Decoder.Create(64, new ByteArrayCodeReader(bytes, 0, n), op->Rip);
            decoder.Decode(out var insn);
            var raw = Convert.ToHexString(bytes, 0, Math.Max(insn.Length, 1));
            var what = insn.IsInvalid ? "invalid instruction" : $"unimplemented instruction '{insn}' ({insn.Code})";
            log.InvalidInstruction(raw, $"{what} at 0x{op->Rip:x}: bytes {raw}; delivering SIGILL");
        }

        return c.ExitAt(op, ExitReason.InvalidOpcode);
    }
}
