using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Instructions;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>SSE4.2: PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM over every imm8 control, PCMPGTQ and CRC32, against the host.</summary>
[TestFixture]
public sealed class Sse42Tests
{
    private static readonly string[] StringOps = ["pcmpestri", "pcmpestri64", "pcmpestrm", "pcmpestrm64", "pcmpistri", "pcmpistrm"];

    /// <summary>Short explicit lengths (EAX/EDX) including negative, saturating and 64-bit-only values.</summary>
    private static readonly ulong[] Lengths =
        [0, 1, 3, 7, 8, 9, 15, 16, 17, 0xFFFF_FFFF_FFFF_FFFD, 0x0000_0000_FFFF_FFF9, 0x8000_0000, 0x1_0000_0005, 0x8000_0000_0000_0000, 100];

    private static Action<Assembler> StringOp(string name, int imm, bool memory) => a =>
    {
        var i = (sbyte)imm;
        switch (name, memory)
        {
            case ("pcmpestri", false): a.pcmpestri(xmm1, xmm2, i); break;
            case ("pcmpestri64", false): a.pcmpestri64(xmm1, xmm2, i); break;
            case ("pcmpestrm", false): a.pcmpestrm(xmm1, xmm2, i); break;
            case ("pcmpestrm64", false): a.pcmpestrm64(xmm1, xmm2, i); break;
            case ("pcmpistri", false): a.pcmpistri(xmm1, xmm2, i); break;
            case ("pcmpistrm", false): a.pcmpistrm(xmm1, xmm2, i); break;
            case ("pcmpestri", true): a.pcmpestri(xmm1, __xmmword_ptr[rbx + 3], i); break;
            case ("pcmpestri64", true): a.pcmpestri64(xmm1, __xmmword_ptr[rbx + 3], i); break;
            case ("pcmpestrm", true): a.pcmpestrm(xmm1, __xmmword_ptr[rbx + 3], i); break;
            case ("pcmpestrm64", true): a.pcmpestrm64(xmm1, __xmmword_ptr[rbx + 3], i); break;
            case ("pcmpistri", true): a.pcmpistri(xmm1, __xmmword_ptr[rbx + 3], i); break;
            default: a.pcmpistrm(xmm1, __xmmword_ptr[rbx + 3], i); break;
        }
    };

    /// <summary>Strings over a small alphabet (so elements match often) with zeros, signed extremes and range bounds mixed in.</summary>
    private static UInt128 RandomString(System.Random rng)
    {
        byte[] alphabet = [0x00, 0x61, 0x62, 0x63, 0x7F, 0x80, 0xFF, 0x41, 0x5A, 0x30, 0x39, 0x00, 0x61, 0x62];
        var bytes = new byte[16];
        var zeroAt = rng.Next(0, 24);
        for (var i = 0; i < 16; i++)
        {
            bytes[i] = alphabet[rng.Next(alphabet.Length)];
            if (bytes[i] == 0 && rng.Next(3) != 0)
            {
                bytes[i] = 0x61;
            }

            if (i == zeroAt)
            {
                bytes[i] = 0;
            }
        }

        return new UInt128(BitConverter.ToUInt64(bytes, 8), BitConverter.ToUInt64(bytes, 0));
    }

