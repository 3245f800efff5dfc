using System.Text;
using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Decoding;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

[TestFixture]
public sealed class SystemOpTests
{
    /// <summary>Leaf-1/7/extended feature bits and the Iced feature each one stands for.</summary>
    private static readonly (uint Leaf, char Register, int Bit, CpuidFeature Feature)[] FeatureBits =
    [
        (1, 'c', 0, CpuidFeature.SSE3), (1, 'c', 1, CpuidFeature.PCLMULQDQ), (1, 'c', 9, CpuidFeature.SSSE3),
        (1, 'c', 13, CpuidFeature.CMPXCHG16B), (1, 'c', 19, CpuidFeature.SSE4_1), (1, 'c', 20, CpuidFeature.SSE4_2),
        (1, 'c', 22, CpuidFeature.MOVBE), (1, 'c', 23, CpuidFeature.POPCNT), (1, 'c', 25, CpuidFeature.AES), (1, 'c', 26, CpuidFeature.XSAVE),
        (1, 'c', 30, CpuidFeature.RDRAND),
        (1, 'd', 0, CpuidFeature.FPU), (1, 'd', 4, CpuidFeature.TSC), (1, 'd', 8, CpuidFeature.CX8),
        (1, 'd', 15, CpuidFeature.CMOV), (1, 'd', 19, CpuidFeature.CLFSH), (1, 'd', 23, CpuidFeature.MMX),
        (1, 'd', 24, CpuidFeature.FXSR), (1, 'd', 25, CpuidFeature.SSE), (1, 'd', 26, CpuidFeature.SSE2),
        (7, 'b', 0, CpuidFeature.FSGSBASE), (7, 'b', 3, CpuidFeature.BMI1), (7, 'b', 8, CpuidFeature.BMI2),
        (7, 'b', 18, CpuidFeature.RDSEED), (7, 'b', 19, CpuidFeature.ADX), (7, 'b', 23, CpuidFeature.CLFLUSHOPT),
        (7, 'b', 29, CpuidFeature.SHA),
        (0x8000_0001, 'c', 5, CpuidFeature.LZCNT), (0x8000_0001, 'c', 8, CpuidFeature.PREFETCHW),
        (0x8000_0001, 'd', 27, CpuidFeature.RDTSCP),
    ];

    private static (uint A, uint B, uint C, uint D) CpuidViaGuest(uint leaf, uint subleaf = 0)
    {
        var cpu = Cases.RunAlone(Cases.Assemble(a => a.cpuid()), c =>
        {
            c[Reg.Rax] = 0xFFFF_FFFF_0000_0000UL | leaf;
            c[Reg.Rcx] = subleaf;
            c[Reg.Rbx] = ulong.MaxValue;
            c[Reg.Rdx] = ulong.MaxValue;
        });
        Assert.That(cpu[Reg.Rax] >> 32 | cpu[Reg.Rbx] >> 32 | cpu[Reg.Rcx] >> 32 | cpu[Reg.Rdx] >> 32, Is.Zero, "CPUID zero-extends");
        return ((uint)cpu[Reg.Rax], (uint)cpu[Reg.Rbx], (uint)cpu[Reg.Rcx], (uint)cpu[Reg.Rdx]);
    }

    [Test]
    public void Cpuid_Leaf0_ReportsVendorAndMaxLeaf()
    {
        var (a, b, c, d) = CpuidViaGuest(0);
        var vendor = Encoding.ASCII.GetString([.. BitConverter.GetBytes(b), .. BitConverter.GetBytes(d), .. BitConverter.GetBytes(c)]);
        Assert.Multiple(() =>
        {
            Assert.That(vendor, Is.EqualTo(CpuFeatures.Vendor));
            Assert.That(a, Is.EqualTo(0xDu), "the XSAVE leaf is the last");
        });
    }

    [Test]
    public void Cpuid_BrandString_IsReadable()
    {
        Assert.That(CpuidViaGuest(0x8000_0000).A, Is.GreaterThanOrEqualTo(0x8000_0004u));
        var bytes = new List<byte>();
        for (var leaf = 0x8000_0002u; leaf <= 0x8000_0004u; leaf++)
        {
            var (a, b, c, d) = CpuidViaGuest(leaf);
            foreach (var r in new[] { a, b, c, d })
            {
                bytes.AddRange(BitConverter.GetBytes(r));
            }
        }

        Assert.That(Encoding.ASCII.GetString([.. bytes]).TrimEnd('\0'), Is.EqualTo("UserModeOS virtual x86-64"));
    }

