using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Instructions;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>BMI1, BMI2 and ADX against the host, in 32- and 64-bit forms, register and memory sources.</summary>
[TestFixture]
public sealed class BmiTests
{
    private const ulong Af = 0x10, Pf = 0x4, Sf = 0x80;

    private static readonly ulong[] Values =
    [
        0, 1, 2, 3, 0x80, 0xFF00, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0x1_0000_0000, 0x8000_0000_0000_0000,
        0x7FFF_FFFF_FFFF_FFFF, ulong.MaxValue, 0x1234_5678_9ABC_DEF0, 0xF0F0_0000_0000_0100,
    ];

    /// <summary>Second operands: bit counts, BEXTR controls (start | length &lt;&lt; 8), masks.</summary>
    private static readonly ulong[] Controls =
    [
        0, 1, 7, 31, 32, 33, 63, 64, 65, 255, 256, 0x0804, 0x1000, 0x2020, 0x4000, 0x3F01, 0xFF00, 0x00FF, 0x4040, 0x1_0000_0008,
        0xFFFF_FFFF_FFFF_FF05, 0x5555_5555_5555_5555, 0xFF00_FF00_00FF_F0F0,
    ];

    /// <summary>Flags the SDM leaves undefined: compared on AMD hosts only (the executor models AMD).</summary>
    private static ulong Mask(ulong undefined) => HostCpu.IsAmd ? ArithmeticFlags : ArithmeticFlags & ~undefined;

    private static DiffCase Case(string name, Action<Assembler> code, ulong a, ulong b, ulong flags, ulong flagsMask)
    {
        var scratch = CaseKit.PatternScratch(0x40);
        CaseKit.Store(scratch, 8, 8, a);
        CaseKit.Store(scratch, 0x18, 8, b);
        return SseKit.Case(
            $"{name} a={a:X} b={b:X} flags={flags:X}",
            code,
            scratch: scratch,
            flags: flags,
            flagsMask: flagsMask,
            gpr: [(Register.RCX, a), (Register.RDX, b), (Register.RAX, 0xA5A5_A5A5_5A5A_5A5A)]);
    }

    private static IEnumerable<DiffCase> Pairs(string name, Action<Assembler> code, ulong undefined, bool bothFlagStates = true)
    {
        foreach (var a in Values)
        {
            foreach (var b in Controls)
            {
                yield return Case(name, code, a, b, 0, Mask(undefined));
                if (bothFlagStates)
                {
                    yield return Case(name, code, a, b, 0x8D5, Mask(undefined));
                }
            }
        }
    }

