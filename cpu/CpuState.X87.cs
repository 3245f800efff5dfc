using System.Runtime.CompilerServices;
using UserModeOS.Cpu.Instructions;

namespace UserModeOS.Cpu;

/// <summary>The eight physical x87 data registers R0-R7 (ST(i) is R((TOP + i) mod 8)).</summary>
[InlineArray(8)]
public struct X87Registers
{
    private Float80 _r0;
}

/// <summary>
/// The x87 FPU state: registers, control word, status word (TOP kept apart), abridged tag word
/// and the last-instruction pointers. A plain value, so fork copies it with one assignment.
/// </summary>
public struct X87State
{
    /// <summary>FCW after FNINIT: all exceptions masked, 64-bit precision, round to nearest.</summary>
    public const ushort DefaultControl = 0x037F;

    /// <summary>Linux's user CS and DS selectors, which FNSTENV/FNSAVE store with the pointers.</summary>
    public const ushort CodeSelector = 0x33, StackSelector = 0x2B;

    public X87Registers Regs;

    public ushort Control;

    /// <summary>The status word without TOP (bits 11-13), ES and B (both derived from the flags and masks).</summary>
    public ushort Status;

    public int Top;

    /// <summary>Bit i set when physical register i is not empty (the FXSAVE abridged tag word).</summary>
    public byte Tags;

    /// <summary>Address of the last non-control x87 instruction (its opcode is read back from there).</summary>
    public ulong Fip;

    /// <summary>Address of the last memory operand of a non-control x87 instruction.</summary>
    public ulong Fdp;

    /// <summary>The segment selector of the last memory operand: SS for RSP/RBP-based addresses, else DS (0 in 64-bit Linux).</summary>
    public ushort Fds;

    /// <summary>The code segment selector stored with FIP (CS once an instruction was recorded, 0 after FNINIT).</summary>
    public ushort Fcs;

    /// <summary>The last opcode (11 bits), valid when <see cref="FopValid"/>; otherwise it is decoded from memory at <see cref="Fip"/>.</summary>
    public ushort Fop;

    public bool FopValid;

    public static X87State Initial => new() { Control = DefaultControl, FopValid = true };

    /// <summary>The full status word as FNSTSW reads it.</summary>
    public readonly ushort StatusWord
    {
        get
        {
            var s = Status & ~0xB880;
            if ((Status & ~Control & 0x3F) != 0)
            {
                s |= 0x8080;
            }

            return (ushort)(s | (Top << 11));
        }
    }

    public void SetStatusWord(ushort value)
    {
        Status = (ushort)(value & ~0xB880);
        Top = (value >> 11) & 7;
    }

    /// <summary>FNINIT. The register contents survive, as on hardware; only the tags say empty.</summary>
    public void Init()
    {
        Control = DefaultControl;
        Status = 0;
        Top = 0;
        Tags = 0;
        Fip = 0;
        Fdp = 0;
        Fds = 0;
        Fcs = 0;
        Fop = 0;
        FopValid = true;
    }

    /// <summary>The 2-bit tag of a physical register: 0 valid, 1 zero, 2 special, 3 empty.</summary>
    public readonly int FullTag(int phys)
    {
        if ((Tags & (1 << phys)) == 0)
        {
            return 3;
        }

        var v = Regs[phys];
        var exp = v.SignExponent & 0x7FFF;
        if (exp == 0)
        {
            return v.Significand == 0 ? 1 : 2;
        }

        return exp == 0x7FFF || (v.Significand >> 63) == 0 ? 2 : 0;
    }

    /// <summary>The full 16-bit tag word (FNSTENV, FNSAVE).</summary>
    public readonly ushort TagWord
    {
        get
        {
            var w = 0;
            for (var i = 0; i < 8; i++)
            {
                w |= FullTag(i) << (2 * i);
            }

            return (ushort)w;
        }
    }

    /// <summary>Loads a full tag word: only "empty or not" is kept; the rest follows from the contents.</summary>
    public void SetTagWord(ushort w)
    {
        byte t = 0;
        for (var i = 0; i < 8; i++)
        {
            if (((w >> (2 * i)) & 3) != 3)
            {
                t |= (byte)(1 << i);
            }
        }

        Tags = t;
    }
}

// The x87 FPU of the CPU; its instructions are in Instructions/X87*.cs.
public sealed unsafe partial class CpuState
{
    public X87State X87 = X87State.Initial;

    /// <summary>
    /// The FPU and MXCSR state of a fresh process (execve): FNINIT, all data registers zeroed,
    /// and the default MXCSR.
    /// </summary>
    public void ResetFpu()
    {
        X87 = X87State.Initial;
        Mxcsr = 0x1F80;
    }