    [Test]
    public void Cpuid_FeatureBits_AreExactlyTheImplementedInstructions()
    {
        var report = new StringBuilder();
        foreach (var (leaf, reg, bit, feature) in FeatureBits)
        {
            var (_, b, c, d) = CpuidViaGuest(leaf);
            var value = reg switch { 'b' => b, 'c' => c, _ => d };
            var advertised = (value >> bit & 1) != 0;
            var forms = CpuFeatures.FormsOf(feature);
            var missing = forms.Where(code => !OpTable.IsImplemented(code)).ToList();
            Assert.That(forms, Is.Not.Empty, $"{feature} has instruction forms");
            Assert.That(advertised, Is.EqualTo(missing.Count == 0), $"{feature} advertised={advertised}, missing: {string.Join(", ", missing.Take(10))}");
            report.Append($"{feature,-12} {(advertised ? "yes" : "no ")} {forms.Count - missing.Count}/{forms.Count}");
            if (missing.Count > 0)
            {
                report.Append($"  missing: {string.Join(" ", missing.Take(12))}{(missing.Count > 12 ? " ..." : "")}");
            }

            report.AppendLine();
        }

        TestContext.Out.WriteLine(report);
    }

    [Test]
    public void Cpuid_FeaturesImplementedHere_AreAdvertised()
    {
        var (_, ebx1, ecx1, edx1) = CpuidViaGuest(1);
        var (_, ebx7, _, edx7) = CpuidViaGuest(7);
        var (_, _, ecxE, edxE) = CpuidViaGuest(0x8000_0001);
        Assert.Multiple(() =>
        {
            Assert.That(edx1 & (1u << 4), Is.Not.Zero, "TSC");
            Assert.That(edx1 & (1u << 8), Is.Not.Zero, "CX8");
            Assert.That(edx1 & (1u << 15), Is.Not.Zero, "CMOV");
            Assert.That(edx1 & (1u << 19), Is.Not.Zero, "CLFSH");
            Assert.That(edx1 & (1u << 24), Is.Not.Zero, "FXSR");
            Assert.That(edx1 & (1u << 25), Is.Not.Zero, "SSE");
            Assert.That(edx1 & (1u << 26), Is.Not.Zero, "SSE2");
            Assert.That(ebx1 >> 8 & 0xFF, Is.EqualTo(8u), "CLFLUSH line size");
            Assert.That(ecx1 & (1u << 13), Is.Not.Zero, "CX16");
            Assert.That(ecx1 & (1u << 22), Is.Not.Zero, "MOVBE");
            Assert.That(ecx1 & (1u << 26), Is.Not.Zero, "XSAVE");
            Assert.That(ecx1 & (1u << 27), Is.Not.Zero, "OSXSAVE");
            Assert.That(ecx1 & (1u << 28), Is.Zero, "no AVX");
            Assert.That(ecx1 & (1u << 31), Is.Zero, "no hypervisor bit");
            Assert.That(ebx7 & (1u << 9), Is.Not.Zero, "ERMS");
            Assert.That(edx7 & (1u << 4), Is.Not.Zero, "FSRM");
            Assert.That(ecxE & 1, Is.Not.Zero, "LAHF/SAHF in 64-bit mode");
            Assert.That(ecxE & (1u << 8), Is.Not.Zero, "PREFETCHW");
            Assert.That(edxE & (1u << 11), Is.Not.Zero, "SYSCALL");
            Assert.That(edxE & (1u << 27), Is.Not.Zero, "RDTSCP");
            Assert.That(edxE & (1u << 29), Is.Not.Zero, "LM");
        });
    }

