using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>BT/BTS/BTR/BTC (with LOCK), BSF/BSR, TZCNT/LZCNT, POPCNT and BSWAP against the host CPU.</summary>
[TestFixture]
public sealed class BitOpTests
{
    private const ulong Cf = 0x1;
    private const ulong Zf = 0x40;

    /// <summary>The scratch offset BT* memory operands use: the middle of the page, so negative bit offsets stay in it.</summary>
    private const int Middle = 2048;

    private static readonly string[] BitTests = ["Bt", "Bts", "Btr", "Btc"];

    private static Register Gpr(int bits, Reg r) => bits switch
    {
        16 => Register.AX + (int)r,
        32 => Register.EAX + (int)r,
        _ => Register.RAX + (int)r,
    };

    private static readonly ulong[] Offsets = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 0x7FFF, 0xFFFF, 0xFFFF_FFFF, ulong.MaxValue, unchecked((ulong)-9), unchecked((ulong)-64), unchecked((ulong)-100), 1000, 16000];

    /// <summary>A page-sized scratch pattern, so bit offsets anywhere in it read distinct bits.</summary>
    private static byte[] Noise()
    {
        var page = new byte[4096];
        for (var i = 0; i < page.Length; i++)
        {
            page[i] = (byte)((i * 37) ^ (i >> 3) ^ 0x5A);
        }

        return page;
    }

    [TestCaseSource(nameof(BitTests))]
    public void RegisterOperand(string mnemonic)
    {
        // ZF is documented as unaffected; OF, SF, AF and PF are undefined.
        var cases = new List<DiffCase>();
        foreach (var bits in new[] { 16, 32, 64 })
        {
            var dst = Gpr(bits, Reg.Rsi);
            var off = Gpr(bits, Reg.R9);
            foreach (var v in DiffCases.EdgeValues(bits))
            {
                foreach (var flags in DiffCases.InitialFlags)
                {
                    foreach (var o in Offsets)
                    {
                        var gpr = DiffCases.Gpr();
                        DiffCases.SetReg(gpr, dst, v);
                        DiffCases.SetReg(gpr, off, o);
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} {dst}={v:X}, {off}={o:X} flags={flags:X}",
                            Code = DiffCases.Emit(Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_r{bits}"), dst, off)),
                            Gpr = gpr,
                            Flags = flags,
                            FlagsMask = Cf | Zf,
                        });
                    }

                    foreach (var imm in new[] { 0, 1, 15, 16, 31, 32, 63, 64, 127, 200, 255 })
                    {
                        var gpr = DiffCases.Gpr();
                        DiffCases.SetReg(gpr, dst, v);
                        cases.Add(new DiffCase
                        {
                            Name = $"{mnemonic} {dst}={v:X}, {imm} flags={flags:X}",
                            Code = DiffCases.Emit(Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_imm8"), dst, imm)),
                            Gpr = gpr,
                            Flags = flags,
                            FlagsMask = Cf | Zf,
                        });
                    }
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [TestCaseSource(nameof(BitTests))]
    public void MemoryOperand(string mnemonic)
    {
        var cases = new List<DiffCase>();
        var locks = mnemonic == "Bt" ? new[] { false } : new[] { false, true };
        foreach (var locked in locks)
        {
            foreach (var bits in new[] { 16, 32, 64 })
            {
                var off = Gpr(bits, Reg.Rdx);
                var mem = new MemoryOperand(Register.RBX, Middle);
                foreach (var flags in DiffCases.InitialFlags)
                {
                    // A register offset is a signed bit index from the operand: it may address other words.
                    foreach (var o in Offsets)
                    {
                        var signed = (long)(o << (64 - bits)) >> (64 - bits);
                        if (signed is < -Middle * 8 or >= Middle * 8)
                        {
                            continue;
                        }

                        var gpr = DiffCases.Gpr();
                        DiffCases.SetReg(gpr, off, o);
                        var insn = Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_r{bits}"), mem, off);
                        insn.HasLockPrefix = locked;
                        cases.Add(new DiffCase
                        {
                            Name = $"{(locked ? "lock " : "")}{mnemonic} m{bits}, {off}={o:X} flags={flags:X}",
                            Code = DiffCases.Emit(insn),
                            Gpr = gpr,
                            Flags = flags,
                            FlagsMask = Cf | Zf,
                            Scratch = Noise(),
                        });
                    }

                    // An imm8 offset is taken modulo the operand size and never leaves it.
                    foreach (var imm in new[] { 0, 3, 15, 16, 31, 32, 63, 64, 200, 255 })
                    {
                        var insn = Instruction.Create(DiffCases.CodeOf($"{mnemonic}_rm{bits}_imm8"), mem, imm);
                        insn.HasLockPrefix = locked;
                        cases.Add(new DiffCase
                        {
                            Name = $"{(locked ? "lock " : "")}{mnemonic} m{bits}, {imm} flags={flags:X}",
                            Code = DiffCases.Emit(insn),
                            Gpr = DiffCases.Gpr(),
                            Flags = flags,
                            FlagsMask = Cf | Zf,
                            Scratch = Noise(),
                        });
                    }
                }
            }
        }

        AssertSameAsHost(cases);
    }

    [TestCase("Bsf", Zf)]
    [TestCase("Bsr", Zf)]
    [TestCase("Tzcnt", Cf | Zf)]
    [TestCase("Lzcnt", Cf | Zf)]
    [TestCase("Popcnt", 0x8D5UL)]
    public void ScanAndCount(string mnemonic, ulong definedFlags)
    {
        // BSF/BSR of zero set ZF but leave the destination undefined (SDM): those cases
        // overwrite it after the scan, so only ZF is compared; see BsfBsr_ZeroSource_KeepsTheDestination.
        var values = new[] { 16, 32, 64 }.ToDictionary(
            bits => bits,
            bits => DiffCases.EdgeValues(bits).Concat(new ulong[] { 0x8UL, 0x30, 0x8000_0001 & DiffCases.Mask(bits), 0x0100_0000_0000 & DiffCases.Mask(bits) }).Distinct().ToArray());
        AssertSameAsHost(ScanCases(mnemonic, definedFlags, bits => values[bits], discardZeroSourceResult: mnemonic is "Bsf" or "Bsr"));
    }

    /// <summary>
    /// A zero source leaves a BSF/BSR destination unchanged, upper half included (AMD documents
    /// this; the SDM calls the destination undefined), so this runs on AMD hosts only.
    /// </summary>
    [TestCase("Bsf")]
    [TestCase("Bsr")]
    public void BsfBsr_ZeroSource_KeepsTheDestination(string mnemonic)
    {
        Assume.That(HostCpu.IsAmd, HostCpu.AmdOnly);
        AssertSameAsHost(ScanCases(mnemonic, Zf, _ => [0UL], discardZeroSourceResult: false));
    }

    private static List<DiffCase> ScanCases(string mnemonic, ulong definedFlags, Func<int, ulong[]> values, bool discardZeroSourceResult)
    {
        var cases = new List<DiffCase>();
        foreach (var bits in new[] { 16, 32, 64 })
        {
            var dst = Gpr(bits, Reg.Rdi);
            var src = Gpr(bits, Reg.R14);
            var code = DiffCases.CodeOf($"{mnemonic}_r{bits}_rm{bits}");
            foreach (var v in values(bits))
            {
                // MOV leaves the flags alone: it only hides an undefined destination.
                var discard = discardZeroSourceResult && v == 0
                    ? [Instruction.Create(Code.Mov_r64_imm64, Register.RDI, 0x0DDC_0FFE_E0DD_F00DUL)]
                    : Array.Empty<Instruction>();
                foreach (var flags in DiffCases.InitialFlags)
                {
                    var gpr = DiffCases.Gpr();
                    DiffCases.SetReg(gpr, src, v);
                    cases.Add(new DiffCase
                    {
                        Name = $"{mnemonic} {dst}, {src}={v:X} flags={flags:X}",
                        Code = DiffCases.Emit([Instruction.Create(code, dst, src), .. discard]),
                        Gpr = gpr,
                        Flags = flags,
                        FlagsMask = definedFlags,
                    });
                    cases.Add(new DiffCase
                    {
                        Name = $"{mnemonic} {dst}, m{bits}={v:X} flags={flags:X}",
                        Code = DiffCases.Emit([Instruction.Create(code, dst, new MemoryOperand(Register.RBX, 8)), .. discard]),
                        Gpr = DiffCases.Gpr(),
                        Flags = flags,
                        FlagsMask = definedFlags,
                        Scratch = DiffCases.ScratchWith(8, v),
                    });
                }
            }
        }

        return cases;
    }

    [Test]
    public void Bswap()
    {
        var cases = new List<DiffCase>();
        foreach (var reg in new[] { Register.EAX, Register.EBP, Register.R8D, Register.R15D, Register.RAX, Register.RSI, Register.R11, Register.R15 })
        {
            foreach (var v in new ulong[] { 0x0123_4567_89AB_CDEFUL, 0xFF00_0000_0000_00FF, 0 })
            {
                var gpr = DiffCases.Gpr();
                DiffCases.SetReg(gpr, reg.GetFullRegister(), v);
                cases.Add(new DiffCase
                {
                    Name = $"bswap {reg}={v:X}",
                    Code = DiffCases.Emit(Instruction.Create(reg.GetSize() == 4 ? Code.Bswap_r32 : Code.Bswap_r64, reg)),
                    Gpr = gpr,
                    Flags = 0x8D5,
                });
            }
        }

        AssertSameAsHost(cases);
    }

    /// <summary>66 0F C8: BSWAP with a 16-bit operand is undefined in the SDM; AMD hardware zeroes the low word.</summary>
    [Test]
    public void Bswap16_ZeroesTheWord_LikeAmd()
    {
        Assume.That(HostCpu.IsAmd, HostCpu.AmdOnly);
        AssertSameAsHost([
            new DiffCase
            {
                Name = "bswap ax",
                Code = a => a.db(0x66, 0x0F, 0xC8),
                Gpr = DiffCases.Gpr((0, 0x1122_3344_5566_7788)),
            },
        ]);
    }
}
