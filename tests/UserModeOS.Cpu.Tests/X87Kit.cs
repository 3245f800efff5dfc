using Iced.Intel;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// Building blocks for x87 differential cases. Every case starts from a clean FPU and the
/// harness compares the whole x87 state it leaves (FXSAVE), so a case only has to load its
/// operands and run the instruction. Operands live in the scratch page: RBX points at it.
/// </summary>
internal static class X87Kit
{
    /// <summary>Scratch offsets: A, B (80-bit operands), M (a memory operand), CW (the control word), Out (results).</summary>
    public const int A = 0x00, B = 0x10, M = 0x20, CW = 0x30, Out = 0x100;

    /// <summary>Round to nearest/down/up/toward zero, each at 64, 53 and 24 bits; then the default.</summary>
    public static readonly ushort[] ControlWords = [.. new[] { 0x0000, 0x0400, 0x0800, 0x0C00 }.SelectMany(rc => new[] { 0x037F, 0x027F, 0x007F }.Select(pc => (ushort)((pc & ~0x0C00) | rc)))];

    public static readonly ushort[] RoundingModes = [0x037F, 0x077F, 0x0B7F, 0x0F7F];

    public static Float80 F(ushort se, ulong m) => new(se, m);

    /// <summary>Edge values: zeros, ones, the extremes, denormals and pseudo-denormals, infinities, NaNs and unsupported encodings.</summary>
    public static readonly Float80[] Edges =
    [
        F(0x0000, 0), F(0x8000, 0),
        F(0x3FFF, 0x8000_0000_0000_0000), F(0xBFFF, 0x8000_0000_0000_0000),
        F(0x4000, 0xC000_0000_0000_0000), F(0x3FFF, 0x8000_0000_0000_0001), F(0x3FFE, 0xFFFF_FFFF_FFFF_FFFF),
        F(0x4000, 0xC90F_DAA2_2168_C235), F(0xC00A, 0xABCD_EF01_2345_6789),
        F(0x7FFE, 0xFFFF_FFFF_FFFF_FFFF), F(0xFFFE, 0xFFFF_FFFF_FFFF_FFFF),
        F(0x0001, 0x8000_0000_0000_0000), F(0x8001, 0x8000_0000_0000_0001),
        F(0x0000, 0x0000_0000_0000_0001), F(0x8000, 0x7FFF_FFFF_FFFF_FFFF), F(0x0000, 0x4000_0000_0000_0000),
        F(0x0000, 0x8000_0000_0000_0000), F(0x8000, 0x8000_0000_0000_0123),
        F(0x7FFF, 0x8000_0000_0000_0000), F(0xFFFF, 0x8000_0000_0000_0000),
        F(0x7FFF, 0xC000_0000_0000_0001), F(0xFFFF, 0xC000_0000_0000_0000), F(0x7FFF, 0xE123_4567_89AB_CDEF),
        F(0x7FFF, 0x8000_0000_0000_0001), F(0xFFFF, 0xA000_0000_0000_0000),
        F(0x3FFF, 0x4000_0000_0000_0000), F(0x7FFF, 0x0000_0000_0000_0000), F(0x7FFF, 0x4000_0000_0000_0001),
        F(0x403E, 0xFFFF_FFFF_FFFF_FFFF), F(0x3FBF, 0x8000_0000_0000_0000),
    ];

    /// <summary>A random value: mostly moderate exponents, some near the extremes, some denormal.</summary>
    public static Float80 Random(Random rng, bool allowSpecial = false)
    {
        var m = (ulong)rng.NextInt64() | (1UL << 63);
        var sign = rng.Next(2) == 0 ? 0 : 0x8000;
        var e = rng.Next(10) switch
        {
            0 => rng.Next(1, 70),
            1 => rng.Next(0x7FC0, 0x7FFF),
            2 => 0,
            3 => rng.Next(0x3FFF - 3, 0x3FFF + 3),
            _ => rng.Next(0x3FFF - 80, 0x3FFF + 80),
        };
        if (e == 0)
        {
            m >>= rng.Next(1, 64);
        }

        if (allowSpecial && rng.Next(8) == 0)
        {
            return Edges[rng.Next(Edges.Length)];
        }

        return F((ushort)(sign | e), m);
    }

    /// <summary>Values whose low significand bits sit at rounding boundaries for 24, 53 and 64 bits.</summary>
    public static Float80 RoundingProbe(Random rng)
    {
        var m = (ulong)rng.NextInt64() | (1UL << 63);
        m = rng.Next(6) switch
        {
            0 => (m & ~0xFF_FFFF_FFFFUL) | 0x80_0000_0000UL,
            1 => (m & ~0x7FFUL) | 0x400UL,
            2 => m | 0xFF_FFFF_FFFFUL,
            3 => m | 0x7FF,
            4 => (m & ~0x7FFUL) | 0x401UL,
            _ => m,
        };
        return F((ushort)((rng.Next(2) == 0 ? 0 : 0x8000) | rng.Next(0x3FFF - 64, 0x3FFF + 64)), m);
    }

    public static void Put(byte[] s, int at, Float80 v)
    {
        CaseKit.Store(s, at, 8, v.Significand);
        CaseKit.Store(s, at + 8, 2, v.SignExponent);
    }

    /// <summary>A scratch page with A, B and the control word set (and a memory operand when given).</summary>
    public static byte[] Scratch(Float80 a, Float80 b, ushort cw = 0x037F, ulong mem = 0, int memBytes = 8)
    {
        var s = new byte[0x200];
        Put(s, A, a);
        Put(s, B, b);
        CaseKit.Store(s, M, memBytes, mem);
        CaseKit.Store(s, CW, 2, cw);
        return s;
    }

    public static DiffCase Case(string name, Action<Assembler> code, byte[] scratch, ulong flags = 0, ulong flagsMask = Differential.Differential.ArithmeticFlags)
    {
        var g = CaseKit.BackgroundGpr();
        g[(int)Reg.Rbx] = Differential.Differential.ScratchAddress;
        return new DiffCase { Name = name, Code = code, Gpr = g, Scratch = scratch, Flags = flags, FlagsMask = flagsMask };
    }

    /// <summary>Loads the control word and pushes B then A: ST0 = A, ST1 = B.</summary>
    public static void LoadAB(Assembler a)
    {
        a.fldcw(__word_ptr[rbx + CW]);
        a.fld(__tword_ptr[rbx + B]);
        a.fld(__tword_ptr[rbx + A]);
    }

    public static string Show(Float80 v) => v.ToString();
}
