using System.Runtime.Intrinsics;
using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Instructions;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;
using X86Pclmulqdq = System.Runtime.Intrinsics.X86.Pclmulqdq;

namespace UserModeOS.Cpu.Tests;

/// <summary>AES-NI and PCLMULQDQ against the host, and the portable paths against the host's instructions.</summary>
[TestFixture]
public sealed class CryptoTests
{
    private static UInt128 Random128(System.Random rng) => new((ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40), (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 41));

    private static readonly UInt128[] Fixed = [0, UInt128.MaxValue, SseKit.X(0x0001_0203_0405_0607, 0x0809_0A0B_0C0D_0E0F), SseKit.X(0x8000_0000_0000_0000, 1)];

    private static IEnumerable<UInt128> Inputs()
    {
        var rng = new System.Random(1234);
        foreach (var f in Fixed)
        {
            yield return f;
        }

        for (var i = 0; i < 8; i++)
        {
            yield return Random128(rng);
        }
    }

    [Test]
    public void AesRounds_MatchHost()
    {
        var cases = new List<DiffCase>();
        var inputs = Inputs().ToList();
        foreach (var s in inputs)
        {
            foreach (var k in inputs.Take(6))
            {
                (int, UInt128)[] x = [(4, s), (13, k)];
                cases.Add(SseKit.Case($"aesenc {s:X32} {k:X32}", a => a.aesenc(xmm4, xmm13), xmm: x));
                cases.Add(SseKit.Case($"aesenclast {s:X32} {k:X32}", a => a.aesenclast(xmm4, xmm13), xmm: x));
                cases.Add(SseKit.Case($"aesdec {s:X32} {k:X32}", a => a.aesdec(xmm4, xmm13), xmm: x));
                cases.Add(SseKit.Case($"aesdeclast {s:X32} {k:X32}", a => a.aesdeclast(xmm4, xmm13), xmm: x));
            }

            var scratch = SseKit.ScratchWith(s);
            cases.Add(SseKit.Case($"aesimc {s:X32}", a => a.aesimc(xmm4, xmm13), xmm: [(13, s)]));
            cases.Add(SseKit.Case($"aesimc [rbx] {s:X32}", a => a.aesimc(xmm4, __xmmword_ptr[rbx]), scratch: scratch));
            cases.Add(SseKit.Case($"aesenc xmm4, [rbx] {s:X32}", a => a.aesenc(xmm4, __xmmword_ptr[rbx]), scratch: scratch));
            cases.Add(SseKit.Case($"aesdeclast xmm4, [rbx] {s:X32}", a => a.aesdeclast(xmm4, __xmmword_ptr[rbx]), scratch: scratch));
            foreach (var imm in new[] { 0x00, 0x01, 0x1B, 0x36, 0x80, 0xFF })
            {
                cases.Add(SseKit.Case($"aeskeygenassist imm 0x{imm:X2} {s:X32}", a => a.aeskeygenassist(xmm4, xmm13, (sbyte)imm), xmm: [(13, s)]));
            }

            cases.Add(SseKit.Case($"aeskeygenassist [rbx], 0x40 {s:X32}", a => a.aeskeygenassist(xmm4, __xmmword_ptr[rbx], 0x40), scratch: scratch));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Aes128_FullEncryptDecrypt_MatchesHost()
    {
        // FIPS-197 appendix C.1: key 000102..0F, plaintext 00112233..FF; key expansion with AESKEYGENASSIST.
        var key = SseKit.X(0x0F0E_0D0C_0B0A_0908, 0x0706_0504_0302_0100);
        var plain = SseKit.X(0xFFEE_DDCC_BBAA_9988, 0x7766_5544_3322_1100);
        var aes = SseKit.Case("aes-128 encrypt + decrypt", a =>
        {
            byte[] rcon = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36];
            a.movdqa(xmm0, xmm1);
            a.movdqa(__xmmword_ptr[rbx], xmm1);
            for (var r = 0; r < 10; r++)
            {
                // xmm1 = next round key from xmm1.
                a.aeskeygenassist(xmm2, xmm1, (sbyte)rcon[r]);
                a.pshufd(xmm2, xmm2, 0xFF);
                a.movdqa(xmm3, xmm1);
                a.pslldq(xmm3, 4);
                a.pxor(xmm1, xmm3);
                a.pslldq(xmm3, 4);
                a.pxor(xmm1, xmm3);
                a.pslldq(xmm3, 4);
                a.pxor(xmm1, xmm3);
                a.pxor(xmm1, xmm2);
                a.movdqa(__xmmword_ptr[rbx + (16 * (r + 1))], xmm1);
            }

            a.pxor(xmm5, __xmmword_ptr[rbx]);
            for (var r = 1; r < 10; r++)
            {
                a.aesenc(xmm5, __xmmword_ptr[rbx + (16 * r)]);
            }

            a.aesenclast(xmm5, __xmmword_ptr[rbx + 160]);
            a.movdqa(xmm6, xmm5);

            // Decrypt with the equivalent inverse cipher: AESIMC of the middle round keys.
            a.pxor(xmm6, __xmmword_ptr[rbx + 160]);
            for (var r = 9; r >= 1; r--)
            {
                a.aesimc(xmm7, __xmmword_ptr[rbx + (16 * r)]);
                a.aesdec(xmm6, xmm7);
            }

            a.aesdeclast(xmm6, __xmmword_ptr[rbx]);
        }, xmm: [(1, key), (5, plain)]);
        AssertSameAsHost([aes]);

        // The known answer, through the executor alone: ciphertext 69C4E0D8 6A7B0430 D8CDB780 70B4C55A.
        var cpu = RunEmulated(aes);
        Assert.Multiple(() =>
        {
            Assert.That(cpu.Finished, Is.True);
            Assert.That(cpu.Xmm[5], Is.EqualTo(SseKit.X(0x5AC5_B470_80B7_CDD8, 0x3004_7B6A_D8E0_C469)), "ciphertext");
            Assert.That(cpu.Xmm[6], Is.EqualTo(plain), "decrypted");
        });
    }

    [Test]
    public void Pclmulqdq_AllSelections_MatchHost()
    {
        var cases = new List<DiffCase>();
        var inputs = Inputs().ToList();
        foreach (var a in inputs)
        {
            foreach (var b in inputs.Skip(2).Take(5))
            {
                foreach (var imm in new[] { 0x00, 0x01, 0x10, 0x11, 0xEE, 0xFF, 0x0E, 0xF0 })
                {
                    cases.Add(SseKit.Case($"pclmulqdq imm 0x{imm:X2} {a:X32} {b:X32}", x => x.pclmulqdq(xmm8, xmm9, (sbyte)imm), xmm: [(8, a), (9, b)]));
                }
            }

            cases.Add(SseKit.Case($"pclmulqdq [rbx], 0x11 {a:X32}", x => x.pclmulqdq(xmm8, __xmmword_ptr[rbx], 0x11), scratch: SseKit.ScratchWith(a)));
            cases.Add(SseKit.Case($"pclmulqdq xmm8, xmm8, 0x01 {a:X32}", x => x.pclmulqdq(xmm8, xmm8, 0x01), xmm: [(8, a)]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void MisalignedMemoryOperands_AreGeneralProtection()
    {
        SseKit.AssertGeneralProtection(SseKit.Case("aesenc misaligned", a => a.aesenc(xmm1, __xmmword_ptr[rbx + 4])));
        SseKit.AssertGeneralProtection(SseKit.Case("aesimc misaligned", a => a.aesimc(xmm1, __xmmword_ptr[rbx + 8])));
        SseKit.AssertGeneralProtection(SseKit.Case("pclmulqdq misaligned", a => a.pclmulqdq(xmm1, __xmmword_ptr[rbx + 1], 0)));
    }

    [Test]
    public void PortablePaths_MatchHostInstructions()
    {
        Assume.That(X86Aes.IsSupported && X86Pclmulqdq.IsSupported, "needs the host's AES-NI and PCLMULQDQ to compare with");
        var rng = new System.Random(99);
        for (var i = 0; i < 3000; i++)
        {
            var s = Random128(rng);
            var k = Random128(rng);
            var vs = Sse.V<byte>(s);
            var vk = Sse.V<byte>(k);
            Assert.That(AesSoft.Encrypt(s, k, false), Is.EqualTo(Sse.U(X86Aes.Encrypt(vs, vk))), "aesenc");
            Assert.That(AesSoft.Encrypt(s, k, true), Is.EqualTo(Sse.U(X86Aes.EncryptLast(vs, vk))), "aesenclast");
            Assert.That(AesSoft.Decrypt(s, k, false), Is.EqualTo(Sse.U(X86Aes.Decrypt(vs, vk))), "aesdec");
            Assert.That(AesSoft.Decrypt(s, k, true), Is.EqualTo(Sse.U(X86Aes.DecryptLast(vs, vk))), "aesdeclast");
            Assert.That(AesSoft.InverseMixColumns(s), Is.EqualTo(Sse.U(X86Aes.InverseMixColumns(vs))), "aesimc");
            var rcon = (byte)rng.Next(256);
            Assert.That(AesSoft.KeygenAssist(s, rcon), Is.EqualTo(AesKeygenAssist.Exec(null!, 0, s, rcon)), "aeskeygenassist");
            Assert.That(AesSoft.KeygenAssist(s, 0x36), Is.EqualTo(Sse.U(X86Aes.KeygenAssist(vs, 0x36))), "aeskeygenassist 0x36");
            Assert.That(ClmulSoft.Multiply((ulong)s, (ulong)k), Is.EqualTo(Sse.U(X86Pclmulqdq.CarrylessMultiply(Vector128.CreateScalar((ulong)s), Vector128.CreateScalar((ulong)k), 0))), "pclmulqdq");
        }
    }

    [Test]
    public void Aes_Pclmulqdq_AreAdvertised()
    {
        var (_, _, ecx, _) = CpuFeatures.Query(1, 0);
        Assert.Multiple(() =>
        {
            Assert.That(CpuFeatures.Missing(CpuidFeature.AES), Is.Empty);
            Assert.That(CpuFeatures.Missing(CpuidFeature.PCLMULQDQ), Is.Empty);
            Assert.That(ecx & (1u << 25), Is.Not.Zero, "AES");
            Assert.That(ecx & (1u << 1), Is.Not.Zero, "PCLMULQDQ");
        });
    }
}
