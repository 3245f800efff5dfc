using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Decoding;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// MMX instructions against the host. The harness does not dump MM registers, so every case
/// loads MM0-7 from the scratch page first and stores them back to it at the end.
/// </summary>
[TestFixture]
public sealed class MmxTests
{
    /// <summary>Where a case's initial MM0-7 are read from and its final MM0-7 written to.</summary>
    private const int MmIn = 0xC00, MmOut = 0xE00;

    private static readonly AssemblerRegisterMM[] Mm = [mm0, mm1, mm2, mm3, mm4, mm5, mm6, mm7];

    private static readonly string[] BinaryOps =
    [
        "Pxor", "Por", "Pand", "Pandn",
        "Pcmpeqb", "Pcmpeqw", "Pcmpeqd", "Pcmpgtb", "Pcmpgtw", "Pcmpgtd",
        "Pminub", "Pmaxub", "Pminsw", "Pmaxsw",
        "Paddb", "Paddw", "Paddd", "Paddq", "Psubb", "Psubw", "Psubd", "Psubq",
        "Paddusb", "Paddusw", "Psubusb", "Psubusw", "Paddsb", "Paddsw", "Psubsb", "Psubsw",
        "Pmullw", "Pmulhw", "Pmulhuw", "Pmuludq", "Pmaddwd", "Psadbw", "Pavgb", "Pavgw",
        "Punpcklbw", "Punpcklwd", "Punpckldq", "Punpckhbw", "Punpckhwd", "Punpckhdq",
        "Packsswb", "Packssdw", "Packuswb",
        "Psllw", "Pslld", "Psllq", "Psrlw", "Psrld", "Psrlq", "Psraw", "Psrad",
    ];

    /// <summary>Lane edge values for 64-bit registers: zeros, ones, every signed/unsigned limit, mixtures.</summary>
    private static readonly ulong[] Values =
    [
        0,
        ulong.MaxValue,
        0x7F7F_7F7F_8080_8080,
        0x7FFF_8000_7FFF_8000,
        0x8000_0000_7FFF_FFFF,
        0x8000_0000_0000_0000,
        0x7FFF_FFFF_FFFF_FFFF,
        0x00FF_00FF_FF00_FF00,
        0x0102_0304_FEFD_FCFB,
        0xFFFE_FFFE_0001_0001,
        0x1234_5678_9ABC_DEF0,
        0xC3A5_5A3C_F00F_0FF0,
        0x8000_8000_8000_8000,
        0x0000_0001_FFFF_FFFF,
    ];

    private static readonly ulong[] ShiftCounts = [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255, 0x1_0000_0001, 0x8000_0000_0000_0004, ulong.MaxValue];

    /// <summary>Distinct MM0-7, so a write to the wrong register shows.</summary>
    private static ulong[] PatternMm() => [.. Enumerable.Range(0, 8).Select(i => 0x9E37_79B9_7F4A_7C15UL * (ulong)(i + 3))];

