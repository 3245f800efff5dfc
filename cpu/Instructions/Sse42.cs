using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using static UserModeOS.Cpu.Instructions.Sse;
using X86Sse42 = System.Runtime.Intrinsics.X86.Sse42;

namespace UserModeOS.Cpu.Instructions;

/// <summary>The element format of a PCMPxSTRx (imm8 bits 1:0): unsigned/signed bytes or words.</summary>
internal interface IStrFormat
{
    /// <summary>Elements per register: 16 or 8.</summary>
    static abstract int N { get; }

    /// <summary>The element-wise compares of <paramref name="b"/> against element <paramref name="i"/> of <paramref name="a"/>, one bit per element.</summary>
    static abstract uint Equal(UInt128 a, int i, UInt128 b);

    /// <summary>Bit j set when b[j] &gt;= a[i] (signed or unsigned per the format).</summary>
    static abstract uint AtLeast(UInt128 a, int i, UInt128 b);

    /// <summary>Bit j set when b[j] &lt;= a[i].</summary>
    static abstract uint AtMost(UInt128 a, int i, UInt128 b);

    /// <summary>Bit j set when a[j] == b[j].</summary>
    static abstract uint EqualEach(UInt128 a, UInt128 b);

    /// <summary>Bit j set when element j is zero (the implicit-length terminator).</summary>
    static abstract uint Zero(UInt128 a);
}

/// <summary>Elements of type T: byte, sbyte, ushort or short.</summary>
internal readonly struct StrFormat<T> : IStrFormat
    where T : unmanaged, INumber<T>
{
    public static int N => 16 / Unsafe.SizeOf<T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Equal(UInt128 a, int i, UInt128 b) =>
        Vector128.Equals(V<T>(b), Vector128.Create(V<T>(a).GetElement(i))).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AtLeast(UInt128 a, int i, UInt128 b) =>
        Vector128.GreaterThanOrEqual(V<T>(b), Vector128.Create(V<T>(a).GetElement(i))).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AtMost(UInt128 a, int i, UInt128 b) =>
        Vector128.LessThanOrEqual(V<T>(b), Vector128.Create(V<T>(a).GetElement(i))).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint EqualEach(UInt128 a, UInt128 b) => Vector128.Equals(V<T>(a), V<T>(b)).ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Zero(UInt128 a) => Vector128.Equals(V<T>(a), Vector128<T>.Zero).ExtractMostSignificantBits();
}

/// <summary>Where PCMPxSTRx take the string lengths from.</summary>
internal unsafe interface IStrLength
{
    static abstract int Length<F>(CpuState c, UInt128 value, byte reg)
        where F : IStrFormat;
}

/// <summary>Implicit: up to the first zero element.</summary>
internal readonly struct ImplicitLength : IStrLength
{
    public static int Length<F>(CpuState c, UInt128 value, byte reg)
        where F : IStrFormat
    {
        var z = F.Zero(value);
        return z == 0 ? F.N : BitOperations.TrailingZeroCount(z);
    }
}

/// <summary>Explicit: the absolute value of EAX/EDX (RAX/RDX with REX.W), saturated to the element count.</summary>
internal readonly struct ExplicitLength<W> : IStrLength
    where W : IWidth
{
    public static int Length<F>(CpuState c, UInt128 value, byte reg)
        where F : IStrFormat
    {
        var v = W.Sext(W.Get(c, reg));
        var abs = v < 0 ? 0UL - (ulong)v : (ulong)v;
        return abs > (ulong)F.N ? F.N : (int)abs;
    }
}

/// <summary>What PCMPxSTRx produce: an index in ECX or a mask in XMM0.</summary>
internal interface IStrOutput
{
    static abstract void Write<F>(CpuState c, uint res, int imm)
        where F : IStrFormat;
}

/// <summary>PCMPxSTRI: ECX = least (imm8[6] = 0) or most significant set bit, the element count if none.</summary>
internal readonly struct StrIndex : IStrOutput
{
    public static void Write<F>(CpuState c, uint res, int imm)
        where F : IStrFormat
    {
        c[Reg.Rcx] = res == 0 ? (uint)F.N
            : (imm & 0x40) == 0 ? (uint)BitOperations.TrailingZeroCount(res)
            : (uint)(31 - BitOperations.LeadingZeroCount(res));
    }
}

