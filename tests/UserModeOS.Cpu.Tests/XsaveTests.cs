using Iced.Intel;
using NUnit.Framework;
using UserModeOS.Cpu.Tests.Differential;
using static Iced.Intel.AssemblerRegisters;
using static UserModeOS.Cpu.Tests.Differential.Differential;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// XGETBV, XSAVE, XSAVEOPT, XSAVEC and XRSTOR for the x87 and SSE components, against the host.
/// The host enables more components (AVX, ...) in its XCR0, so every native case uses an
/// instruction mask within bits 0-1 (EDX:EAX &amp; XCR0 is then the same on both) and reads only
/// bits 0-1 of XCR0/XINUSE. MXCSR_MASK is vendor-specific and blanked after a save.
/// </summary>
[TestFixture]
public sealed class XsaveTests
{
    private const ulong Compacted = 1UL << 63;

    /// <summary>The states a save starts from: which components are in use differs between them.</summary>
    private static readonly (string Name, Action<Assembler> Setup)[] States =
    [
        ("sse in use, x87 initial", _ => { }),
        ("x87 in use", a => { a.fld1(); a.fldpi(); a.fld(__qword_ptr[rbx + 0x800]); }),
        ("x87 popped but registers hold values", a => { a.fld1(); a.fstp(st0); a.fninit(); }),
        ("x87 used then initial again", a => { a.fldz(); a.fstp(st0); a.fninit(); }),
        ("sse initial (xmm zeroed)", ZeroXmm),
        ("sse xmm zero but MXCSR changed", a => { ZeroXmm(a); a.ldmxcsr(__dword_ptr[rbx + 0x810]); }),
        ("everything in use", a => { a.fld1(); a.ldmxcsr(__dword_ptr[rbx + 0x810]); }),
        ("everything initial", a => { ZeroXmm(a); a.fldz(); a.fstp(st0); a.fninit(); }),
    ];

    private static readonly (string Name, Action<Assembler, AssemblerMemoryOperand> Save)[] Saves =
    [
        ("xsave64", (a, m) => a.xsave64(m)),
        ("xsave", (a, m) => a.xsave(m)),
        ("xsaveopt64", (a, m) => a.xsaveopt64(m)),
        ("xsaveopt", (a, m) => a.xsaveopt(m)),
        ("xsavec64", (a, m) => a.xsavec64(m)),
        ("xsavec", (a, m) => a.xsavec(m)),
    ];

    private static readonly (ulong Eax, ulong Edx)[] Masks = [(3, 0), (1, 0), (2, 0), (0, 0), (3, 0xFFFF_FFFF), (0xFFFF_FF1B, 0)];