    [Test]
    public void Cpuid_UnknownLeavesAndSubleaves_AreZero()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CpuidViaGuest(2), Is.EqualTo((0u, 0u, 0u, 0u)));
            Assert.That(CpuidViaGuest(7, 1), Is.EqualTo((0u, 0u, 0u, 0u)));
            Assert.That(CpuidViaGuest(0x4000_0000), Is.EqualTo((0u, 0u, 0u, 0u)));
            Assert.That(CpuidViaGuest(0x8000_0007), Is.EqualTo((0u, 0u, 0u, 0u)));
        });
    }

    [Test]
    public void Cpuid_CacheLeaves_DescribeTheAdvertisedCaches()
    {
        // AMD's L1 (8000_0005h) and L2/L3 (8000_0006h) descriptors, which glibc sizes its copy thresholds from.
        var (_, _, l1d, l1i) = CpuidViaGuest(0x8000_0005);
        var (_, _, l2, l3) = CpuidViaGuest(0x8000_0006);
        Assert.Multiple(() =>
        {
            Assert.That(l1d >> 24, Is.EqualTo(32u), "L1d KiB");
            Assert.That(l1i >> 24, Is.EqualTo(32u), "L1i KiB");
            Assert.That(l2 >> 16, Is.EqualTo(512u), "L2 KiB");
            Assert.That((l3 >> 18) * 512, Is.EqualTo(16u * 1024), "L3 KiB");
            Assert.That(l1d & 0xFF, Is.EqualTo(64u), "line size");
        });
    }

    [Test]
    public void Rdtsc_Rdtscp_IncreaseAndZeroExtend()
    {
        var cpu = Cases.RunAlone(Cases.Assemble(a =>
        {
            a.rdtsc();
            a.shl(rdx, 32);
            a.or(rax, rdx);
            a.mov(r8, rax);
            a.mov(ecx, 1000);
            var spin = a.CreateLabel();
            a.Label(ref spin);
            a.dec(ecx);
            a.jnz(spin);
            a.mov(rax, ulong.MaxValue);
            a.mov(rdx, ulong.MaxValue);
            a.rdtscp();
            a.mov(r9, rax);
            a.mov(r10, rdx);
            a.mov(r11, rcx);
        }));
        var first = cpu[Reg.R8];
        var second = (cpu[Reg.R10] << 32) | cpu[Reg.R9];
        Assert.Multiple(() =>
        {
            Assert.That(cpu[Reg.R9] >> 32, Is.Zero);
            Assert.That(cpu[Reg.R10] >> 32, Is.Zero);
            Assert.That(cpu[Reg.R11], Is.Zero, "TSC_AUX");
            Assert.That(second, Is.GreaterThan(first));
        });
    }

    [Test]
    public void HintsFencesAndNops_ChangeNothing_MatchHost()
    {
        AssertSameAsHost([
            Cases.Make("pause", a => a.pause()),
            Cases.Make("fences", a => { a.lfence(); a.mfence(); a.sfence(); }),
            Cases.Make("prefetches", a =>
            {
                a.prefetchnta(__byte_ptr[rbx]);
                a.prefetcht0(__byte_ptr[rbx + 64]);
                a.prefetcht1(__byte_ptr[rax]);
                a.prefetcht2(__byte_ptr[rbx]);
                a.prefetchw(__byte_ptr[rcx]);
            }),
            Cases.Make("clflush/clflushopt", a => { a.clflush(__byte_ptr[rbx + 0x40]); a.clflushopt(__byte_ptr[rbx]); }),
            Cases.Make("multi-byte nops", a =>
            {
                a.db(0x66, 0x90);
                a.db(0x0F, 0x1F, 0x00);
                a.db(0x0F, 0x1F, 0x40, 0x00);
                a.db(0x0F, 0x1F, 0x44, 0x00, 0x00);
                a.db(0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00);
                a.db(0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00);
                a.db(0x66, 0x2E, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00);
                a.db(0x48, 0x0F, 0x1F, 0xC0);
                a.db(0x0F, 0x19, 0xC8);
                a.db(0x0F, 0x0D, 0x0B);
            }),
        ]);
    }

    [Test]
    public void Ud2_IsInvalidOpcodeAtTheInstruction()
    {
        var (signal, emulated, offset) = RunFaulting(Cases.Make("ud2", a => { a.nop(); a.ud2(); }));
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(4), "SIGILL");
            Assert.That(emulated, Is.EqualTo(ExitReason.InvalidOpcode));
            Assert.That(offset, Is.EqualTo(1UL));
        });
    }

    [Test]
    public void Int3_IsBreakpointWithRipPastIt()
    {
        var (signal, emulated, offset) = RunFaulting(Cases.Make("int3", a => { a.nop(); a.int3(); a.nop(); }));
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(5), "SIGTRAP");
            Assert.That(emulated, Is.EqualTo(ExitReason.Breakpoint));
            Assert.That(offset, Is.EqualTo(2UL));
        });
    }

    [Test]
    public void IntN_And_Hlt_AreGeneralProtection()
    {
        var (signal, emulated, offset) = RunFaulting(Cases.Make("int 0x41", a => a.@int(0x41)));
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(11), "SIGSEGV");
            Assert.That(emulated, Is.EqualTo(ExitReason.GeneralProtection));
            Assert.That(offset, Is.EqualTo(0UL));
        });
        (signal, emulated, offset) = RunFaulting(Cases.Make("hlt", a => a.hlt()));
        Assert.Multiple(() =>
        {
            Assert.That(signal, Is.EqualTo(11), "SIGSEGV");
            Assert.That(emulated, Is.EqualTo(ExitReason.GeneralProtection));
            Assert.That(offset, Is.EqualTo(0UL));
        });
    }

    [TestCase(new byte[] { 0xC5, 0xF8, 0x77 }, TestName = "vzeroupper (no AVX)")]
    [TestCase(new byte[] { 0x0F, 0xC7, 0x28 }, TestName = "xsaves (kernel only)")]
    [TestCase(new byte[] { 0x8E, 0xC0 }, TestName = "mov es,ax")]
    [TestCase(new byte[] { 0x8C, 0xC0 }, TestName = "mov ax,es")]
    [TestCase(new byte[] { 0xCE }, TestName = "into (invalid in 64-bit mode)")]
    public void UnsupportedForms_AreInvalidOpcode(byte[] code)
    {
        var cpu = Cases.RunAlone(code);
        Assert.Multiple(() =>
        {
            Assert.That(cpu.Exit, Is.EqualTo(ExitReason.InvalidOpcode));
            Assert.That(cpu.Rip, Is.EqualTo(0x10_0000UL));
        });
    }
}
