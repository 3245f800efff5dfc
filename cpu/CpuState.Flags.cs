using System.Numerics;
using System.Runtime.CompilerServices;

namespace UserModeOS.Cpu;

/// <summary>How the arithmetic flags are derived from the lazily recorded operation.</summary>
public enum FlagKind
{
    /// <summary>FlagRes holds CF|PF|AF|ZF|SF|OF as RFLAGS bits.</summary>
    Materialized,
    Add,
    Sub,
    /// <summary>AND/OR/XOR/TEST: CF=OF=AF=0.</summary>
    Logic,
    /// <summary>INC: FlagSrc holds the preserved CF.</summary>
    Inc,
    /// <summary>DEC: FlagSrc holds the preserved CF.</summary>
    Dec,
    /// <summary>ZF/SF/PF from FlagRes; CF, AF and OF are RFLAGS bits in FlagSrc.</summary>
    Explicit,
}

// Lazy flags: flag-setting ops record (kind, size, operands, result); a flag is computed
// only when something reads it. Operands and result are stored truncated to the size.
public sealed partial class CpuState
{
    public const ulong CF = 1, PF = 1 << 2, AF = 1 << 4, ZF = 1 << 6, SF = 1 << 7, DF = 1 << 10, OF = 1 << 11;
    public const ulong ArithFlags = CF | PF | AF | ZF | SF | OF;

    /// <summary>Bits 0-2: log2 of the operand size; bits 3+: <see cref="FlagKind"/>.</summary>
    public int FlagOp;
    public ulong FlagRes;
    public ulong FlagDst;
    public ulong FlagSrc;

    /// <summary>RFLAGS bits that are not arithmetic flags (DF, IF, ID, ...).</summary>
    public ulong FlagsOther = 0x202;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlags(FlagKind kind, int sizeLog, ulong dst, ulong src, ulong res)
    {
        FlagOp = ((int)kind << 3) | sizeLog;
        FlagDst = dst;
        FlagSrc = src;
        FlagRes = res;
    }

    /// <summary>Records an instruction's own CF/OF/AF (RFLAGS bits in <paramref name="cfOfAf"/>) with ZF/SF/PF from the result.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetFlagsExplicit(int sizeLog, ulong res, ulong cfOfAf)
    {
        FlagOp = ((int)FlagKind.Explicit << 3) | sizeLog;
        FlagSrc = cfOfAf;
        FlagRes = res;
    }

    private FlagKind Kind => (FlagKind)(FlagOp >> 3);

    private int SignShift => (8 << (FlagOp & 7)) - 1;

    public bool CarryFlag
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Kind switch
        {
            FlagKind.Sub => FlagDst < FlagSrc,
            FlagKind.Add => FlagRes < FlagDst,
            FlagKind.Logic => false,
            FlagKind.Inc or FlagKind.Dec => FlagSrc != 0,
            FlagKind.Explicit => (FlagSrc & CF) != 0,
            _ => (FlagRes & CF) != 0,
        };
    }

    public bool ZeroFlag
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Kind == FlagKind.Materialized ? (FlagRes & ZF) != 0 : FlagRes == 0;
    }

    public bool SignFlag
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Kind == FlagKind.Materialized ? (FlagRes & SF) != 0 : ((FlagRes >> SignShift) & 1) != 0;
    }

    public bool OverflowFlag
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var s = SignShift;
            return Kind switch
            {
                FlagKind.Sub => (((FlagDst ^ FlagSrc) & (FlagDst ^ FlagRes)) >> s & 1) != 0,
                FlagKind.Add => (((FlagDst ^ FlagRes) & (FlagSrc ^ FlagRes)) >> s & 1) != 0,
                FlagKind.Logic => false,
                FlagKind.Inc => FlagRes == 1UL << s,
                FlagKind.Dec => FlagDst == 1UL << s,
                FlagKind.Explicit => (FlagSrc & OF) != 0,
                _ => (FlagRes & OF) != 0,
            };
        }
    }

    public bool ParityFlag =>
        Kind == FlagKind.Materialized ? (FlagRes & PF) != 0 : (BitOperations.PopCount(FlagRes & 0xFF) & 1) == 0;

    public bool AdjustFlag => Kind switch
    {
        FlagKind.Add or FlagKind.Sub => ((FlagDst ^ FlagSrc ^ FlagRes) & AF) != 0,
        FlagKind.Inc => (FlagRes & 0xF) == 0,
        FlagKind.Dec => (FlagRes & 0xF) == 0xF,
        FlagKind.Logic => false,
        FlagKind.Explicit => (FlagSrc & AF) != 0,
        _ => (FlagRes & AF) != 0,
    };

    /// <summary>The arithmetic flags as RFLAGS bits.</summary>
    public ulong ArithmeticFlags =>
        (CarryFlag ? CF : 0) | (ParityFlag ? PF : 0) | (AdjustFlag ? AF : 0) |
        (ZeroFlag ? ZF : 0) | (SignFlag ? SF : 0) | (OverflowFlag ? OF : 0);

    /// <summary>The whole RFLAGS register.</summary>
    public ulong Rflags
    {
        get => ArithmeticFlags | FlagsOther | 2;
        set
        {
            FlagOp = (int)FlagKind.Materialized << 3;
            FlagRes = value & ArithFlags;
            FlagsOther = (value & ~ArithFlags & 0x244F00) | 0x202;
        }
    }

    /// <summary>Sets or clears individual arithmetic flags, keeping the rest.</summary>
    public void UpdateFlags(ulong mask, ulong values)
    {
        var current = ArithmeticFlags;
        FlagOp = (int)FlagKind.Materialized << 3;
        FlagRes = (current & ~mask) | (values & mask);
    }

    /// <summary>Evaluates an x86 condition code (0 = O ... 15 = G, as in Jcc's low nibble).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Condition(int cc)
    {
        // Compare-then-branch is the common case: answer it from the operands directly.
        if (Kind == FlagKind.Sub)
        {
            var s = 63 - SignShift;
            switch (cc)
            {
                case 2: return FlagDst < FlagSrc;
                case 3: return FlagDst >= FlagSrc;
                case 4: return FlagRes == 0;
                case 5: return FlagRes != 0;
                case 6: return FlagDst <= FlagSrc;
                case 7: return FlagDst > FlagSrc;
                case 12: return (long)(FlagDst << s) < (long)(FlagSrc << s);
                case 13: return (long)(FlagDst << s) >= (long)(FlagSrc << s);
                case 14: return (long)(FlagDst << s) <= (long)(FlagSrc << s);
                case 15: return (long)(FlagDst << s) > (long)(FlagSrc << s);
            }
        }

        var r = (cc >> 1) switch
        {
            0 => OverflowFlag,
            1 => CarryFlag,
            2 => ZeroFlag,
            3 => CarryFlag || ZeroFlag,
            4 => SignFlag,
            5 => ParityFlag,
            6 => SignFlag != OverflowFlag,
            _ => ZeroFlag || SignFlag != OverflowFlag,
        };
        return r ^ ((cc & 1) != 0);
    }
}
