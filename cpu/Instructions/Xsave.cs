using System.Buffers.Binary;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// The XSAVE feature set for the two state components this CPU has, x87 (bit 0) and SSE
/// (bit 1), so XCR0 = 3: XGETBV, XSAVE, XSAVEOPT, XSAVEC, XRSTOR (and the REX.W forms), with
/// XSETBV a #GP as in user mode.
/// </summary>
/// <remarks>
/// <para>
/// Layout (SDM Vol. 1 13.4): the legacy region is the FXSAVE image of
/// <see cref="CpuState.SaveFxState"/> (x87 in bytes 0-23 and 32-159, MXCSR and MXCSR_MASK in
/// 24-31, XMM0-15 in 160-415; 416-511 are never written), then the 64-byte header at 512:
/// XSTATE_BV, XCOMP_BV (bit 63 = compacted format) and reserved bytes. No extended region:
/// both components live in the legacy region in either format, so an area is 576 bytes.
/// The instruction mask is RFBM = EDX:EAX &amp; XCR0; the area must be 64-byte aligned (#GP).
/// </para>
/// <para>
/// XINUSE (which components are not in their initial configuration) is derived from the
/// values, as the AMD host does: x87 is in use unless FCW = 037Fh, FSW = 0, all tags empty,
/// FOP/FIP/FDP = 0 and R0-R7 all zero; SSE is in use unless XMM0-15 are zero (MXCSR does not
/// count, as the SDM says and the host shows). XSAVE stores every requested component; XSAVEOPT
/// skips the x87 and XMM parts of components not in use (MXCSR is always stored) and XSAVEC
/// stores only requested components in use, SSE also when MXCSR is not 1F80h (init
/// optimization). XSAVE and XSAVEOPT set XSTATE_BV[i] = XINUSE[i] for requested i and keep the
/// other bits; XSAVEC writes XSTATE_BV = the components it stored and XCOMP_BV = RFBM | 2^63.
/// The modified optimization is never applied (the SDM allows that).
/// </para>
/// <para>
/// XRSTOR follows the SDM's operation for the standard and the compacted form, including the
/// #GP checks (XSTATE_BV or XCOMP_BV bits outside XCR0, non-zero reserved header bytes, reserved
/// MXCSR bits), all made before any state changes. A component whose XSTATE_BV bit is clear is
/// initialized (the compacted form also resets MXCSR to 1F80h; the standard form loads MXCSR
/// whenever SSE is requested).
/// </para>
/// </remarks>
internal static unsafe class Xsave
{
    /// <summary>XCR0: x87 and SSE state enabled (and supported).</summary>
    public const ulong Xcr0 = 3;

    /// <summary>Bytes of an XSAVE area for <see cref="Xcr0"/>: the legacy region and the header.</summary>
    public const int AreaSize = 576;

    private const int Header = 512;
    private const ulong X87 = 1, Sse = 2;
    private const ulong Compacted = 1UL << 63;

    public static void Register()
    {
        OpTable.Add(Code.Xgetbv, SystemOps.Simple(&Xgetbv));
        OpTable.Add(Code.Xsetbv, SystemOps.Simple(&GeneralProtection));
        OpTable.Add(Code.Xsave_mem, BuildMem(&SaveStandard));
        OpTable.Add(Code.Xsave64_mem, BuildMem(&SaveStandard));
        OpTable.Add(Code.Xsaveopt_mem, BuildMem(&SaveOpt));
        OpTable.Add(Code.Xsaveopt64_mem, BuildMem(&SaveOpt));
        OpTable.Add(Code.Xsavec_mem, BuildMem(&SaveCompacted));
        OpTable.Add(Code.Xsavec64_mem, BuildMem(&SaveCompacted));
        OpTable.Add(Code.Xrstor_mem, BuildMem(&Restore));
        OpTable.Add(Code.Xrstor64_mem, BuildMem(&Restore));
    }