/// <summary>PCMPxSTRM: XMM0 = the bit mask (imm8[6] = 0) or it expanded to byte/word elements.</summary>
internal readonly struct StrMask : IStrOutput
{
    public static void Write<F>(CpuState c, uint res, int imm)
        where F : IStrFormat
    {
        if ((imm & 0x40) == 0)
        {
            c.XmmReg(0) = res;
            return;
        }

        UInt128 m = 0;
        var width = 128 / F.N;
        var ones = (UInt128.One << width) - 1;
        for (var i = 0; i < F.N; i++)
        {
            if ((res & (1u << i)) != 0)
            {
                m |= ones << (i * width);
            }
        }

        c.XmmReg(0) = m;
    }
}

/// <summary>
/// SSE4.2: the string compares PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (every imm8 control),
/// PCMPGTQ and CRC32 (CRC-32C, with the SSE4.2 intrinsic when the host has it).
/// </summary>
/// <remarks>
/// The string compares follow the SDM's description (Vol. 2B 4.1): element format, aggregation,
/// polarity and output selection from imm8; invalid elements (at or past a string's length)
/// override the compare results as the SDM's table says. Flags: CF = result non-zero, ZF = the
/// second operand is shorter than a register, SF = the first is, OF = result bit 0, AF = PF = 0.
/// Their memory operand need not be aligned (SDM Table 2-21, note 1).
/// </remarks>
internal static unsafe class Sse42
{
    public static void Register()
    {
        OpTable.Add(Code.Pcmpgtq_xmm_xmmm128, Xmm<Pcmpgtq>());

        OpTable.Add(Code.Pcmpestri_xmm_xmmm128_imm8, BuildStr<ExplicitLength<W32>, StrIndex>);
        OpTable.Add(Code.Pcmpestri64_xmm_xmmm128_imm8, BuildStr<ExplicitLength<W64>, StrIndex>);
        OpTable.Add(Code.Pcmpestrm_xmm_xmmm128_imm8, BuildStr<ExplicitLength<W32>, StrMask>);
        OpTable.Add(Code.Pcmpestrm64_xmm_xmmm128_imm8, BuildStr<ExplicitLength<W64>, StrMask>);
        OpTable.Add(Code.Pcmpistri_xmm_xmmm128_imm8, BuildStr<ImplicitLength, StrIndex>);
        OpTable.Add(Code.Pcmpistrm_xmm_xmmm128_imm8, BuildStr<ImplicitLength, StrMask>);

        foreach (var code in new[] { Code.Crc32_r32_rm8, Code.Crc32_r64_rm8, Code.Crc32_r32_rm16, Code.Crc32_r32_rm32, Code.Crc32_r64_rm64 })
        {
            OpTable.Add(code, BuildCrc32);
        }
    }

    private static bool BuildStr<L, O>(in Instruction insn, ref Op op)
        where L : struct, IStrLength
        where O : struct, IStrOutput
    {
        op.R0 = Operands.Xmm(insn.Op0Register);
        op.Imm = insn.Immediate8;
        var memory = insn.Op1Kind == OpKind.Memory;
        if (memory)
        {
            if (!Operands.Mem(insn, ref op))
            {
                return false;
            }
        }
        else
        {
            op.R1 = Operands.Xmm(insn.Op1Register);
        }

        op.Handler = (insn.Immediate8 & 3, memory) switch
        {
            (0, false) => &Str<StrFormat<byte>, L, O, SrcXmm>,
            (1, false) => &Str<StrFormat<ushort>, L, O, SrcXmm>,
            (2, false) => &Str<StrFormat<sbyte>, L, O, SrcXmm>,
            (3, false) => &Str<StrFormat<short>, L, O, SrcXmm>,
            (0, true) => &Str<StrFormat<byte>, L, O, SrcM128>,
            (1, true) => &Str<StrFormat<ushort>, L, O, SrcM128>,
            (2, true) => &Str<StrFormat<sbyte>, L, O, SrcM128>,
            _ => &Str<StrFormat<short>, L, O, SrcM128>,
        };
        return true;
    }

    private const byte Rax = 0;
    private const byte Rdx = 2 * 8;

    private static int Str<F, L, O, S>(CpuState c, Op* op)
        where F : struct, IStrFormat
        where L : struct, IStrLength
        where O : struct, IStrOutput
        where S : struct, IXmmSrc
    {
        S.Load(c, op, out var b);
        var a = c.XmmReg(op->R0);
        var imm = (int)(byte)op->Imm;
        var la = L.Length<F>(c, a, Rax);
        var lb = L.Length<F>(c, b, Rdx);
        var res = Compare<F>(a, b, la, lb, imm);
        O.Write<F>(c, res, imm);

        var flags = (res != 0 ? CpuState.CF : 0)
            | (lb < F.N ? CpuState.ZF : 0)
            | (la < F.N ? CpuState.SF : 0)
            | ((res & 1) != 0 ? CpuState.OF : 0);
        BitOps.SetAllFlags(c, flags);
        return 0;
    }

