using System.Buffers.Binary;

namespace UserModeOS.Cpu;

// The FXSAVE image (Intel SDM vol. 1, 10.5.1): what FXSAVE/FXRSTOR move and what the
// kernel puts in a signal frame. x87 is not modelled, so its part is the FNINIT state.
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
        BinaryPrimitives.WriteUInt16LittleEndian(image, 0x037F);
        BinaryPrimitives.WriteUInt32LittleEndian(image[24..], Mxcsr);
        BinaryPrimitives.WriteUInt32LittleEndian(image[28..], MxcsrWritable);
        for (var i = 0; i < 16; i++)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(image[(160 + (16 * i))..], XmmReg(i));
        }
    }

    /// <summary>Loads MXCSR and XMM0-15 from an FXSAVE image; false (nothing changed) when MXCSR has reserved bits set.</summary>
    public bool RestoreFxState(ReadOnlySpan<byte> image)
    {
        var mxcsr = BinaryPrimitives.ReadUInt32LittleEndian(image[24..]);
        if ((mxcsr & ~MxcsrWritable) != 0)
        {
            return false;
        }

        Mxcsr = mxcsr;
        for (var i = 0; i < 16; i++)
        {
            XmmReg(i) = BinaryPrimitives.ReadUInt128LittleEndian(image[(160 + (16 * i))..]);
        }

        return true;
    }
}
