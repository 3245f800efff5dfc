using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>SSSE3 against the host, XMM and MM forms. MM cases load MM0-7 from the scratch page and store them back (see <see cref="MmxTests"/>).</summary>
[TestFixture]
public sealed class Ssse3Tests
{
    private const int MmIn = 0xC00, MmOut = 0xE00;

    private static readonly AssemblerRegisterMM[] Mm = [mm0, mm1, mm2, mm3, mm4, mm5, mm6, mm7];

    private static readonly string[] BinaryOps =
    [
        "Pshufb", "Phaddw", "Phaddd", "Phaddsw", "Phsubw", "Phsubd", "Phsubsw", "Pmaddubsw", "Pmulhrsw",
        "Psignb", "Psignw", "Psignd", "Pabsb", "Pabsw", "Pabsd",
    ];

    /// <summary>Lane edge values: the signed limits at every width and the saturation corners of the word ops.</summary>
    private static readonly UInt128[] Vectors =
    [
        SseKit.X(0, 0),
        SseKit.X(ulong.MaxValue, ulong.MaxValue),
        SseKit.X(0x7F7F_7F7F_7F7F_7F7F, 0x8080_8080_8080_8080),
        SseKit.X(0x7FFF_8000_7FFF_8000, 0x8000_7FFF_FFFF_0001),
        SseKit.X(0x8000_0000_7FFF_FFFF, 0x7FFF_FFFF_8000_0000),
        SseKit.X(0x7FFF_7FFF_8000_8000, 0x7FFF_0001_8000_FFFF),
        SseKit.X(0x00FF_00FF_FF00_FF00, 0x0102_0304_FEFD_FCFB),
        SseKit.X(0x0001_0001_0001_0001, 0xFFFE_FFFE_0002_0002),
        SseKit.X(0x1234_5678_9ABC_DEF0, 0x0FED_CBA9_8765_4321),
        SseKit.X(0xFFFF_FFFF_FF7F_FF80, 0x7F80_807F_4000_C000),
        SseKit.X(0x4000_4000_C000_C000, 0x2000_E000_0001_FFFF),
        SseKit.X(0xC3A5_5A3C_F00F_0FF0, 0x0000_0000_0000_0011),
    ];

    /// <summary>64-bit lane edge values for the MM forms.</summary>
    private static readonly ulong[] Values =
    [
        0, ulong.MaxValue, 0x7F7F_7F7F_8080_8080, 0x7FFF_8000_7FFF_8000, 0x8000_0000_7FFF_FFFF, 0x7FFF_7FFF_8000_8000,
        0x00FF_00FF_FF00_FF00, 0x0102_0304_FEFD_FCFB, 0xFFFE_FFFE_0001_0001, 0x1234_5678_9ABC_DEF0, 0xFFFF_FFFF_FF7F_FF80,
        0x4000_4000_C000_C000, 0x8000_8000_8000_8000, 0x0F87_0706_8F10_1F00,
    ];

    private static readonly Random Rng = new(333);

    private static UInt128 Random128() => new((ulong)Rng.NextInt64() ^ ((ulong)Rng.Next() << 63), (ulong)Rng.NextInt64() ^ ((ulong)Rng.Next() << 40));

    private static ulong[] PatternMm() => [.. Enumerable.Range(0, 8).Select(i => 0x9E37_79B9_7F4A_7C15UL * (ulong)(i + 3))];

    /// <summary>A case with MM0-7 loaded from the scratch page (overrides in <paramref name="mm"/>) and stored back after the code.</summary>
    private static DiffCase MmCase(string name, Action<Assembler> code, (int Reg, ulong Value)[]? mm = null, (int Offset, ulong Value)[]? memory = null)
    {
        var s = CaseKit.PatternScratch(0x1000);
        var m = PatternMm();
        foreach (var (r, v) in mm ?? [])
        {
            m[r] = v;
        }

        for (var i = 0; i < 8; i++)
        {
            CaseKit.Store(s, MmIn + (8 * i), 8, m[i]);
        }

        foreach (var (offset, v) in memory ?? [])
        {
            CaseKit.Store(s, offset, 8, v);
        }

        return SseKit.Case(
            name,
            a =>
            {
                for (var i = 0; i < 8; i++)
                {
                    a.movq(Mm[i], __qword_ptr[rbx + (MmIn + (8 * i))]);
                }

                code(a);
                for (var i = 0; i < 8; i++)
                {
                    a.movq(__qword_ptr[rbx + (MmOut + (8 * i))], Mm[i]);
                }
            },
            scratch: s);
    }