    /// <summary>True when an unmasked x87 exception is pending (FSW.ES): the next waiting x87 instruction faults (#MF).</summary>
    public bool X87ExceptionPending => X87PendingExceptions != 0;

    /// <summary>The unmasked exception flags (IE, DE, ZE, OE, UE, PE as FSW bits 0-5) that are pending.</summary>
    public int X87PendingExceptions => X87.Status & ~X87.Control & 0x3F;

    /// <summary>The 11-bit opcode of the last non-control x87 instruction (FOP).</summary>
    public ushort X87Opcode
    {
        get
        {
            if (!X87.FopValid)
            {
                X87.Fop = DecodeFop(X87.Fip);
                X87.FopValid = true;
            }

            return X87.Fop;
        }
    }

    /// <summary>Reads the x87 opcode at an instruction address: prefixes skipped, then (first byte &amp; 7) &lt;&lt; 8 | ModRM.</summary>
    private ushort DecodeFop(ulong rip)
    {
        Span<byte> b = stackalloc byte[16];
        for (var n = 16; n > 0; n--)
        {
            if (Memory.TryRead(rip, b[..n]))
            {
                for (var i = 0; i + 1 < n; i++)
                {
                    var x = b[i];
                    if (x is >= 0xD8 and <= 0xDF)
                    {
                        return (ushort)(((x & 7) << 8) | b[i + 1]);
                    }
                }

                return 0;
            }
        }

        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref Float80 St(int i) => ref X87.Regs[(X87.Top + i) & 7];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool StEmpty(int i) => (X87.Tags & (1 << ((X87.Top + i) & 7))) == 0;

    /// <summary>Records a non-control instruction for FIP/FOP (FNSTENV, FNSAVE, FXSAVE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void X87Note(ulong rip)
    {
        X87.Fip = rip;
        X87.Fcs = X87State.CodeSelector;
        X87.FopValid = false;
    }

    /// <summary>Records the memory operand of a non-control instruction (FDP and its segment).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void X87NoteMem(Decoding.Op* op, ulong ea)
    {
        X87.Fdp = ea;
        X87.Fds = (op->Base == 4 * 8 || op->Base == 5 * 8) && op->Seg == RegSlot.Zero ? X87State.StackSelector : (ushort)0;
    }

    /// <summary>Pops the stack: ST(0) becomes empty and TOP moves up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void X87Pop()
    {
        X87.Tags &= (byte)~(1 << X87.Top);
        X87.Top = (X87.Top + 1) & 7;
    }

    /// <summary>Writes ST(i) and marks it valid.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void X87Set(int i, Float80 v)
    {
        var p = (X87.Top + i) & 7;
        X87.Regs[p] = v;
        X87.Tags |= (byte)(1 << p);
    }

    /// <summary>
    /// Raises exceptions (FSW bits, with <see cref="F80.C1"/> as the new C1) and says whether the
    /// result may be written: false when an unmasked invalid, denormal or divide-by-zero
    /// exception aborts the instruction.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool X87Commit(uint flags)
    {
        if ((flags & ~X87.Control & (F80.IE | F80.DE | F80.ZE)) != 0)
        {
            // The instruction stops before computing: only the pre-computation exceptions show.
            flags &= (flags & F80.SF) != 0 ? F80.IE | F80.DE | F80.ZE | F80.SF | F80.C1 : F80.IE | F80.DE | F80.ZE;
            X87.Status = (ushort)((X87.Status & 0xFDFFu) | flags);
            return false;
        }

        X87.Status = (ushort)((X87.Status & 0xFDFFu) | (flags & 0x27Fu));
        return true;
    }

    /// <summary>Pushes a value; on a full stack, the masked response pushes the indefinite (C1=1, IE, SF).</summary>
    internal void X87Push(Float80 v, uint flags)
    {
        var t = (X87.Top - 1) & 7;
        if ((X87.Tags & (1 << t)) != 0)
        {
            flags = (flags & ~F80.C1) | F80.IE | F80.SF | F80.C1;
            if (!X87Commit(flags))
            {
                return;
            }

            v = Float80.Indefinite;
        }
        else if (!X87Commit(flags & ~F80.C1))
        {
            return;
        }

        X87.Top = t;
        X87.Regs[t] = v;
        X87.Tags |= (byte)(1 << t);
    }

    /// <summary>Signals a stack underflow (IE, SF, C1=0); true when masked (the instruction goes on with the indefinite).</summary>
    internal bool X87Underflow()
    {
        return X87Commit(F80.IE | F80.SF);
    }
}