    /// <summary>A case with MM0-7 loaded from the scratch page (overrides in <paramref name="mm"/>) and stored back after the code.</summary>
    private static DiffCase Case(
        string name,
        Action<Assembler> code,
        (int Reg, ulong Value)[]? mm = null,
        (int Reg, UInt128 Value)[]? xmm = null,
        uint mxcsr = 0x1F80,
        (Register Reg, ulong Value)[]? gpr = null,
        (int Offset, ulong Value)[]? memory = null)
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
            xmm: xmm,
            mxcsr: mxcsr,
            scratch: s,
            gpr: gpr);
    }

    /// <summary>The MM, mm/m64 form of a mnemonic (mm/m32 for the PUNPCKL*).</summary>
    private static Code MmForm(string mnemonic) =>
        Enum.TryParse<Code>($"{mnemonic}_mm_mmm64", out var code) ? code : SseKit.CodeOf($"{mnemonic}_mm_mmm32");

    [Test]
    public void BinaryOps_RegisterForms([ValueSource(nameof(BinaryOps))] string mnemonic)
    {
        var code = MmForm(mnemonic);
        var cases = new List<DiffCase>();
        foreach (var a in Values)
        {
            foreach (var b in Values)
            {
                cases.Add(Case($"{mnemonic} {a:X16}, {b:X16}", SseKit.Emit(Instruction.Create(code, Register.MM2, Register.MM5)), mm: [(2, a), (5, b)]));
            }
        }

        cases.Add(Case($"{mnemonic} mm6, mm6", SseKit.Emit(Instruction.Create(code, Register.MM6, Register.MM6))));
        cases.Add(Case($"{mnemonic} mm0, mm7", SseKit.Emit(Instruction.Create(code, Register.MM0, Register.MM7))));
        AssertSameAsHost(cases);
    }

    [Test]
    public void BinaryOps_MemoryForms()
    {
        var cases = new List<DiffCase>();
        foreach (var m in BinaryOps)
        {
            var code = MmForm(m);
            foreach (var (text, operand) in new (string, MemoryOperand)[] { ("[rbx+0x30]", new MemoryOperand(Register.RBX, 0x30)), ("[rbx+0x13]", new MemoryOperand(Register.RBX, 0x13)), ("[rbx+0xFFC]", new MemoryOperand(Register.RBX, 0xFFC)) })
            {
                if (text == "[rbx+0xFFC]" && !code.ToString().EndsWith("mmm32", StringComparison.Ordinal))
                {
                    continue;
                }

                cases.Add(Case(
                    $"{m} mm3, {text}",
                    SseKit.Emit(Instruction.Create(code, Register.MM3, operand)),
                    mm: [(3, 0x8000_7FFF_0102_FF80)],
                    memory: [(0x30, 0xFF01_0080_7FFF_8001), (0x13, 0x0000_0011_8000_FFFF)]));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Shifts_ByRegisterMemoryAndImmediate()
    {
        var cases = new List<DiffCase>();
        foreach (var m in new[] { "Psllw", "Pslld", "Psllq", "Psrlw", "Psrld", "Psrlq", "Psraw", "Psrad" })
        {
            foreach (var count in ShiftCounts)
            {
                foreach (var v in new[] { Values[3], Values[4], Values[10], ulong.MaxValue })
                {
                    cases.Add(Case($"{m} {v:X16} by mm {count}", SseKit.Emit(Instruction.Create(MmForm(m), Register.MM1, Register.MM4)), mm: [(1, v), (4, count)]));
                    if (count <= 255)
                    {
                        cases.Add(Case($"{m} {v:X16} by imm {count}", SseKit.Emit(Instruction.Create(SseKit.CodeOf($"{m}_mm_imm8"), Register.MM7, (int)count)), mm: [(7, v)]));
                    }
                }

                cases.Add(Case($"{m} by m64 {count}", SseKit.Emit(Instruction.Create(MmForm(m), Register.MM0, new MemoryOperand(Register.RBX, 0x40))), mm: [(0, Values[11])], memory: [(0x40, count)]));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Pshufw()
    {
        var cases = new List<DiffCase>();
        foreach (var imm in new[] { 0x00, 0x1B, 0xE4, 0x4E, 0xB1, 0xFF, 0x39, 0x93, 0x01, 0x27, 0xD8 })
        {
            cases.Add(Case($"pshufw mm1, mm2, {imm:X2}", a => a.pshufw(mm1, mm2, (byte)imm)));
            cases.Add(Case($"pshufw mm2, mm2, {imm:X2}", a => a.pshufw(mm2, mm2, (byte)imm)));
            cases.Add(Case($"pshufw mm5, [rbx+0x21], {imm:X2}", a => a.pshufw(mm5, __qword_ptr[rbx + 0x21], (byte)imm)));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void WordInsertExtractAndByteMask()
    {
        var cases = new List<DiffCase>();
        foreach (var imm in new[] { 0, 1, 2, 3, 4, 7, 0x85, 0xFF })
        {
            cases.Add(Case($"pextrw eax, mm3, {imm:X2}", a => a.pextrw(eax, mm3, (byte)imm)));
            cases.Add(Case($"pextrw r10, mm3, {imm:X2}", SseKit.Emit(Instruction.Create(Code.Pextrw_r64_mm_imm8, Register.R10, Register.MM3, imm))));
            cases.Add(Case($"pinsrw mm3, ecx, {imm:X2}", a => a.pinsrw(mm3, ecx, (byte)imm), gpr: [(Register.RCX, 0xDEAD_BEEF_8765_4321)]));
            cases.Add(Case($"pinsrw mm3, r9, {imm:X2}", SseKit.Emit(Instruction.Create(Code.Pinsrw_mm_r64m16_imm8, Register.MM3, Register.R9, imm))));
            cases.Add(Case($"pinsrw mm0, [rbx+0x1F], {imm:X2}", a => a.pinsrw(mm0, __word_ptr[rbx + 0x1F], (byte)imm)));
            cases.Add(Case($"pinsrw mm0, [rbx+0xFFE], {imm:X2}", a => a.pinsrw(mm0, __word_ptr[rbx + 0xFFE], (byte)imm)));
        }

        foreach (var v in Values)
        {
            cases.Add(Case($"pmovmskb eax, mm4 = {v:X16}", a => a.pmovmskb(eax, mm4), mm: [(4, v)]));
            cases.Add(Case($"pmovmskb r13, mm4 = {v:X16}", SseKit.Emit(Instruction.Create(Code.Pmovmskb_r64_mm, Register.R13, Register.MM4)), mm: [(4, v)]));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Moves_AllForms()
    {
        AssertSameAsHost([
            Case("movd mm1, ecx", a => a.movd(mm1, ecx), gpr: [(Register.RCX, 0xFFFF_FFFF_8000_0001)]),
            Case("movd mm1, [rbx+0x11]", a => a.movd(mm1, __dword_ptr[rbx + 0x11])),
            Case("movd mm1, [rbx+0xFFC]", a => a.movd(mm1, __dword_ptr[rbx + 0xFFC])),
            Case("movd r9d, mm6", a => a.movd(r9d, mm6)),
            Case("movd [rbx+0x31], mm6", a => a.movd(__dword_ptr[rbx + 0x31], mm6)),
            Case("movq mm7, r14", a => a.movq(mm7, r14)),
            Case("movq mm7, [rbx+0x40] (6E)", SseKit.Emit(Instruction.Create(Code.Movq_mm_rm64, Register.MM7, new MemoryOperand(Register.RBX, 0x40)))),
            Case("movq rax, mm2", a => a.movq(rax, mm2)),
            Case("movq [rbx+0x50], mm2 (7E)", SseKit.Emit(Instruction.Create(Code.Movq_rm64_mm, new MemoryOperand(Register.RBX, 0x50), Register.MM2))),
            Case("movq mm3, mm4", a => a.movq(mm3, mm4)),
            Case("movq mm3, [rbx+0x7]", a => a.movq(mm3, __qword_ptr[rbx + 7])),
            Case("movq mm3, [rbx+0xFF8]", a => a.movq(mm3, __qword_ptr[rbx + 0xFF8])),
            Case("movq mm3, mm4 (7F form)", SseKit.Emit(Instruction.Create(Code.Movq_mmm64_mm, Register.MM3, Register.MM4))),
            Case("movq [rbx+0x63], mm5 (7F)", a => a.movq(__qword_ptr[rbx + 0x63], mm5)),
            Case("movq mm5, mm5", a => a.movq(mm5, mm5)),
            Case("movntq [rbx+0x80], mm0", a => a.movntq(__qword_ptr[rbx + 0x80], mm0)),
            Case("movq2dq xmm9, mm1", a => a.movq2dq(xmm9, mm1)),
            Case("movq2dq xmm0, mm7", a => a.movq2dq(xmm0, mm7)),
            Case("movdq2q mm2, xmm13", a => a.movdq2q(mm2, xmm13)),
            Case("movdq2q mm0, xmm0", a => a.movdq2q(mm0, xmm0)),
            Case("movq mm1, fs:[r10+0x38]", a => a.movq(mm1, __qword_ptr.fs[r10 + 0x38]), gpr: [(Register.R10, ScratchAddress)]),
        ]);
    }

    [Test]
    public void Maskmovq()
    {
        var cases = new List<DiffCase>();
        foreach (var mask in new ulong[] { 0UL, ulong.MaxValue, 0x8000_0000_0000_0080, 0x0080_7F80_FF00_01FF, 0x8080_8080_0000_0000, 0x7F7F_7F7F_7F7F_7F7F })
        {
            cases.Add(Case($"maskmovq mask {mask:X16}", a => a.maskmovq(mm1, mm6), mm: [(6, mask)], gpr: [(Register.RDI, ScratchAddress + 0x105)]));
            cases.Add(Case(
                $"maskmovq edi mask {mask:X16}",
                SseKit.Emit(Instruction.CreateMaskmovq(32, Register.MM2, Register.MM3)),
                mm: [(3, mask)],
                gpr: [(Register.RDI, 0xFFFF_FFF0_0000_0000 | (ScratchAddress + 0x201))]));
        }


        // Whether unselected bytes past the end of a page fault is implementation-specific (this AMD host
        // faults); like MASKMOVDQU, only the selected bytes are checked here, so that case is not compared.
        AssertSameAsHost(cases);
    }

    [Test]
    public void Conversions()
    {
        const ulong one = 0x3F80_0000, minusTwoPointFive = 0xC020_0000, nan = 0x7FC0_0000, big = 0x5F00_0000, half = 0x3F00_0000, onePointFive = 0x3FC0_0000;
        ulong[] singles = [one | (minusTwoPointFive << 32), nan, big << 32, half | (onePointFive << 32), 0x4F00_0000 | (0xCF00_0000UL << 32), 0x8000_0001 | (0x7F80_0000UL << 32)];
        UInt128[] doubles =
        [
            SseKit.X(BitConverter.DoubleToUInt64Bits(-2.5), BitConverter.DoubleToUInt64Bits(1.5)),
            SseKit.X(BitConverter.DoubleToUInt64Bits(2147483647.5), BitConverter.DoubleToUInt64Bits(-2147483648.5)),
            SseKit.X(BitConverter.DoubleToUInt64Bits(double.NaN), BitConverter.DoubleToUInt64Bits(0.5)),
            SseKit.X(BitConverter.DoubleToUInt64Bits(-0.0), BitConverter.DoubleToUInt64Bits(1e300)),
        ];
        ulong[] ints = [0, 1 | (0xFFFF_FFFFUL << 32), 0x7FFF_FFFF | (0x8000_0000UL << 32), 0x0100_0001 | (0x7FFF_FFC1UL << 32)];
        var cases = new List<DiffCase>();
        foreach (var mxcsr in new uint[] { 0x1F80, 0x3F80, 0x5F80, 0x7F80, 0x1F80 | 0x3F })
        {
            foreach (var s in singles)
            {
                // A NaN in the upper lanes must raise nothing: only the low two singles are converted.
                var x = SseKit.X(0x7F80_0001_FFC0_0000, s);
                cases.Add(Case($"cvtps2pi {s:X16} mxcsr {mxcsr:X4}", a => a.cvtps2pi(mm1, xmm2), xmm: [(2, x)], mxcsr: mxcsr));
                cases.Add(Case($"cvttps2pi {s:X16} mxcsr {mxcsr:X4}", a => a.cvttps2pi(mm1, xmm2), xmm: [(2, x)], mxcsr: mxcsr));
                cases.Add(Case($"cvtps2pi m64 {s:X16} mxcsr {mxcsr:X4}", a => a.cvtps2pi(mm4, __qword_ptr[rbx + 0x48]), mxcsr: mxcsr, memory: [(0x48, s), (0x50, 0x7F80_0001_7F80_0001)]));
            }

            foreach (var d in doubles)
            {
                cases.Add(Case($"cvtpd2pi {d:X32} mxcsr {mxcsr:X4}", a => a.cvtpd2pi(mm7, xmm11), xmm: [(11, d)], mxcsr: mxcsr));
                cases.Add(Case($"cvttpd2pi {d:X32} mxcsr {mxcsr:X4}", a => a.cvttpd2pi(mm7, xmm11), xmm: [(11, d)], mxcsr: mxcsr));
                cases.Add(Case($"cvtpd2pi m128 {d:X32} mxcsr {mxcsr:X4}", a => a.cvtpd2pi(mm0, __xmmword_ptr[rbx + 0x60]), mxcsr: mxcsr, memory: [(0x60, (ulong)d), (0x68, (ulong)(d >> 64))]));
            }

            foreach (var i in ints)
            {
                cases.Add(Case($"cvtpi2ps {i:X16} mxcsr {mxcsr:X4}", a => a.cvtpi2ps(xmm3, mm5), mm: [(5, i)], mxcsr: mxcsr));
                cases.Add(Case($"cvtpi2ps m64 {i:X16} mxcsr {mxcsr:X4}", a => a.cvtpi2ps(xmm3, __qword_ptr[rbx + 0x70]), mxcsr: mxcsr, memory: [(0x70, i)]));
                cases.Add(Case($"cvtpi2pd {i:X16} mxcsr {mxcsr:X4}", a => a.cvtpi2pd(xmm3, mm5), mm: [(5, i)], mxcsr: mxcsr));
                cases.Add(Case($"cvtpi2pd m64 {i:X16} mxcsr {mxcsr:X4}", a => a.cvtpi2pd(xmm12, __qword_ptr[rbx + 0x71]), mxcsr: mxcsr, memory: [(0x71, i)]));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Cvtpd2pi_MisalignedMemory_IsGeneralProtection()
    {
        SseKit.AssertGeneralProtection(SseKit.Case("cvtpd2pi m128 misaligned", a => a.cvtpd2pi(mm0, __xmmword_ptr[rbx + 8])));
        SseKit.AssertGeneralProtection(SseKit.Case("cvttpd2pi m128 misaligned", a => a.cvttpd2pi(mm0, __xmmword_ptr[rbx + 4])));
    }

    /// <summary>A run of MMX code whose every intermediate result feeds the next, plus EMMS (which changes no MM data).</summary>
    [Test]
    public void Sequence_WithEmms()
    {
        AssertSameAsHost([
            Case("unpack-add-pack-emms", a =>
            {
                a.pxor(mm0, mm0);
                a.movd(mm1, __dword_ptr[rbx + 0x10]);
                a.punpcklbw(mm1, mm0);
                a.paddw(mm1, mm1);
                a.psubusw(mm1, mm2);
                a.packuswb(mm1, mm0);
                a.movd(eax, mm1);
                a.emms();
            }),
            Case("emms alone", a => a.emms()),
        ]);
    }

    [Test]
    public void Cpuid_ReportsMmx_AndEveryMmForm_IsImplemented()
    {
        var mmForms = Enum.GetValues<Code>()
            .Where(c => c != Code.INVALID && c.ToOpCode().Mode64 && c.Encoding() == EncodingKind.Legacy && c.ToString().Contains("_mm", StringComparison.Ordinal))
            .Where(c => c.CpuidFeatures() is [CpuidFeature.MMX or CpuidFeature.SSE or CpuidFeature.SSE2])
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(CpuFeatures.Missing(CpuidFeature.MMX), Is.Empty);
            Assert.That(CpuFeatures.Has(CpuidFeature.MMX), Is.True);
            Assert.That(CpuFeatures.Has(CpuidFeature.SSE), Is.True);
            Assert.That(CpuFeatures.Has(CpuidFeature.SSE2), Is.True);
            Assert.That(CpuFeatures.Query(1, 0).Edx & (1u << 23), Is.Not.Zero, "CPUID.1:EDX.MMX");
            Assert.That(mmForms, Has.Count.GreaterThan(70));
            Assert.That(mmForms.Where(c => !OpTable.IsImplemented(c)), Is.Empty);
        });
    }

    /// <summary>
    /// The x87 view of MMX: TOP and the tag word after MMX instructions and EMMS (FNSTENV), and
    /// the registers as FXSAVE shows them (an MM write sets the exponent to all ones). Needs the x87 unit.
    /// </summary>
    [Test]
    public void X87Aliasing_TagsTopAndRegisters()
    {
        Assume.That(OpTable.IsImplemented(Code.Fnstenv_m28byte) && OpTable.IsImplemented(Code.Fld1), "the x87 unit is not there yet");
        var probes = new (string Name, Action<Assembler> Code)[]
        {
            ("nothing", _ => { }),
            ("paddb", a => a.paddb(mm1, mm1)),
            ("movq mm3, rax", a => a.movq(mm3, rax)),
            ("movq [mem], mm2", a => a.movq(__qword_ptr[rbx + 0x20], mm2)),
            ("movd eax, mm2", a => a.movd(eax, mm2)),
            ("pextrw", a => a.pextrw(eax, mm1, 1)),
            ("pmovmskb", a => a.pmovmskb(eax, mm1)),
            ("maskmovq zero mask", a => a.maskmovq(mm1, mm0)),
            ("cvtpi2ps xmm, mm", a => a.cvtpi2ps(xmm0, mm1)),
            ("cvtpi2ps xmm, m64 (no transition)", a => a.cvtpi2ps(xmm0, __qword_ptr[rbx + 0x20])),
            ("cvtpi2pd xmm, m64 (no transition)", a => a.cvtpi2pd(xmm0, __qword_ptr[rbx + 0x20])),
            ("cvtps2pi", a => a.cvtps2pi(mm6, xmm1)),
            ("movq2dq", a => a.movq2dq(xmm0, mm1)),
            ("paddb; emms", a =>
            {
                a.paddb(mm1, mm1);
                a.emms();
            }),
        };
        var cases = new List<DiffCase>();
        foreach (var (name, code) in probes)
        {
            cases.Add(SseKit.Case(
                $"fninit; fld1 x2; {name}",
                a =>
                {
                    a.pxor(mm0, mm0);
                    a.movq(mm1, rax);
                    a.movq(mm2, rax);
                    a.fninit();
                    a.fld1();
                    a.fldz();
                    code(a);
                    X87View(a);
                },
                gpr: [(Register.RAX, 0x0123_4567_89AB_CDEF), (Register.RDI, ScratchAddress + 0x40)]));
        }

        // The other way round: what x87 loads becomes the MM register's value.
        cases.Add(SseKit.Case("fld1 then movq rax, mm7", a =>
        {
            a.fninit();
            a.fld1();
            a.movq(rax, mm7);
            a.emms();
        }));
        AssertSameAsHost(cases);
    }

    /// <summary>An unmasked x87 exception left pending is delivered (#MF, SIGFPE) by the next MMX instruction, before it changes anything.</summary>
    [Test]
    public void PendingX87Exception_IsDeliveredByMmxInstructions()
    {
        Assume.That(OpTable.IsImplemented(Code.Fdiv_st0_sti) && OpTable.IsImplemented(Code.Fldcw_m2byte), "the x87 unit is not there yet");

        // 1/0 with ZE unmasked: FDIV itself completes and leaves the exception pending.
        static void Prefix(Assembler a)
        {
            a.fninit();
            a.fldcw(__word_ptr[rbx]);
            a.fldz();
            a.fld1();
            a.fdiv(st0, st1);
        }

        var probe = new Assembler(64);
        Prefix(probe);
        var bytes = new MemoryStream();
        probe.Assemble(new StreamCodeWriter(bytes), 0);
        var faultAt = (ulong)bytes.Length;

        var probes = new (string Name, Action<Assembler> Code, bool Faults)[]
        {
            ("paddb", a => a.paddb(mm0, mm1), true),
            ("psllq imm", a => a.psllq(mm2, 3), true),
            ("movd mm, eax", a => a.movd(mm3, eax), true),
            ("movq [mem], mm", a => a.movq(__qword_ptr[rbx + 0x20], mm2), true),
            ("pextrw", a => a.pextrw(eax, mm1, 1), true),
            ("maskmovq", a => a.maskmovq(mm1, mm0), true),
            ("cvtpi2ps xmm, mm", a => a.cvtpi2ps(xmm0, mm1), true),
            ("emms", a => a.emms(), true),
            ("cvtpi2ps xmm, m64 (not an MMX instruction)", a => a.cvtpi2ps(xmm0, __qword_ptr[rbx + 0x20]), false),
        };
        foreach (var (name, code, faults) in probes)
        {
            var s = CaseKit.PatternScratch(0x1000);
            CaseKit.Store(s, 0, 2, 0x037B);
            var c = SseKit.Case(name, a =>
            {
                Prefix(a);
                code(a);
            }, scratch: s, gpr: [(Register.RDI, ScratchAddress + 0x40)]);
            var (signal, emulated, offset) = RunFaulting(c);
            Assert.Multiple(() =>
            {
                Assert.That(signal, Is.EqualTo(faults ? 8 : 0), $"{name}: native signal (SIGFPE)");
                Assert.That(emulated, Is.EqualTo(faults ? ExitReason.FloatingPointError : ExitReason.None), $"{name}: emulated exit");
                if (faults)
                {
                    Assert.That(offset, Is.EqualTo(faultAt), $"{name}: RIP must be the MMX instruction");
                }
            });
        }
    }

    /// <summary>FSW and the full tag word (FNSTENV) into R8/R9, and R0-R7 (FXSAVE, 10 bytes each) into the scratch page at 0x800.</summary>
    private static void X87View(Assembler a)
    {
        a.lea(rax, __[rsp - 0x220]);
        a.and(rax, -16);
        a.fnstenv(__[rax]);
        a.movzx(r8d, __word_ptr[rax + 4]);
        a.movzx(r9d, __word_ptr[rax + 8]);
        a.fldenv(__[rax]);
        a.fxsave(__[rax]);
        for (var i = 0; i < 8; i++)
        {
            a.mov(rcx, __qword_ptr[rax + (32 + (16 * i))]);
            a.mov(__qword_ptr[rbx + (0x800 + (16 * i))], rcx);
            a.mov(cx, __word_ptr[rax + (40 + (16 * i))]);
            a.mov(__word_ptr[rbx + (0x808 + (16 * i))], cx);
        }

        a.xor(eax, eax);
        a.xor(ecx, ecx);
    }
}
