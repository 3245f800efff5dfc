using System.Reflection;
using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Instructions;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class SseIntegerTests
{
    private static readonly string[] BinaryOps =
    [
        "Pxor", "Por", "Pand", "Pandn", "Xorps", "Xorpd", "Orps", "Orpd", "Andps", "Andpd", "Andnps", "Andnpd",
        "Pcmpeqb", "Pcmpeqw", "Pcmpeqd", "Pcmpgtb", "Pcmpgtw", "Pcmpgtd",
        "Pminub", "Pmaxub", "Pminsw", "Pmaxsw",
        "Paddb", "Paddw", "Paddd", "Paddq", "Psubb", "Psubw", "Psubd", "Psubq",
        "Paddusb", "Paddusw", "Psubusb", "Psubusw", "Paddsb", "Paddsw", "Psubsb", "Psubsw",
        "Pmullw", "Pmulhw", "Pmulhuw", "Pmuludq", "Pmaddwd", "Psadbw", "Pavgb", "Pavgw",
        "Punpcklbw", "Punpcklwd", "Punpckldq", "Punpcklqdq", "Punpckhbw", "Punpckhwd", "Punpckhdq", "Punpckhqdq",
        "Unpcklps", "Unpckhps", "Unpcklpd", "Unpckhpd",
        "Packsswb", "Packssdw", "Packuswb",
        "Psllw", "Pslld", "Psllq", "Psrlw", "Psrld", "Psrlq", "Psraw", "Psrad",
    ];

    /// <summary>Lane edge values: zeros, ones, the signed and unsigned limits at every width, and mixtures.</summary>
    private static readonly UInt128[] Vectors =
    [
        SseKit.X(0, 0),
        SseKit.X(ulong.MaxValue, ulong.MaxValue),
        SseKit.X(0x7F7F_7F7F_7F7F_7F7F, 0x8080_8080_8080_8080),
        SseKit.X(0x7FFF_8000_7FFF_8000, 0x8000_7FFF_FFFF_0001),
        SseKit.X(0x8000_0000_7FFF_FFFF, 0x7FFF_FFFF_8000_0000),
        SseKit.X(0x8000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF),
        SseKit.X(0x00FF_00FF_FF00_FF00, 0x0102_0304_FEFD_FCFB),
        SseKit.X(0x0001_0001_0001_0001, 0xFFFE_FFFE_0002_0002),
        SseKit.X(0x1234_5678_9ABC_DEF0, 0x0FED_CBA9_8765_4321),
        SseKit.X(0xC3A5_5A3C_F00F_0FF0, 0x0000_0000_0000_0011),
    ];

    private static readonly ulong[] ShiftCounts = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 0x1_0000_0001, ulong.MaxValue];

    private static readonly int[] ShuffleImms = [0x00, 0x1B, 0xE4, 0x4E, 0xB1, 0xFF, 0x39, 0x93, 0x01, 0x02, 0x03];

    [Test]
    public void BinaryOps_RegisterForms([ValueSource(nameof(BinaryOps))] string mnemonic)
    {
        var code = SseKit.CodeOf($"{mnemonic}_xmm_xmmm128");
        var cases = new List<DiffCase>();
        foreach (var a in Vectors)
        {
            foreach (var b in Vectors)
            {
                cases.Add(SseKit.Case($"{mnemonic} {a:X32}, {b:X32}", SseKit.Emit(Instruction.Create(code, Register.XMM2, Register.XMM11)), xmm: [(2, a), (11, b)]));
            }
        }

        // Same register on both sides.
        cases.Add(SseKit.Case($"{mnemonic} xmm6, xmm6", SseKit.Emit(Instruction.Create(code, Register.XMM6, Register.XMM6))));
        AssertSameAsHost(cases);
    }

    [Test]
    public void BinaryOps_MemoryForms()
    {
        var cases = new List<DiffCase>();
        foreach (var m in BinaryOps)
        {
            var code = SseKit.CodeOf($"{m}_xmm_xmmm128");
            cases.Add(SseKit.Case($"{m} xmm9, [rbx+0x30]", SseKit.Emit(Instruction.Create(code, Register.XMM9, new MemoryOperand(Register.RBX, 0x30))), scratch: SseKit.ScratchWith(0, 0, 0, SseKit.X(0, 9))));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Shifts_ByRegisterAndImmediate()
    {
        var cases = new List<DiffCase>();
        foreach (var m in new[] { "Psllw", "Pslld", "Psllq", "Psrlw", "Psrld", "Psrlq", "Psraw", "Psrad" })
        {
            foreach (var count in ShiftCounts)
            {
                foreach (var v in new[] { Vectors[3], Vectors[4], Vectors[8] })
                {
                    cases.Add(SseKit.Case($"{m} by xmm {count}", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmm_xmmm128"), Register.XMM0, Register.XMM1)), xmm: [(0, v), (1, SseKit.X(0xDEAD, count))]));
                    if (count <= 255)
                    {
                        cases.Add(SseKit.Case($"{m} by imm {count}", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmm_imm8"), Register.XMM0, (int)count)), xmm: [(0, v)]));
                    }
                }
            }
        }

        foreach (var m in new[] { "Pslldq", "Psrldq" })
        {
            foreach (var count in new[] { 0, 1, 3, 7, 8, 9, 15, 16, 17, 128, 255 })
            {
                cases.Add(SseKit.Case($"{m} {count}", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_xmm_imm8"), Register.XMM14, count)), xmm: [(14, Vectors[8])]));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Shuffles()
    {
        var cases = new List<DiffCase>();
        foreach (var imm in ShuffleImms.Concat([0x27, 0xD8, 0x80, 0x7F]))
        {
            cases.Add(SseKit.Case($"pshufd {imm:X2}", a => a.pshufd(xmm1, xmm2, (byte)imm)));
            cases.Add(SseKit.Case($"pshufd self {imm:X2}", a => a.pshufd(xmm2, xmm2, (byte)imm)));
            cases.Add(SseKit.Case($"pshufd mem {imm:X2}", a => a.pshufd(xmm1, __xmmword_ptr[rbx + 0x20], (byte)imm)));
            cases.Add(SseKit.Case($"pshuflw {imm:X2}", a => a.pshuflw(xmm1, xmm2, (byte)imm)));
            cases.Add(SseKit.Case($"pshufhw {imm:X2}", a => a.pshufhw(xmm1, xmm2, (byte)imm)));
            cases.Add(SseKit.Case($"shufps {imm:X2}", a => a.shufps(xmm1, xmm2, (byte)imm)));
            cases.Add(SseKit.Case($"shufps mem {imm:X2}", a => a.shufps(xmm1, __xmmword_ptr[rbx + 0x40], (byte)imm)));
            cases.Add(SseKit.Case($"shufpd {imm:X2}", a => a.shufpd(xmm1, xmm2, (byte)imm)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void WordInsertExtract()
    {
        var cases = new List<DiffCase>();
        foreach (var i in new[] { 0, 1, 3, 4, 7, 8, 9, 0xFF })
        {
            cases.Add(SseKit.Case($"pextrw eax, xmm5, {i}", a => a.pextrw(eax, xmm5, (byte)i)));
            cases.Add(SseKit.Case($"pextrw r12, xmm5, {i}", SseKit.Emit(Instruction.Create(Code.Pextrw_r64_xmm_imm8, Register.R12, Register.XMM5, i))));
            cases.Add(SseKit.Case($"pinsrw xmm5, ecx, {i}", a => a.pinsrw(xmm5, ecx, (byte)i)));
            cases.Add(SseKit.Case($"pinsrw xmm5, [rbx+0x33], {i}", a => a.pinsrw(xmm5, __word_ptr[rbx + 0x33], (byte)i)));
        }

        AssertSameAsHost(cases);
    }

    /// <summary>The portable bodies give the same bits as the SSE2 paths, on random inputs.</summary>
    [Test]
    public void PortablePaths_MatchIntrinsicPaths()
    {
        var rng = new Random(12345);
        var types = typeof(SseInteger).Assembly.GetTypes()
            .Where(t => t.IsValueType && typeof(ISoftXmmOp).IsAssignableFrom(t))
            .SelectMany(t => t.IsGenericTypeDefinition ? new[] { typeof(byte), typeof(ushort), typeof(uint), typeof(ulong) }.Select(a => t.MakeGenericType(a)) : [t])
            .ToList();
        Assert.That(types, Is.Not.Empty);
        foreach (var t in types)
        {
            var exec = t.GetMethod("Exec", BindingFlags.Public | BindingFlags.Static)!;
            var soft = t.GetMethod("Soft", BindingFlags.Public | BindingFlags.Static)!;
            foreach (var a in Vectors.Concat(Enumerable.Range(0, 20).Select(_ => Random128(rng))))
            {
                foreach (var b in Vectors.Take(5).Append(Random128(rng)))
                {
                    var fast = (UInt128)exec.Invoke(null, [null, a, b, 0x1B])!;
                    var slow = (UInt128)soft.Invoke(null, [a, b, 0x1B])!;
                    Assert.That(slow, Is.EqualTo(fast), $"{t.Name} {a:X32} {b:X32}");
                }
            }
        }
    }

    private static UInt128 Random128(Random rng) => new((ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63), (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 40));
}