    [Test]
    public void Bmi1_MatchesHost()
    {
        var cases = new List<DiffCase>();
        cases.AddRange(Pairs("andn rax, rdx, rcx", a => a.andn(rax, rdx, rcx), Af | Pf));
        cases.AddRange(Pairs("andn eax, edx, ecx", a => a.andn(eax, edx, ecx), Af | Pf));
        cases.AddRange(Pairs("andn r9, rdx, [rbx+8]", a => a.andn(r9, rdx, __qword_ptr[rbx + 8]), Af | Pf, false));
        cases.AddRange(Pairs("andn r9d, edx, [rbx+8]", a => a.andn(r9d, edx, __dword_ptr[rbx + 8]), Af | Pf, false));
        cases.AddRange(Pairs("bextr rax, rcx, rdx", a => a.bextr(rax, rcx, rdx), Af | Pf | Sf));
        cases.AddRange(Pairs("bextr eax, ecx, edx", a => a.bextr(eax, ecx, edx), Af | Pf | Sf));
        cases.AddRange(Pairs("bextr r10, [rbx+8], rdx", a => a.bextr(r10, __qword_ptr[rbx + 8], rdx), Af | Pf | Sf, false));
        cases.AddRange(Pairs("bextr r10d, [rbx+8], edx", a => a.bextr(r10d, __dword_ptr[rbx + 8], edx), Af | Pf | Sf, false));
        foreach (var a in Values)
        {
            foreach (var flags in new ulong[] { 0, 0x8D5 })
            {
                cases.Add(Case("blsi rax, rcx", x => x.blsi(rax, rcx), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsi eax, ecx", x => x.blsi(eax, ecx), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsi r11, [rbx+8]", x => x.blsi(r11, __qword_ptr[rbx + 8]), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsmsk rax, rcx", x => x.blsmsk(rax, rcx), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsmsk eax, ecx", x => x.blsmsk(eax, ecx), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsmsk r11d, [rbx+8]", x => x.blsmsk(r11d, __dword_ptr[rbx + 8]), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsr rax, rcx", x => x.blsr(rax, rcx), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsr eax, ecx", x => x.blsr(eax, ecx), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsr r11, [rbx+8]", x => x.blsr(r11, __qword_ptr[rbx + 8]), a, 0, flags, Mask(Af | Pf)));
                cases.Add(Case("blsr ecx, ecx", x => x.blsr(ecx, ecx), a, 0, flags, Mask(Af | Pf)));
            }
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Bmi2_MatchesHost()
    {
        var cases = new List<DiffCase>();
        cases.AddRange(Pairs("bzhi rax, rcx, rdx", a => a.bzhi(rax, rcx, rdx), Af | Pf));
        cases.AddRange(Pairs("bzhi eax, ecx, edx", a => a.bzhi(eax, ecx, edx), Af | Pf));
        cases.AddRange(Pairs("bzhi r8, [rbx+8], rdx", a => a.bzhi(r8, __qword_ptr[rbx + 8], rdx), Af | Pf, false));
        cases.AddRange(Pairs("bzhi r8d, [rbx+8], edx", a => a.bzhi(r8d, __dword_ptr[rbx + 8], edx), Af | Pf, false));
        foreach (var (name, code) in new (string, Action<Assembler>)[]
        {
            ("mulx rax, r8, rcx", a => a.mulx(rax, r8, rcx)),
            ("mulx eax, r8d, ecx", a => a.mulx(eax, r8d, ecx)),
            ("mulx rax, rax, rcx (same destination)", a => a.mulx(rax, rax, rcx)),
            ("mulx eax, eax, ecx (same destination)", a => a.mulx(eax, eax, ecx)),
            ("mulx rdx, r9, [rbx+8]", a => a.mulx(rdx, r9, __qword_ptr[rbx + 8])),
            ("mulx r9d, edx, [rbx+8]", a => a.mulx(r9d, edx, __dword_ptr[rbx + 8])),
            ("pdep rax, rcx, rdx", a => a.pdep(rax, rcx, rdx)),
            ("pdep eax, ecx, edx", a => a.pdep(eax, ecx, edx)),
            ("pdep r12, rcx, [rbx+0x18]", a => a.pdep(r12, rcx, __qword_ptr[rbx + 0x18])),
            ("pext rax, rcx, rdx", a => a.pext(rax, rcx, rdx)),
            ("pext eax, ecx, edx", a => a.pext(eax, ecx, edx)),
            ("pext r12d, ecx, [rbx+0x18]", a => a.pext(r12d, ecx, __dword_ptr[rbx + 0x18])),
            ("shlx rax, rcx, rdx", a => a.shlx(rax, rcx, rdx)),
            ("shlx eax, ecx, edx", a => a.shlx(eax, ecx, edx)),
            ("shlx r13, [rbx+8], rdx", a => a.shlx(r13, __qword_ptr[rbx + 8], rdx)),
            ("shrx rax, rcx, rdx", a => a.shrx(rax, rcx, rdx)),
            ("shrx eax, ecx, edx", a => a.shrx(eax, ecx, edx)),
            ("shrx r13d, [rbx+8], edx", a => a.shrx(r13d, __dword_ptr[rbx + 8], edx)),
            ("sarx rax, rcx, rdx", a => a.sarx(rax, rcx, rdx)),
            ("sarx eax, ecx, edx", a => a.sarx(eax, ecx, edx)),
            ("sarx r13, [rbx+8], rdx", a => a.sarx(r13, __qword_ptr[rbx + 8], rdx)),
            ("rorx rax, rcx, 0", a => a.rorx(rax, rcx, 0)),
            ("rorx rax, rcx, 13", a => a.rorx(rax, rcx, 13)),
            ("rorx rax, rcx, 77", a => a.rorx(rax, rcx, 77)),
            ("rorx eax, ecx, 31", a => a.rorx(eax, ecx, 31)),
            ("rorx eax, ecx, 40", a => a.rorx(eax, ecx, 40)),
            ("rorx r14, [rbx+8], 8", a => a.rorx(r14, __qword_ptr[rbx + 8], 8)),
            ("rorx r14d, [rbx+8], 3", a => a.rorx(r14d, __dword_ptr[rbx + 8], 3)),
        })
        {
            // No flags change: all set and all clear must both survive.
            cases.AddRange(Pairs(name, code, 0));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void Adx_MatchesHost()
    {
        var cases = new List<DiffCase>();
        foreach (var a in Values)
        {
            foreach (var b in new ulong[] { 0, 1, 0xFFFF_FFFF, ulong.MaxValue, 0x8000_0000_0000_0000, 0x1234_5678_9ABC_DEF0 })
            {
                foreach (var flags in new ulong[] { 0, 0x001, 0x800, 0x8D5, 0x0D4 })
                {
                    cases.Add(Case("adcx rcx, rdx", x => x.adcx(rcx, rdx), a, b, flags, ArithmeticFlags));
                    cases.Add(Case("adcx ecx, edx", x => x.adcx(ecx, edx), a, b, flags, ArithmeticFlags));
                    cases.Add(Case("adox rcx, rdx", x => x.adox(rcx, rdx), a, b, flags, ArithmeticFlags));
                    cases.Add(Case("adox ecx, edx", x => x.adox(ecx, edx), a, b, flags, ArithmeticFlags));
                }

                cases.Add(Case("adcx rcx, [rbx+0x18]", x => x.adcx(rcx, __qword_ptr[rbx + 0x18]), a, b, 0x001, ArithmeticFlags));
                cases.Add(Case("adox ecx, [rbx+0x18]", x => x.adox(ecx, __dword_ptr[rbx + 0x18]), a, b, 0x800, ArithmeticFlags));
            }
        }

        // A multi-precision add chain interleaving the two carries, as in big-number code.
        cases.Add(Case("adcx/adox chain", x =>
        {
            x.xor(eax, eax);
            x.mov(r8, -1L);
            x.adcx(rcx, r8);
            x.adox(rdx, r8);
            x.adcx(rcx, r8);
            x.adox(rdx, rcx);
            x.adcx(rax, rax);
            x.adox(rax, rax);
        }, 0x1234, 0x5678, 0, ArithmeticFlags));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Pdep_Pext_PortablePaths_MatchIntrinsics()
    {
        Assume.That(System.Runtime.Intrinsics.X86.Bmi2.X64.IsSupported, "needs the host's PDEP/PEXT to compare with");
        var rng = new System.Random(7);
        for (var i = 0; i < 5000; i++)
        {
            var v = (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 33);
            var m = (ulong)rng.NextInt64() & ((ulong)rng.NextInt64() | ((ulong)rng.Next() << 40));
            Assert.That(PdepOp.Soft(v, m), Is.EqualTo(PdepOp.Deposit(v, m)), $"pdep {v:X} {m:X}");
            Assert.That(PextOp.Soft(v, m), Is.EqualTo(PextOp.Extract(v, m)), $"pext {v:X} {m:X}");
        }
    }

    [Test]
    public void Bmi1_Bmi2_Adx_AreAdvertised()
    {
        var (_, ebx7, _, _) = CpuFeatures.Query(7, 0);
        Assert.Multiple(() =>
        {
            Assert.That(CpuFeatures.Missing(CpuidFeature.BMI1), Is.Empty);
            Assert.That(CpuFeatures.Missing(CpuidFeature.BMI2), Is.Empty);
            Assert.That(CpuFeatures.Missing(CpuidFeature.ADX), Is.Empty);
            Assert.That(ebx7 & (1u << 3), Is.Not.Zero, "BMI1");
            Assert.That(ebx7 & (1u << 8), Is.Not.Zero, "BMI2");
            Assert.That(ebx7 & (1u << 19), Is.Not.Zero, "ADX");
        });
    }
}
