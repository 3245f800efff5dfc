using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu;

// The MMX registers. They have no storage of their own: MMi is the 64-bit significand of the
// physical x87 register Ri (X87.Regs[i], not ST(i)), so FXSAVE/FNSAVE, signal frames and the
// x87 instructions see exactly what the hardware shows them.
public sealed partial class CpuState
{
    /// <summary>MMn: the significand of physical x87 register Rn. Reading is free; write with <see cref="SetMm"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref ulong MmReg(int n) => ref X87.Regs[n].Significand;

    /// <summary>Writes MMn; like the hardware, the register's sign and exponent become all ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void SetMm(int n, ulong value) => X87.Regs[n] = new Float80(0xFFFF, value);

    /// <summary>
    /// The x87-to-MMX transition every MMX instruction but EMMS makes: TOP = 0 and every
    /// register tagged valid (the full tags then follow from the contents, as FNSTENV shows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void MmxTouched()
    {
        X87.Top = 0;
        X87.Tags = 0xFF;
    }

    /// <summary>EMMS: every x87 register empty; TOP and the contents stay.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Emms() => X87.Tags = 0;
}