    /// <summary>IntRes2 of the SDM: the aggregated compare of a (first operand) and b, after polarity.</summary>
    internal static uint Compare<F>(UInt128 a, UInt128 b, int la, int lb, int imm)
        where F : IStrFormat
    {
        var n = F.N;
        var all = (1u << n) - 1;
        var validA = (1u << la) - 1;
        var validB = (1u << lb) - 1;
        uint res = 0;
        switch ((imm >> 2) & 3)
        {
            case 0:
                // Equal any: b[j] matches any valid a[i].
                for (var i = 0; i < la; i++)
                {
                    res |= F.Equal(a, i, b);
                }

                res &= validB;
                break;
            case 1:
                // Ranges: a holds (low, high) pairs; b[j] is in any of them.
                for (var i = 0; i + 1 < la; i += 2)
                {
                    res |= F.AtLeast(a, i, b) & F.AtMost(a, i + 1, b);
                }

                res &= validB;
                break;
            case 2:
                // Equal each: both valid and equal, or both invalid.
                res = (F.EqualEach(a, b) & validA & validB) | (all & ~validA & ~validB);
                break;
            default:
                // Equal ordered: a occurs in b starting at j (a's invalid tail matches anything, b's does not).
                res = all;
                for (var i = 0; i < la; i++)
                {
                    var m = F.Equal(a, i, b) & validB;
                    res &= (m >> i) | (all & ~((1u << (n - i)) - 1));
                }

                break;
        }

        return ((imm >> 4) & 3) switch
        {
            1 => ~res & all,
            3 => res ^ validB,
            _ => res,
        };
    }

    private static bool BuildCrc32(in Instruction insn, ref Op op)
    {
        op.R0 = Operands.Gpr(insn.Op0Register);
        var size = RmSource.Fill(insn, 1, ref op, out var memory);
        op.Handler = memory
            ? Sized.Pick(size, &Crc32<W8, RmSource.Mem>, &Crc32<W16, RmSource.Mem>, &Crc32<W32, RmSource.Mem>, &Crc32<W64, RmSource.Mem>)
            : Sized.Pick(size, &Crc32<W8, RmSource.Reg>, &Crc32<W16, RmSource.Reg>, &Crc32<W32, RmSource.Reg>, &Crc32<W64, RmSource.Reg>);
        return op.Handler != null;
    }

    /// <summary>CRC32: the destination's low 32 bits accumulate the source; the result is zero-extended (also for r64). No flags change.</summary>
    private static int Crc32<W, S>(CpuState c, Op* op)
        where W : IWidth
        where S : struct, RmSource.ISource
    {
        var data = S.Read<W>(c, op);
        c.Reg64(op->R0) = Crc32C.Update((uint)c.Reg64(op->R0), data, W.Bits / 8);
        return 0;
    }
}

/// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) as the CRC32 instruction computes it.</summary>
internal static class Crc32C
{
    private static readonly uint[] Table = MakeTable();

    /// <summary>Feeds the low <paramref name="bytes"/> bytes of <paramref name="data"/> (little-endian) into <paramref name="crc"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Update(uint crc, ulong data, int bytes)
    {
        if (X86Sse42.X64.IsSupported)
        {
            return bytes switch
            {
                1 => X86Sse42.Crc32(crc, (byte)data),
                2 => X86Sse42.Crc32(crc, (ushort)data),
                4 => X86Sse42.Crc32(crc, (uint)data),
                _ => (uint)X86Sse42.X64.Crc32(crc, data),
            };
        }

        return Soft(crc, data, bytes);
    }

    /// <summary>The portable path: one table lookup per byte.</summary>
    public static uint Soft(uint crc, ulong data, int bytes)
    {
        for (var i = 0; i < bytes; i++)
        {
            crc = Table[(byte)(crc ^ (byte)(data >> (8 * i)))] ^ (crc >> 8);
        }

        return crc;
    }

    private static uint[] MakeTable()
    {
        var t = new uint[256];
        for (var i = 0u; i < 256; i++)
        {
            var r = i;
            for (var k = 0; k < 8; k++)
            {
                r = (r & 1) != 0 ? (r >> 1) ^ 0x82F6_3B78u : r >> 1;
            }

            t[i] = r;
        }

        return t;
    }
}

/// <summary>PCMPGTQ: signed 64-bit greater-than, all ones or zero per lane.</summary>
internal struct Pcmpgtq : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) =>
        U(Vector128.GreaterThan(V<long>(a), V<long>(b)));
}