    private static OpBuilder BuildMem(delegate*<CpuState, Op*, int> handler) => (in Instruction insn, ref Op op) =>
    {
        op.Handler = handler;
        return Operands.Mem(insn, ref op);
    };

    /// <summary>XINUSE: bit 0 when the x87 state, bit 1 when the XMM registers are not in their initial configuration.</summary>
    internal static ulong InUse(CpuState c)
    {
        var r = X87Initial(c) ? 0 : X87;
        for (var i = 0; i < 16; i++)
        {
            if (c.XmmReg(i) != 0)
            {
                return r | Sse;
            }
        }

        return r;
    }

    private static bool X87Initial(CpuState c)
    {
        ref var x = ref c.X87;
        if (x.Control != X87State.DefaultControl || x.Status != 0 || x.Top != 0 || x.Tags != 0 || x.Fip != 0 || x.Fdp != 0 || c.X87Opcode != 0)
        {
            return false;
        }

        for (var i = 0; i < 8; i++)
        {
            if (x.Regs[i].SignExponent != 0 || x.Regs[i].Significand != 0)
            {
                return false;
            }
        }

        return true;
    }

    private static ulong RequestedFeatures(CpuState c) => (((c[Reg.Rdx] & 0xFFFF_FFFF) << 32) | (c[Reg.Rax] & 0xFFFF_FFFF)) & Xcr0;

    /// <summary>
    /// XGETBV: ECX = 0 reads XCR0, ECX = 1 reads XINUSE &amp; XCR0, where (as on the AMD host) SSE
    /// also counts as in use while MXCSR is not 1F80h; any other register is #GP.
    /// </summary>
    private static int Xgetbv(CpuState c, Op* op)
    {
        ulong v;
        switch ((uint)c[Reg.Rcx])
        {
            case 0: v = Xcr0; break;
            case 1: v = (InUse(c) | (c.Mxcsr != 0x1F80 ? Sse : 0)) & Xcr0; break;
            default: return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        c[Reg.Rax] = (uint)v;
        c[Reg.Rdx] = v >> 32;
        return 0;
    }

    private static int GeneralProtection(CpuState c, Op* op) => c.ExitAt(op, ExitReason.GeneralProtection);

    private static int SaveStandard(CpuState c, Op* op) => Save(c, op, SaveKind.Standard);

    private static int SaveOpt(CpuState c, Op* op) => Save(c, op, SaveKind.Optimized);

    private static int SaveCompacted(CpuState c, Op* op) => Save(c, op, SaveKind.Compacted);

    private enum SaveKind
    {
        Standard,
        Optimized,
        Compacted,
    }

    private static int Save(CpuState c, Op* op, SaveKind kind)
    {
        var a = c.Ea(op);
        if ((a & 63) != 0)
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        // Fault (if at all) before anything is written: the area spans at most two pages.
        var end = a + (ulong)(kind == SaveKind.Compacted ? Header + 16 : Header + 8) - 1;
        c.TranslateWrite(a, 1);
        c.TranslateWrite(end, 1);

        var rfbm = RequestedFeatures(c);
        var inUse = InUse(c);
        var saved = kind == SaveKind.Standard ? rfbm : rfbm & inUse;
        if (kind == SaveKind.Compacted && c.Mxcsr != 0x1F80)
        {
            // MXCSR is part of the SSE component but not of XINUSE[1]: XSAVEC saves SSE state when it is not at its default.
            saved |= rfbm & Sse;
        }

        Span<byte> image = stackalloc byte[CpuState.FxStateBytes];
        c.SaveFxState(image);

        if ((saved & X87) != 0)
        {
            Store(c, a, image, 0, 24);
            Store(c, a, image, 32, 160);
        }

        var mxcsr = kind == SaveKind.Compacted ? saved & Sse : rfbm & Sse;
        if (mxcsr != 0)
        {
            Store(c, a, image, 24, 32);
        }

        if ((saved & Sse) != 0)
        {
            Store(c, a, image, 160, CpuState.FxStateBytes);
        }

        if (kind == SaveKind.Compacted)
        {
            c.Write64(a + Header, saved);
            c.Write64(a + Header + 8, rfbm | Compacted);
        }
        else
        {
            var old = c.Read64(a + Header);
            c.Write64(a + Header, (old & ~rfbm) | (inUse & rfbm));
        }

        return 0;
    }

    private static void Store(CpuState c, ulong a, ReadOnlySpan<byte> image, int from, int to)
    {
        for (var i = from; i < to; i += 8)
        {
            c.Write64(a + (ulong)i, BinaryPrimitives.ReadUInt64LittleEndian(image[i..]));
        }
    }

    private static void Load(CpuState c, ulong a, Span<byte> image, int from, int to)
    {
        for (var i = from; i < to; i += 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image[i..], c.Read64(a + (ulong)i));
        }
    }