    [Test]
    public void StringCompares_EveryControl_MatchHost([ValueSource(nameof(StringOps))] string name)
    {
        var rng = new System.Random(name.GetHashCode(StringComparison.Ordinal) & 0xFFFF);
        var cases = new List<DiffCase>();
        for (var imm = 0; imm < 256; imm++)
        {
            if (imm >= 128 && imm % 5 != 0)
            {
                continue; // bit 7 is ignored; a sample checks that.
            }

            for (var k = 0; k < 3; k++)
            {
                var a = RandomString(rng);
                var b = k == 0 ? a : RandomString(rng);
                if (k == 2)
                {
                    // b contains a's prefix somewhere: equal ordered finds it.
                    var shift = rng.Next(0, 12) * 8;
                    b = (b & ~(UInt128.MaxValue << shift)) | (a << shift);
                }

                var la = Lengths[rng.Next(Lengths.Length)];
                var lb = Lengths[rng.Next(Lengths.Length)];
                var memory = k == 1;
                var scratch = CaseKit.PatternScratch(0x40);
                CaseKit.Store(scratch, 3, 8, (ulong)b);
                CaseKit.Store(scratch, 11, 8, (ulong)(b >> 64));
                cases.Add(SseKit.Case(
                    $"{name} imm 0x{imm:X2} a {a:X32} b {b:X32} la {la:X} lb {lb:X}{(memory ? " (memory, misaligned)" : "")}",
                    StringOp(name, imm, memory),
                    xmm: [(1, a), (2, b)],
                    scratch: scratch,
                    gpr: [(Register.RAX, la), (Register.RDX, lb)]));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void StringCompares_Words_WithMidRegisterZeros_MatchHost()
    {
        var cases = new List<DiffCase>();
        UInt128[] values =
        [
            SseKit.X(0x0041_005A_0030_0039, 0x8000_7FFF_0061_007A),
            SseKit.X(0x0000_FFFF_8000_0001, 0x0061_0062_0063_0064),
            SseKit.X(0x0061_0062_0063_0064, 0x0000_0000_0062_0061),
            SseKit.X(0x7FFF_8000_0000_0062, 0x0063_0064_0061_0062),
        ];
        foreach (var imm in new[] { 0x01, 0x03, 0x05, 0x07, 0x09, 0x0B, 0x0D, 0x0F, 0x19, 0x35, 0x3D, 0x41, 0x45, 0x4D, 0x71, 0x7F })
        {
            foreach (var a in values)
            {
                foreach (var b in values)
                {
                    cases.Add(SseKit.Case($"pcmpistri imm 0x{imm:X2} {a:X32} {b:X32}", a2 => a2.pcmpistri(xmm1, xmm2, (sbyte)imm), xmm: [(1, a), (2, b)]));
                    cases.Add(SseKit.Case($"pcmpistrm imm 0x{imm:X2} {a:X32} {b:X32}", a2 => a2.pcmpistrm(xmm1, xmm2, (sbyte)imm), xmm: [(1, a), (2, b)]));
                    cases.Add(SseKit.Case($"pcmpestrm imm 0x{imm:X2} {a:X32} {b:X32}", a2 => a2.pcmpestrm(xmm1, xmm2, (sbyte)imm), xmm: [(1, a), (2, b)], gpr: [(Register.RAX, 5), (Register.RDX, 0xFFFF_FFFE)]));
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Strstr_StyleLoop_MatchesHost()
    {
        // The inner loop of an SSE4.2 strstr/strspn: pcmpistri over a haystack until CF or ZF.
        var text = "the quick brown fox jumps over the lazy dog; needle in a haystack\0"u8.ToArray();
        var scratch = CaseKit.PatternScratch(0x200);
        text.CopyTo(scratch, 0x40);
        var needle = "needle\0"u8.ToArray();
        needle.CopyTo(scratch, 0x100);
        var cases = new List<DiffCase>();
        foreach (var imm in new[] { 0x0C, 0x00, 0x10, 0x04, 0x14 })
        {
            cases.Add(SseKit.Case($"scan imm 0x{imm:X2}", a =>
            {
                var loop = a.CreateLabel();
                var done = a.CreateLabel();
                a.movdqu(xmm1, __xmmword_ptr[rbx + 0x100]);
                a.lea(rsi, __[rbx + 0x40 - 16]);
                a.Label(ref loop);
                a.add(rsi, 16);
                a.pcmpistri(xmm1, __xmmword_ptr[rsi], (sbyte)imm);
                a.ja(loop);
                a.Label(ref done);
                a.setc(al);
                a.setz(dl);
            }, scratch: scratch));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Pcmpgtq_MatchesHost()
    {
        UInt128[] values =
        [
            SseKit.X(0, 0), SseKit.X(ulong.MaxValue, 1), SseKit.X(0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF),
            SseKit.X(0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000), SseKit.X(5, 0xFFFF_FFFF_0000_0000),
        ];
        var cases = new List<DiffCase>();
        foreach (var a in values)
        {
            foreach (var b in values)
            {
                cases.Add(SseKit.Case($"pcmpgtq {a:X32} {b:X32}", x => x.pcmpgtq(xmm3, xmm9), xmm: [(3, a), (9, b)]));
            }

            cases.Add(SseKit.Case($"pcmpgtq {a:X32}, [rbx+0x20]", x => x.pcmpgtq(xmm3, __xmmword_ptr[rbx + 0x20]), xmm: [(3, a)]));
        }

        AssertSameAsHost(cases);
        SseKit.AssertGeneralProtection(SseKit.Case("pcmpgtq misaligned", x => x.pcmpgtq(xmm3, __xmmword_ptr[rbx + 8])));
    }

    [Test]
    public void Crc32_AllForms_MatchHost()
    {
        var cases = new List<DiffCase>();
        ulong[] crcs = [0, 0xFFFF_FFFF, 0x1234_5678, 0xDEAD_BEEF_0BAD_F00D];
        ulong[] data = [0, 1, 0x80, 0xFF, 0x1234_5678_9ABC_DEF0, ulong.MaxValue, 0x8000_0000_0000_0001];
        foreach (var crc in crcs)
        {
            foreach (var d in data)
            {
                (Register, ulong)[] gpr = [(Register.RAX, crc), (Register.RCX, d), (Register.RDX, d)];
                cases.Add(SseKit.Case($"crc32 eax, cl {crc:X}/{d:X}", a => a.crc32(eax, cl), gpr: gpr));
                cases.Add(SseKit.Case($"crc32 eax, ch {crc:X}/{d:X}", a => a.crc32(eax, ch), gpr: gpr));
                cases.Add(SseKit.Case($"crc32 eax, cx {crc:X}/{d:X}", a => a.crc32(eax, cx), gpr: gpr));
                cases.Add(SseKit.Case($"crc32 eax, ecx {crc:X}/{d:X}", a => a.crc32(eax, ecx), gpr: gpr));
                cases.Add(SseKit.Case($"crc32 rax, cl {crc:X}/{d:X}", a => a.crc32(rax, cl), gpr: gpr));
                cases.Add(SseKit.Case($"crc32 rax, rcx {crc:X}/{d:X}", a => a.crc32(rax, rcx), gpr: gpr));
                cases.Add(SseKit.Case($"crc32 r9d, sil {crc:X}/{d:X}", a => a.crc32(r9d, sil), gpr: [(Register.R9, crc), (Register.RSI, d)]));
            }

            (Register, ulong)[] g = [(Register.RAX, crc)];
            cases.Add(SseKit.Case($"crc32 eax, byte [rbx+1] {crc:X}", a => a.crc32(eax, __byte_ptr[rbx + 1]), gpr: g));
            cases.Add(SseKit.Case($"crc32 eax, word [rbx+3] {crc:X}", a => a.crc32(eax, __word_ptr[rbx + 3]), gpr: g));
            cases.Add(SseKit.Case($"crc32 eax, dword [rbx+5] {crc:X}", a => a.crc32(eax, __dword_ptr[rbx + 5]), gpr: g));
            cases.Add(SseKit.Case($"crc32 rax, byte [rbx+7] {crc:X}", a => a.crc32(rax, __byte_ptr[rbx + 7]), gpr: g));
            cases.Add(SseKit.Case($"crc32 rax, qword [rbx+9] {crc:X}", a => a.crc32(rax, __qword_ptr[rbx + 9]), gpr: g));
        }

        // Flags are untouched: start from every flag set and every flag clear.
        cases.Add(SseKit.Case("crc32 keeps flags set", a => a.crc32(eax, ecx), flags: 0x8D5));
        cases.Add(SseKit.Case("crc32 keeps flags clear", a => a.crc32(rax, rcx), flags: 0));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Crc32_PortablePath_MatchesIntrinsic()
    {
        Assume.That(System.Runtime.Intrinsics.X86.Sse42.X64.IsSupported, "needs the host's CRC32 instruction to compare with");
        var rng = new System.Random(42);
        for (var i = 0; i < 2000; i++)
        {
            var crc = (uint)rng.NextInt64();
            var data = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40);
            foreach (var bytes in new[] { 1, 2, 4, 8 })
            {
                Assert.That(Crc32C.Soft(crc, data, bytes), Is.EqualTo(Crc32C.Update(crc, data, bytes)), $"{bytes} bytes of {data:X} into {crc:X}");
            }
        }
    }

    [Test]
    public void Sse42_IsAdvertised()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CpuFeatures.Missing(Iced.Intel.CpuidFeature.SSE4_2), Is.Empty);
            Assert.That(CpuFeatures.Query(1, 0).Ecx & (1u << 20), Is.Not.Zero);
        });
    }
}
