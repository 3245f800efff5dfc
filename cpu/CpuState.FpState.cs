using System.Buffers.Binary;

namespace UserModeOS.Cpu;

// The FXSAVE image (Intel SDM vol. 1, 10.5.1): what FXSAVE/FXRSTOR move and what the
// kernel puts in a signal frame. The x87 part is the 64-bit layout (FXSAVE64): FCW, FSW, the
// abridged tag word, FOP, 64-bit FIP and FDP, then ST0-7 in 16-byte slots. As on AMD, FOP, FIP
// and FDP are saved only while an exception is pending (FSW.ES); otherwise they read as zero.
public sealed partial class CpuState
{
    /// <summary>Bytes of the FXSAVE area that hold state (416-511 are software-available).</summary>
    public const int FxStateBytes = 416;

    /// <summary>MXCSR bits that may be set (MXCSR_MASK in the image).</summary>
    public const uint MxcsrWritable = 0xFFFF;

    /// <summary>Writes the first <see cref="FxStateBytes"/> bytes of an FXSAVE image.</summary>
    public void SaveFxState(Span<byte> image)
    {
        image[..FxStateBytes].Clear();
        var fsw = X87.StatusWord;
        BinaryPrimitives.WriteUInt16LittleEndian(image, X87.Control);
        BinaryPrimitives.WriteUInt16LittleEndian(image[2..], fsw);
        image[4] = X87.Tags;
        if ((fsw & 0x80) != 0)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(image[6..], X87Opcode);
            BinaryPrimitives.WriteUInt64LittleEndian(image[8..], X87.Fip);
            BinaryPrimitives.WriteUInt64LittleEndian(image[16..], X87.Fdp);
        }

        for (var i = 0; i < 8; i++)
        {
            var v = X87.Regs[(X87.Top + i) & 7];
            BinaryPrimitives.WriteUInt64LittleEndian(image[(32 + (16 * i))..], v.Significand);
            BinaryPrimitives.WriteUInt16LittleEndian(image[(40 + (16 * i))..], v.SignExponent);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(image[24..], Mxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(image[28..], MxcsrWritable);
        for (var i = 0; i < 16; i++)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(image[(160 + (16 * i))..], XmmReg(i));
        }
    }

    /// <summary>Loads the x87 state, MXCSR and XMM0-15 from an FXSAVE image; false (nothing changed) when MXCSR has reserved bits set.</summary>
    public bool RestoreFxState(ReadOnlySpan<byte> image)
    {
        var mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(image[24..]);
        if ((mxcsr & ~MxcsrWritable) != 0)
        {
            return false;
        }

        Mxcsr = mxcsr;
        X87.Control = (ushort)((BinaryPrimitives.ReadUInt16LittleEndian(image) & 0x1F3F) | 0x40);
        X87.SetStatusWord(BinaryPrimitives.ReadUInt16LittleEndian(image[2..]));
        X87.Tags = image[4];
        X87.Fop = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(image[6..]) & 0x7FF);
        X87.FopValid = true;
        X87.Fip = BinaryPrimitives.ReadUInt64LittleEndian(image[8..]);
        X87.Fdp = BinaryPrimitives.ReadUInt64LittleEndian(image[16..]);
        for (var i = 0; i < 8; i++)
        {
            X87.Regs[(X87.Top + i) & 7] = new Float80(
                BinaryPrimitives.ReadUInt16LittleEndian(image[(40 + (16 * i))..]),
                BinaryPrimitives.ReadUInt64LittleEndian(image[(32 + (16 * i))..]));
        }

        for (var i = 0; i < 16; i++)
        {
            XmmReg(i) = BinaryPrimitives.ReadUInt128LittleEndian(image[(160 + (16 * i))..]);
        }

        return true;
    }
}