    /// <summary>Zeroes XMM0-15 with zero idioms (which the host recognizes as the initial state).</summary>
    private static void ZeroXmm(Assembler a)
    {
        AssemblerRegisterXMM[] all = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7, xmm8, xmm9, xmm10, xmm11, xmm12, xmm13, xmm14, xmm15];
        foreach (var x in all)
        {
            a.pxor(x, x);
        }
    }

    /// <summary>The scratch pattern with a double at 0x800 and an MXCSR value at 0x810.</summary>
    private static byte[] Scratch()
    {
        var s = CaseKit.PatternScratch(0x1000);
        CaseKit.Store(s, 0x800, 8, BitConverter.DoubleToUInt64Bits(-1234.5625));
        CaseKit.Store(s, 0x810, 4, 0x3FC0);
        return s;
    }

    private static DiffCase Case(string name, Action<Assembler> code, ulong eax, ulong edx, byte[]? scratch = null, ulong rcx = 0) =>
        SseKit.Case(name, code, scratch: scratch ?? Scratch(), gpr: [(Register.RAX, eax), (Register.RDX, edx), (Register.RCX, rcx)]);

    [Test]
    public void Saves_MatchHost([Values(0, 1, 2, 3, 4, 5)] int save)
    {
        var (saveName, emit) = Saves[save];
        var cases = new List<DiffCase>();
        foreach (var (stateName, setup) in States)
        {
            foreach (var (eax, edx) in Masks)
            {
                cases.Add(Case($"{saveName} mask {edx:X}:{eax:X}, {stateName}", a =>
                {
                    setup(a);
                    emit(a, __[rbx + 0x40]);
                    a.mov(__dword_ptr[rbx + 0x40 + 28], 0);
                }, eax, edx));
            }
        }

        // A header whose reserved bits are set: XSAVE/XSAVEOPT keep the unrequested XSTATE_BV bits, XSAVEC overwrites it.
        var dirty = Scratch();
        for (var i = 0; i < 64; i++)
        {
            dirty[0x40 + 512 + i] = 0xFF;
        }

        cases.Add(Case($"{saveName} over a dirty header", a =>
        {
            emit(a, __[rbx + 0x40]);
            a.mov(__dword_ptr[rbx + 0x40 + 28], 0);
        }, 2, 0, dirty));
        AssertSameAsHost(cases);
    }

    [Test]
    public void Xgetbv_MatchesHostInTheX87AndSseBits()
    {
        var cases = new List<DiffCase>
        {
            Case("xgetbv 0", a => { a.xgetbv(); a.and(eax, 3); }, ulong.MaxValue, ulong.MaxValue, rcx: 0),
            Case("xgetbv 0 (upper rcx bits ignored)", a => { a.xgetbv(); a.and(eax, 3); }, 0, 0, rcx: 0xFFFF_FFFF_0000_0000),
        };
        foreach (var (stateName, setup) in States)
        {
            cases.Add(Case($"xgetbv 1, {stateName}", a => { setup(a); a.xgetbv(); a.and(eax, 3); }, ulong.MaxValue, ulong.MaxValue, rcx: 1));
        }

        AssertSameAsHost(cases);
    }

    /// <summary>An XSAVE area at scratch offset 0: an x87 state with two registers in use, MXCSR and XMM values, and a header.</summary>
    private static byte[] Area(ulong xstateBv, ulong xcompBv, uint mxcsr = 0x9FA0, int dirtyHeaderByte = -1)
    {
        var s = Scratch();
        Array.Clear(s, 0, 576);
        CaseKit.Store(s, 0, 2, 0x027F); // FCW: 53-bit precision
        CaseKit.Store(s, 2, 2, (6 << 11) | 0x0021); // FSW: TOP = 6, PE, IE (masked)
        s[4] = 0xC0; // physical registers 6 and 7 in use
        CaseKit.Store(s, 24, 4, mxcsr);
        CaseKit.Store(s, 28, 4, 0xFFFF);
        CaseKit.Store(s, 32, 8, 0xC90F_DAA2_2168_C235); // ST0 = pi
        CaseKit.Store(s, 40, 2, 0x4000);
        CaseKit.Store(s, 48, 8, 0x8000_0000_0000_0000); // ST1 = -1
        CaseKit.Store(s, 56, 2, 0xBFFF);
        for (var i = 0; i < 16; i++)
        {
            CaseKit.Store(s, 160 + (16 * i), 8, 0x0102_0304_0506_0708UL * (ulong)(i + 1));
            CaseKit.Store(s, 168 + (16 * i), 8, 0xF0E0_D0C0_B0A0_9080UL ^ (ulong)i);
        }

        CaseKit.Store(s, 512, 8, xstateBv);
        CaseKit.Store(s, 520, 8, xcompBv);
        if (dirtyHeaderByte >= 0)
        {
            s[512 + dirtyHeaderByte] = 1;
        }

        return s;
    }

    [Test]
    public void Xrstor_StandardAndCompacted_MatchHost()
    {
        var cases = new List<DiffCase>();
        foreach (var (bv, comp) in new (ulong, ulong)[]
        {
            (3, 0), (2, 0), (1, 0), (0, 0),
            (3, Compacted | 3), (2, Compacted | 3), (1, Compacted | 3), (0, Compacted | 3),
            (2, Compacted | 2), (1, Compacted | 1), (0, Compacted), (0, Compacted | 2),
        })
        {
            foreach (var (eax, edx) in Masks)
            {
                var mask = eax;
                var area = Area(bv, comp);
                var name = $"xrstor bv {bv:X} comp {comp:X} mask {edx:X}:{mask:X}";
                cases.Add(Case(name + " (x87 in use before)", a => { a.fld1(); a.fldz(); a.xrstor64(__[rbx]); }, mask, edx, area));
                cases.Add(Case(name + " (xmm zero before)", a => { ZeroXmm(a); a.xrstor(__[rbx]); }, mask, edx, area));
            }
        }

        // The standard form checks only header bytes 8-23; the rest of the header is ignored.
        cases.Add(Case("xrstor standard, header byte 40 set", a => a.xrstor64(__[rbx]), 3, 0, Area(3, 0, dirtyHeaderByte: 40)));

        // MXCSR at its default with SSE restored or initialized.
        cases.Add(Case("xrstor compacted bv 1 resets MXCSR", a => { a.ldmxcsr(__dword_ptr[rbx + 0x810]); a.xrstor64(__[rbx]); }, 3, 0, Area(1, Compacted | 3)));
        cases.Add(Case("xrstor standard bv 1 loads MXCSR", a => { a.ldmxcsr(__dword_ptr[rbx + 0x810]); a.xrstor64(__[rbx]); }, 3, 0, Area(1, 0, 0x1F80)));
        AssertSameAsHost(cases);
    }

    [Test]
    public void SaveRestoreRoundTrips_MatchHost([Values(0, 1, 2, 3, 4, 5)] int save)
    {
        var (saveName, emit) = Saves[save];
        var cases = new List<DiffCase>();
        foreach (var (stateName, setup) in States)
        {
            cases.Add(Case($"{saveName} then xrstor, {stateName}", a =>
            {
                setup(a);

                // Software clears the header before a first save into an area (XRSTOR checks it).
                for (var i = 0; i < 8; i++)
                {
                    a.mov(__qword_ptr[rbx + 0x40 + 512 + (8 * i)], 0);
                }

                emit(a, __[rbx + 0x40]);

                // Clobber everything the area holds, then restore it.
                a.fld1();
                a.fldl2e();
                a.pcmpeqb(xmm0, xmm0);
                a.pcmpeqb(xmm9, xmm9);
                a.paddq(xmm3, xmm0);
                a.ldmxcsr(__dword_ptr[rbx + 0x810]);
                a.xrstor64(__[rbx + 0x40]);
                a.mov(__dword_ptr[rbx + 0x40 + 28], 0);
            }, 3, 0));
        }

        AssertSameAsHost(cases);
    }

    [Test]
    public void GlibcLazyBindingSequence_MatchesHost()
    {
        // _dl_runtime_resolve_xsavec: clear the header, XSAVEC with glibc's STATE_SAVE_MASK (SSE, AVX,
        // MPX, AVX-512 bits), run the resolver (which clobbers vector registers), XRSTOR with the same mask.
        // The host also saves its AVX state past byte 576; the area is wiped at the end on both sides.
        AssertSameAsHost([Case("dl_runtime_resolve_xsavec", a =>
        {
            a.mov(r12, rax);
            for (var i = 0; i < 8; i++)
            {
                a.mov(__qword_ptr[rbx + 512 + (8 * i)], 0);
            }

            a.xor(edx, edx);
            a.mov(eax, 0xEE);
            a.xsavec64(__[rbx]);
            a.pxor(xmm0, xmm0);
            a.pcmpeqd(xmm7, xmm7);
            a.movdqa(xmm15, xmm7);
            a.mov(eax, 0xEE);
            a.xor(edx, edx);
            a.xrstor64(__[rbx]);
            a.mov(r13, __qword_ptr[rbx + 512]);
            a.and(r13, 3);
            a.mov(r14, __qword_ptr[rbx + 520]);
            a.and(r14, 3);
            a.mov(rdi, rbx);
            a.mov(ecx, 0x1000);
            a.xor(eax, eax);
            a.rep.stosb();
        }, 0, 0)]);
    }

    [Test]
    public void Faults_AreGeneralProtection()
    {
        SseKit.AssertGeneralProtection(Case("xsave misaligned", a => a.xsave64(__[rbx + 0x10]), 3, 0));
        SseKit.AssertGeneralProtection(Case("xsaveopt misaligned", a => a.xsaveopt(__[rbx + 0x8]), 3, 0));
        SseKit.AssertGeneralProtection(Case("xsavec misaligned", a => a.xsavec64(__[rbx + 0x20]), 3, 0));
        SseKit.AssertGeneralProtection(Case("xrstor misaligned", a => a.xrstor64(__[rbx + 0x30]), 3, 0, Area(3, 0)));
        SseKit.AssertGeneralProtection(Case("xrstor XSTATE_BV bit 3 (not in XCR0)", a => a.xrstor64(__[rbx]), 3, 0, Area(8 | 3, 0)));
        SseKit.AssertGeneralProtection(Case("xrstor standard, XCOMP_BV non-zero", a => a.xrstor64(__[rbx]), 3, 0, Area(3, 1)));
        SseKit.AssertGeneralProtection(Case("xrstor standard, header byte 16 set", a => a.xrstor64(__[rbx]), 3, 0, Area(3, 0, dirtyHeaderByte: 16)));
        SseKit.AssertGeneralProtection(Case("xrstor standard, header byte 23 set", a => a.xrstor64(__[rbx]), 1, 0, Area(3, 0, dirtyHeaderByte: 23)));
        SseKit.AssertGeneralProtection(Case("xrstor compacted, XSTATE_BV beyond XCOMP_BV", a => a.xrstor64(__[rbx]), 3, 0, Area(3, Compacted | 1)));
        SseKit.AssertGeneralProtection(Case("xrstor compacted, XCOMP_BV bit 3", a => a.xrstor64(__[rbx]), 3, 0, Area(3, Compacted | 8 | 3)));
        SseKit.AssertGeneralProtection(Case("xrstor compacted, header byte 40 set", a => a.xrstor64(__[rbx]), 3, 0, Area(3, Compacted | 3, dirtyHeaderByte: 40)));
        SseKit.AssertGeneralProtection(Case("xrstor standard, reserved MXCSR bit", a => a.xrstor64(__[rbx]), 2, 0, Area(0, 0, 0x0010_1F80)));
        SseKit.AssertGeneralProtection(Case("xrstor compacted, reserved MXCSR bit", a => a.xrstor64(__[rbx]), 2, 0, Area(2, Compacted | 2, 0x0010_1F80)));
        SseKit.AssertGeneralProtection(Case("xgetbv 2", a => a.xgetbv(), 0, 0, rcx: 2));
        SseKit.AssertGeneralProtection(Case("xsetbv", a => a.xsetbv(), 3, 0, rcx: 0));
    }

    [Test]
    public void Faults_LeaveStateUntouched()
    {
        // A rejected XRSTOR changes nothing: the XMM registers keep their values.
        var c = Case("xrstor compacted, header byte 40 set", a => a.xrstor64(__[rbx]), 3, 0, Area(3, Compacted | 3, dirtyHeaderByte: 40));
        var cpu = RunEmulated(c);
        Assert.Multiple(() =>
        {
            Assert.That(cpu.Exit, Is.EqualTo(ExitReason.GeneralProtection));
            Assert.That(cpu.Xmm, Is.EqualTo(c.Xmm));
            Assert.That(cpu.Mxcsr, Is.EqualTo(c.Mxcsr));
        });
    }

    [Test]
    public void Cpuid_AdvertisesXsaveForX87AndSseOnly()
    {
        var (max, _, _, _) = CpuFeatures.Query(0, 0);
        var (_, _, ecx1, _) = CpuFeatures.Query(1, 0);
        Assert.Multiple(() =>
        {
            Assert.That(max, Is.GreaterThanOrEqualTo(0xDu));
            Assert.That(ecx1 & (1u << 26), Is.Not.Zero, "XSAVE");
            Assert.That(ecx1 & (1u << 27), Is.Not.Zero, "OSXSAVE");
            Assert.That(ecx1 & (1u << 28), Is.Zero, "no AVX");
            Assert.That(CpuFeatures.Query(0xD, 0), Is.EqualTo((3u, 576u, 576u, 0u)), "x87|SSE, 576-byte area");
            Assert.That(CpuFeatures.Query(0xD, 1).Eax, Is.EqualTo(7u), "XSAVEOPT, XSAVEC, XGETBV ECX=1; no XSAVES");
            Assert.That(CpuFeatures.Query(0xD, 2), Is.EqualTo((0u, 0u, 0u, 0u)), "no AVX component");
            Assert.That(CpuFeatures.Missing(CpuidFeature.XSAVE), Is.Empty);
            Assert.That(CpuFeatures.Missing(CpuidFeature.XSAVEOPT), Is.Empty);
            Assert.That(CpuFeatures.Missing(CpuidFeature.XSAVEC), Is.Empty);
        });
    }
}