    [Test]
    public void BinaryOps_Xmm([ValueSource(nameof(BinaryOps))] string op)
    {
        var code = SseKit.CodeOf($"{op}_xmm_xmmm128");
        var cases = new List<DiffCase>();
        var vectors = Vectors.Concat(Enumerable.Range(0, 6).Select(_ => Random128())).ToList();
        foreach (var a in vectors)
        {
            foreach (var b in vectors)
            {
                cases.Add(SseKit.Case($"{op} {a:X32}, {b:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM2, Register.XMM11)), xmm: [(2, a), (11, b)]));
            }
        }

        cases.Add(SseKit.Case($"{op} xmm6, xmm6", SseKit.Emit(Instruction.Create(code, Register.XMM6, Register.XMM6))));
        cases.Add(SseKit.Case($"{op} xmm9, [rbx+0x30]", SseKit.Emit(Instruction.Create(code, Register.XMM9, new MemoryOperand(Register.RBX, 0x30)))));
        cases.Add(SseKit.Case($"{op} xmm15, [rip]", SseKit.Emit(Instruction.Create(code, Register.XMM15, new MemoryOperand(Register.RIP, (long)ScratchAddress + 0x200)))));
        AssertSameAsHost(cases);
    }

    [Test]
    public void BinaryOps_Mm([ValueSource(nameof(BinaryOps))] string op)
    {
        var code = SseKit.CodeOf($"{op}_mm_mmm64");
        var cases = new List<DiffCase>();
        var values = Values.Concat(Enumerable.Range(0, 4).Select(_ => (ulong)Rng.NextInt64())).ToList();
        foreach (var a in values)
        {
            foreach (var b in values)
            {
                cases.Add(MmCase($"{op} {a:X16}, {b:X16}", SseKit.Emit(Instruction.Create(code, Register.MM2, Register.MM5)), mm: [(2, a), (5, b)]));
            }
        }

        cases.Add(MmCase($"{op} mm6, mm6", SseKit.Emit(Instruction.Create(code, Register.MM6, Register.MM6))));

        // The m64 operand of an MM form needs no alignment.
        foreach (var mode in CaseKit.MemoryModes)
        {
            var c = MmCase($"{op} mm3, {mode}", SseKit.Emit(Instruction.Create(code, Register.MM3, mode.Operand)));
            mode.Apply(c.Gpr);
            cases.Add(c);
        }

        AssertSameAsHost(cases);
    }

    /// <summary>Every control byte 0-255 (the top bit zeroing, the ignored bits 4-6) against a distinct-byte destination.</summary>
    [Test]
    public void Pshufb_AllControlBytes()
    {
        var data = SseKit.X(0xF0E1_D2C3_B4A5_9687, 0x7869_5A4B_3C2D_1E0F);
        var cases = new List<DiffCase>();
        for (var k = 0; k < 16; k++)
        {
            UInt128 control = 0;
            for (var i = 0; i < 16; i++)
            {
                control |= (UInt128)(byte)((16 * k) + ((i * 7) & 15)) << (8 * i);
            }

            cases.Add(SseKit.Case($"pshufb control {control:X32}", a => a.pshufb(xmm1, xmm2), xmm: [(1, data), (2, control)]));
            cases.Add(SseKit.Case($"pshufb mem control {control:X32}", a => a.pshufb(xmm1, __xmmword_ptr[rbx + 0x40]), xmm: [(1, data)], scratch: SseKit.ScratchWith(0, 0, 0, 0, control)));
        }

        for (var k = 0; k < 32; k++)
        {
            ulong control = 0;
            for (var i = 0; i < 8; i++)
            {
                control |= (ulong)(byte)((8 * k) + ((i * 3) & 7)) << (8 * i);
            }

            cases.Add(MmCase($"pshufb mm control {control:X16}", a => a.pshufb(mm1, mm2), mm: [(1, 0x8877_6655_4433_2211), (2, control)]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Palignr_AllShifts()
    {
        var cases = new List<DiffCase>();
        var d = SseKit.X(0x1F1E_1D1C_1B1A_1918, 0x1716_1514_1312_1110);
        var s = SseKit.X(0x0F0E_0D0C_0B0A_0908, 0x0706_0504_0302_0100);
        foreach (var n in Enumerable.Range(0, 34).Concat([47, 64, 128, 255]))
        {
            cases.Add(SseKit.Case($"palignr xmm3, xmm4, {n}", a => a.palignr(xmm3, xmm4, (byte)n), xmm: [(3, d), (4, s)]));
            cases.Add(SseKit.Case($"palignr xmm3, xmm3, {n}", a => a.palignr(xmm3, xmm3, (byte)n), xmm: [(3, d)]));
            cases.Add(SseKit.Case($"palignr xmm3, [rbx+0x20], {n}", a => a.palignr(xmm3, __xmmword_ptr[rbx + 0x20], (byte)n), xmm: [(3, d)]));
            cases.Add(MmCase($"palignr mm3, mm4, {n}", a => a.palignr(mm3, mm4, (byte)n), mm: [(3, 0x0F0E_0D0C_0B0A_0908), (4, 0x0706_0504_0302_0100)]));
            cases.Add(MmCase($"palignr mm3, [rbx+0x23], {n}", a => a.palignr(mm3, __qword_ptr[rbx + 0x23], (byte)n)));
        }

        AssertSameAsHost(cases);
    }

    /// <summary>Random operands for the saturating and rounding multiplies and the saturating horizontal ops.</summary>
    [Test]
    public void SaturationEdges_Random()
    {
        var cases = new List<DiffCase>();
        var rng = new Random(99);
        UInt128 Pick()
        {
            // Words near the limits, so sums, products and their roundings saturate or wrap.
            UInt128 v = 0;
            for (var i = 0; i < 8; i++)
            {
                var w = rng.Next(6) switch { 0 => 0x7FFF - rng.Next(3), 1 => 0x8000 + rng.Next(3), 2 => 0xFFFF - rng.Next(2), 3 => 0x4000 + rng.Next(-2, 3), _ => rng.Next(0x10000) };
                v |= (UInt128)(ushort)w << (16 * i);
            }

            return v;
        }

        foreach (var op in new[] { "Phaddsw", "Phsubsw", "Pmaddubsw", "Pmulhrsw", "Phaddw", "Phsubw" })
        {
            var code = SseKit.CodeOf($"{op}_xmm_xmmm128");
            for (var i = 0; i < 64; i++)
            {
                var (a, b) = (Pick(), Pick());
                cases.Add(SseKit.Case($"{op} {a:X32}, {b:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM0, Register.XMM1)), xmm: [(0, a), (1, b)]));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Misaligned_M128_IsGeneralProtection()
    {
        SseKit.AssertGeneralProtection(SseKit.Case("pshufb misaligned", a => a.pshufb(xmm0, __xmmword_ptr[rbx + 8])));
        SseKit.AssertGeneralProtection(SseKit.Case("palignr misaligned", a => a.palignr(xmm0, __xmmword_ptr[rbx + 4], 3)));
        SseKit.AssertGeneralProtection(SseKit.Case("pabsd misaligned", a => a.pabsd(xmm0, __xmmword_ptr[rbx + 1])));
        SseKit.AssertGeneralProtection(SseKit.Case("phaddw misaligned", a => a.phaddw(xmm0, __xmmword_ptr[rbx + 0x1C])));
    }
}