    private static int Restore(CpuState c, Op* op)
    {
        var a = c.Ea(op);
        if ((a & 63) != 0)
        {
            return c.ExitAt(op, ExitReason.GeneralProtection);
        }

        c.Read8(a);
        c.Read8(a + AreaSize - 1);
        var rfbm = RequestedFeatures(c);
        var bv = c.Read64(a + Header);
        var comp = c.Read64(a + Header + 8);
        ulong restore, init;
        bool loadMxcsr, initMxcsr;
        if ((comp & Compacted) == 0)
        {
            // Standard form: XSTATE_BV within XCR0, header bytes 8-23 zero.
            if ((bv & ~Xcr0) != 0 || comp != 0 || c.Read64(a + Header + 16) != 0)
            {
                return c.ExitAt(op, ExitReason.GeneralProtection);
            }

            restore = rfbm & bv;
            init = rfbm & ~bv;
            loadMxcsr = (rfbm & Sse) != 0;
            initMxcsr = false;
        }
        else
        {
            // Compacted form: XCOMP_BV within XCR0, XSTATE_BV within XCOMP_BV, header bytes 16-63 zero.
            var format = comp & ~Compacted;
            if ((format & ~Xcr0) != 0 || (bv & ~format) != 0)
            {
                return c.ExitAt(op, ExitReason.GeneralProtection);
            }

            for (var i = 16; i < 64; i += 8)
            {
                if (c.Read64(a + Header + (ulong)i) != 0)
                {
                    return c.ExitAt(op, ExitReason.GeneralProtection);
                }
            }

            restore = rfbm & format & bv;
            init = (rfbm & ~bv) | (rfbm & ~format);
            loadMxcsr = (restore & Sse) != 0;
            initMxcsr = (init & Sse) != 0;
        }

        Span<byte> image = stackalloc byte[CpuState.FxStateBytes];
        c.SaveFxState(image);
        if ((restore & X87) != 0)
        {
            Load(c, a, image, 0, 24);
            Load(c, a, image, 32, 160);
        }

        if (loadMxcsr)
        {
            var mxcsr = c.Read32(a + 24);
            if ((mxcsr & ~CpuState.MxcsrWritable) != 0)
            {
                return c.ExitAt(op, ExitReason.GeneralProtection);
            }

            BinaryPrimitives.WriteUInt32LittleEndian(image[24..], mxcsr);
        }

        if ((restore & Sse) != 0)
        {
            Load(c, a, image, 160, CpuState.FxStateBytes);
        }

        // The image holds the current state except where it was loaded from memory; the x87
        // state is put back exactly when it is not restored (the image drops FIP/FDP/FOP).
        var x87 = c.X87;
        c.RestoreFxState(image);
        if ((restore & X87) == 0)
        {
            c.X87 = x87;
        }

        if ((init & X87) != 0)
        {
            c.X87 = X87State.Initial;
        }

        if ((init & Sse) != 0)
        {
            c.Xmm = default;
            if (initMxcsr)
            {
                c.Mxcsr = 0x1F80;
            }
        }

        return 0;
    }
}
