using System.Runtime.Intrinsics;
using Iced.Intel;
using static UserModeOS.Cpu.Instructions.Mmx;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// MMX integer SIMD on MM registers, with the SSE/SSE2 additions that have MM forms (PAVG*,
/// PMIN/PMAX, PMULHUW, PSADBW, PSHUFW, PEXTRW/PINSRW, PMOVMSKB, PMULUDQ, PADDQ/PSUBQ). The
/// lane arithmetic is <see cref="SseInteger"/>'s; see <see cref="Mmx"/> for how it is narrowed.
/// </summary>
internal static class MmxInteger
{
    public static void Register()
    {
        Add(Mnemonic.Pxor, Op<XorOp128>());
        Add(Mnemonic.Por, Op<OrOp128>());
        Add(Mnemonic.Pand, Op<AndOp128>());
        Add(Mnemonic.Pandn, Op<AndNotOp128>());

        Add(Mnemonic.Pcmpeqb, Op<Pcmpeq<sbyte>>());
        Add(Mnemonic.Pcmpeqw, Op<Pcmpeq<short>>());
        Add(Mnemonic.Pcmpeqd, Op<Pcmpeq<int>>());
        Add(Mnemonic.Pcmpgtb, Op<Pcmpgt<sbyte>>());
        Add(Mnemonic.Pcmpgtw, Op<Pcmpgt<short>>());
        Add(Mnemonic.Pcmpgtd, Op<Pcmpgt<int>>());
        Add(Mnemonic.Pminub, Op<Pmin<byte>>());
        Add(Mnemonic.Pminsw, Op<Pmin<short>>());
        Add(Mnemonic.Pmaxub, Op<Pmax<byte>>());
        Add(Mnemonic.Pmaxsw, Op<Pmax<short>>());

        Add(Mnemonic.Paddb, Op<Padd<byte>>());
        Add(Mnemonic.Paddw, Op<Padd<ushort>>());
        Add(Mnemonic.Paddd, Op<Padd<uint>>());
        Add(Mnemonic.Paddq, Op<Padd<ulong>>());
        Add(Mnemonic.Psubb, Op<Psub<byte>>());
        Add(Mnemonic.Psubw, Op<Psub<ushort>>());
        Add(Mnemonic.Psubd, Op<Psub<uint>>());
        Add(Mnemonic.Psubq, Op<Psub<ulong>>());
        Add(Mnemonic.Paddusb, Op<Padds<byte>>());
        Add(Mnemonic.Paddusw, Op<Padds<ushort>>());
        Add(Mnemonic.Paddsb, Op<Padds<sbyte>>());
        Add(Mnemonic.Paddsw, Op<Padds<short>>());
        Add(Mnemonic.Psubusb, Op<Psubs<byte>>());
        Add(Mnemonic.Psubusw, Op<Psubs<ushort>>());
        Add(Mnemonic.Psubsb, Op<Psubs<sbyte>>());
        Add(Mnemonic.Psubsw, Op<Psubs<short>>());

        Add(Mnemonic.Pmullw, Op<Pmullw>());
        Add(Mnemonic.Pmulhw, Op<Pmulhw>());
        Add(Mnemonic.Pmulhuw, Op<Pmulhuw>());
        Add(Mnemonic.Pmuludq, Op<Pmuludq>());
        Add(Mnemonic.Pmaddwd, Op<Pmaddwd>());
        Add(Mnemonic.Psadbw, Op<Psadbw>());
        Add(Mnemonic.Pavgb, Op<Pavgb>());
        Add(Mnemonic.Pavgw, Op<Pavgw>());

        // PUNPCKL* mm, mm/m32 read only the low dwords, so the 128-bit interleave's low half is the answer.
        Add(Mnemonic.Punpcklbw, Op<UnpackLow<byte>>());
        Add(Mnemonic.Punpcklwd, Op<UnpackLow<ushort>>());
        Add(Mnemonic.Punpckldq, Op<UnpackLow<uint>>());
        Add(Mnemonic.Punpckhbw, Op<HighHalves<UnpackLow<byte>>>());
        Add(Mnemonic.Punpckhwd, Op<HighHalves<UnpackLow<ushort>>>());
        Add(Mnemonic.Punpckhdq, Op<HighHalves<UnpackLow<uint>>>());
        Add(Mnemonic.Packsswb, Op<Joined<Packsswb>>());
        Add(Mnemonic.Packssdw, Op<Joined<Packssdw>>());
        Add(Mnemonic.Packuswb, Op<Joined<Packuswb>>());

        Add(Mnemonic.Psllw, Op<Psll<ushort>>());
        Add(Mnemonic.Pslld, Op<Psll<uint>>());
        Add(Mnemonic.Psllq, Op<Psll<ulong>>());
        Add(Mnemonic.Psrlw, Op<Psrl<ushort>>());
        Add(Mnemonic.Psrld, Op<Psrl<uint>>());
        Add(Mnemonic.Psrlq, Op<Psrl<ulong>>());
        Add(Mnemonic.Psraw, Op<Psra<short>>());
        Add(Mnemonic.Psrad, Op<Psra<int>>());

        Add(Mnemonic.Pshufw, Op<Pshuflw>());
        Add(Mnemonic.Pinsrw, Op<PinsrwMm>());
        Add(Mnemonic.Pextrw, FromMm<PextrwMm>());
        Add(Mnemonic.Pmovmskb, FromMm<MoveMaskBytes>());
    }
}

/// <summary>PINSRW mm: the word of the source replaces the destination word imm8[1:0].</summary>
internal struct PinsrwMm : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm)
    {
        SseInteger.InsertWord(ref a, (ushort)b, imm & 3);
        return a;
    }
}

/// <summary>PEXTRW r, mm: word imm8[1:0] of the source, zero-extended.</summary>
internal struct PextrwMm : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => (ushort)(b >> (16 * (imm & 3)));
}

/// <summary>PMOVMSKB: the top bit of every source byte (the zero-extended MM source gives 8 bits).</summary>
internal struct MoveMaskBytes : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 a, UInt128 b, int imm) => Sse.V<byte>(b).ExtractMostSignificantBits();
}
