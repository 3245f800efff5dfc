using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;
using static UserModeOS.Cpu.Instructions.Sse;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using X86Pclmulqdq = System.Runtime.Intrinsics.X86.Pclmulqdq;

namespace UserModeOS.Cpu.Instructions;

/// <summary>
/// AES-NI (AESENC, AESENCLAST, AESDEC, AESDECLAST, AESIMC, AESKEYGENASSIST) and PCLMULQDQ, the
/// legacy SSE encodings (a 16-byte memory operand must be aligned). Each uses the host's
/// instruction when it has one; <see cref="AesSoft"/> and <see cref="ClmulSoft"/> are the
/// portable paths, giving the same bits.
/// </summary>
internal static class Crypto
{
    public static void Register()
    {
        OpTable.Add(Code.Aesenc_xmm_xmmm128, Xmm<AesEnc>());
        OpTable.Add(Code.Aesenclast_xmm_xmmm128, Xmm<AesEncLast>());
        OpTable.Add(Code.Aesdec_xmm_xmmm128, Xmm<AesDec>());
        OpTable.Add(Code.Aesdeclast_xmm_xmmm128, Xmm<AesDecLast>());
        OpTable.Add(Code.Aesimc_xmm_xmmm128, Xmm<AesImc>());
        OpTable.Add(Code.Aeskeygenassist_xmm_xmmm128_imm8, Xmm<AesKeygenAssist>());
        OpTable.Add(Code.Pclmulqdq_xmm_xmmm128_imm8, Xmm<Pclmulqdq>());
    }
}

internal struct AesEnc : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 state, UInt128 key, int imm) =>
        X86Aes.IsSupported ? U(X86Aes.Encrypt(V<byte>(state), V<byte>(key))) : AesSoft.Encrypt(state, key, last: false);
}

internal struct AesEncLast : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 state, UInt128 key, int imm) =>
        X86Aes.IsSupported ? U(X86Aes.EncryptLast(V<byte>(state), V<byte>(key))) : AesSoft.Encrypt(state, key, last: true);
}

internal struct AesDec : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 state, UInt128 key, int imm) =>
        X86Aes.IsSupported ? U(X86Aes.Decrypt(V<byte>(state), V<byte>(key))) : AesSoft.Decrypt(state, key, last: false);
}

internal struct AesDecLast : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 state, UInt128 key, int imm) =>
        X86Aes.IsSupported ? U(X86Aes.DecryptLast(V<byte>(state), V<byte>(key))) : AesSoft.Decrypt(state, key, last: true);
}

/// <summary>AESIMC: dst = InvMixColumns(src).</summary>
internal struct AesImc : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) =>
        X86Aes.IsSupported ? U(X86Aes.InverseMixColumns(V<byte>(src))) : AesSoft.InverseMixColumns(src);
}

/// <summary>AESKEYGENASSIST; the round constant only XORs into dwords 1 and 3, so the host instruction runs with a constant 0.</summary>
internal struct AesKeygenAssist : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm) =>
        X86Aes.IsSupported
            ? U(X86Aes.KeygenAssist(V<byte>(src), 0)) ^ Make((ulong)(byte)imm << 32, (ulong)(byte)imm << 32)
            : AesSoft.KeygenAssist(src, (byte)imm);
}

/// <summary>PCLMULQDQ: the carry-less product of the quadword of dst picked by imm8[0] and that of src picked by imm8[4].</summary>
internal struct Pclmulqdq : IXmmOp
{
    public static UInt128 Exec(CpuState c, UInt128 dst, UInt128 src, int imm)
    {
        var a = (imm & 0x01) != 0 ? Hi(dst) : Lo(dst);
        var b = (imm & 0x10) != 0 ? Hi(src) : Lo(src);
        if (X86Pclmulqdq.IsSupported)
        {
            return U(X86Pclmulqdq.CarrylessMultiply(Vector128.CreateScalar(a), Vector128.CreateScalar(b), 0));
        }

        return ClmulSoft.Multiply(a, b);
    }
}

/// <summary>Carry-less 64 x 64 -> 128-bit multiplication, bit by bit.</summary>
internal static class ClmulSoft
{
    public static UInt128 Multiply(ulong a, ulong b)
    {
        UInt128 r = 0;
        for (var i = 0; b != 0; i++, b >>= 1)
        {
            if ((b & 1) != 0)
            {
                r ^= (UInt128)a << i;
            }
        }

        return r;
    }
}

/// <summary>
/// One AES round as the AES-NI instructions define it (FIPS-197 transformations on the state
/// held column-major in the 16 bytes of an XMM register), with S-box tables.
/// </summary>
internal static class AesSoft
{
    private static readonly byte[] SBox = new byte[256];
    private static readonly byte[] InvSBox = new byte[256];

    static AesSoft()
    {
        // The S-box: the multiplicative inverse in GF(2^8) followed by the affine transform.
        for (var x = 0; x < 256; x++)
        {
            var inv = 0;
            for (var y = 1; y < 256 && x != 0; y++)
            {
                if (Mul((byte)x, (byte)y) == 1)
                {
                    inv = y;
                    break;
                }
            }

            var s = inv ^ Rotl8(inv, 1) ^ Rotl8(inv, 2) ^ Rotl8(inv, 3) ^ Rotl8(inv, 4) ^ 0x63;
            SBox[x] = (byte)s;
            InvSBox[s] = (byte)x;
        }
    }

    /// <summary>AESENC (ShiftRows, SubBytes, MixColumns, AddRoundKey) or AESENCLAST (without MixColumns).</summary>
    public static UInt128 Encrypt(UInt128 state, UInt128 key, bool last)
    {
        Span<byte> s = stackalloc byte[16];
        var input = Lanes<byte>(ref state);
        for (var i = 0; i < 16; i++)
        {
            // ShiftRows: row r of column c comes from column c + r.
            var r = i & 3;
            var col = i >> 2;
            s[i] = SBox[input[r + (4 * ((col + r) & 3))]];
        }

        var result = default(UInt128);
        var o = Lanes<byte>(ref result);
        if (last)
        {
            s.CopyTo(o);
        }
        else
        {
            MixColumns(s, o);
        }

        return result ^ key;
    }

    /// <summary>AESDEC (InvShiftRows, InvSubBytes, InvMixColumns, AddRoundKey) or AESDECLAST (without InvMixColumns).</summary>
    public static UInt128 Decrypt(UInt128 state, UInt128 key, bool last)
    {
        Span<byte> s = stackalloc byte[16];
        var input = Lanes<byte>(ref state);
        for (var i = 0; i < 16; i++)
        {
            var r = i & 3;
            var col = i >> 2;
            s[i] = InvSBox[input[r + (4 * ((col - r) & 3))]];
        }

        var result = default(UInt128);
        var o = Lanes<byte>(ref result);
        if (last)
        {
            s.CopyTo(o);
        }
        else
        {
            InvMixColumns(s, o);
        }

        return result ^ key;
    }

    public static UInt128 InverseMixColumns(UInt128 value)
    {
        var result = default(UInt128);
        InvMixColumns(Lanes<byte>(ref value), Lanes<byte>(ref result));
        return result;
    }

    /// <summary>AESKEYGENASSIST: SubWord and RotWord of dwords 1 and 3, with the round constant.</summary>
    public static UInt128 KeygenAssist(UInt128 src, byte rcon)
    {
        var x1 = SubWord((uint)(src >> 32));
        var x3 = SubWord((uint)(src >> 96));
        var d0 = x1;
        var d1 = uint.RotateRight(x1, 8) ^ rcon;
        var d2 = x3;
        var d3 = uint.RotateRight(x3, 8) ^ rcon;
        return Make(d0 | ((ulong)d1 << 32), d2 | ((ulong)d3 << 32));
    }

    private static uint SubWord(uint w) =>
        SBox[w & 0xFF] | ((uint)SBox[(w >> 8) & 0xFF] << 8) | ((uint)SBox[(w >> 16) & 0xFF] << 16) | ((uint)SBox[w >> 24] << 24);

    private static void MixColumns(ReadOnlySpan<byte> s, Span<byte> o)
    {
        for (var c = 0; c < 16; c += 4)
        {
            byte a0 = s[c], a1 = s[c + 1], a2 = s[c + 2], a3 = s[c + 3];
            o[c] = (byte)(Mul(a0, 2) ^ Mul(a1, 3) ^ a2 ^ a3);
            o[c + 1] = (byte)(a0 ^ Mul(a1, 2) ^ Mul(a2, 3) ^ a3);
            o[c + 2] = (byte)(a0 ^ a1 ^ Mul(a2, 2) ^ Mul(a3, 3));
            o[c + 3] = (byte)(Mul(a0, 3) ^ a1 ^ a2 ^ Mul(a3, 2));
        }
    }

    private static void InvMixColumns(ReadOnlySpan<byte> s, Span<byte> o)
    {
        for (var c = 0; c < 16; c += 4)
        {
            byte a0 = s[c], a1 = s[c + 1], a2 = s[c + 2], a3 = s[c + 3];
            o[c] = (byte)(Mul(a0, 14) ^ Mul(a1, 11) ^ Mul(a2, 13) ^ Mul(a3, 9));
            o[c + 1] = (byte)(Mul(a0, 9) ^ Mul(a1, 14) ^ Mul(a2, 11) ^ Mul(a3, 13));
            o[c + 2] = (byte)(Mul(a0, 13) ^ Mul(a1, 9) ^ Mul(a2, 14) ^ Mul(a3, 11));
            o[c + 3] = (byte)(Mul(a0, 11) ^ Mul(a1, 13) ^ Mul(a2, 9) ^ Mul(a3, 14));
        }
    }

    /// <summary>Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Mul(byte a, byte b)
    {
        var r = 0;
        int x = a;
        for (; b != 0; b >>= 1)
        {
            if ((b & 1) != 0)
            {
                r ^= x;
            }

            x <<= 1;
            if ((x & 0x100) != 0)
            {
                x ^= 0x11B;
            }
        }

        return (byte)r;
    }

    private static int Rotl8(int x, int n) => ((x << n) | (x >> (8 - n))) & 0xFF;
}
