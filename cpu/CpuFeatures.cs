using System.Text;
using Iced.Intel;
using UserModeOS.Cpu.Decoding;

namespace UserModeOS.Cpu;

/// <summary>
/// The CPUID leaves this CPU reports. Every feature bit is derived from the op table, so
/// CPUID advertises exactly the instructions that are implemented and nothing else.
/// </summary>
/// <remarks>
/// <para>
/// Vendor: "AuthenticAMD", family 17h. glibc reads the feature leaves only for vendors it
/// knows (for any other vendor <c>init_cpu_features</c> skips leaf 1 and every program
/// fails the x86-64 baseline ISA check), and AMD's path needs nothing we lack: cache sizes
/// come from leaves 8000_0005h/8000_0006h, which describe a plausible 32 KiB L1d, 512 KiB
/// L2 and 16 MiB L3. Family 17h is not one glibc applies model work-arounds to. The brand
/// string still says what this really is.
/// </para>
/// <para>
/// A feature bit is set when every 64-bit-mode instruction form Iced attributes to that
/// feature alone (and not also to x87, as FCMOVcc or FISTTP are) has a builder. Forms on
/// MMX registers count only toward the MMX bit: on real hardware they come with MMX, and
/// leaving SSE/SSE2 clear because an MMX-register form is missing would hide the XMM ISA
/// that programs actually use. glibc's ISA-level check needs the x86-64 baseline (CMOV,
/// CX8, FPU, FXSR, MMX, SSE, SSE2); x86-64-v2 comes with SSE3, SSSE3 and SSE4.
/// </para>
/// <para>
/// XSAVE: the XSAVE feature set manages the x87 and SSE state components only (XCR0 = 3, see
/// <see cref="Instructions.Xsave"/>). Leaf 1 ECX bit 26 (XSAVE) is derived from the op table
/// like the other bits; bit 27 (OSXSAVE) goes with it, since our kernel is the OS that has
/// enabled XSAVE. Leaf 0Dh: subleaf 0 reports the supported components (3) and the area size
/// (576: the 512-byte legacy region and the 64-byte header); subleaf 1 reports XSAVEOPT,
/// XSAVEC and XGETBV with ECX = 1 when implemented (no XSAVES: it is for the kernel). glibc's
/// dynamic linker uses XSAVEC in <c>_dl_runtime_resolve</c> when leaf 0Dh says it can.
/// </para>
/// <para>
/// Not advertised: AVX and everything that needs its state (XCR0 has no YMM bit), the
/// hypervisor bit, TF single-stepping. ERMS and FSRM are advertised because REP MOVSB/STOSB
/// are the fastest way to copy on this interpreter (bulk host copies per page).
/// </para>
/// </remarks>
public static class CpuFeatures
{
    public const string Vendor = "AuthenticAMD";
    public const string Brand = "UserModeOS virtual x86-64";

    /// <summary>Family 17h (base 0Fh + extended 08h), model 0, stepping 0.</summary>
    private const uint Signature = 0x0080_0F00;

    /// <summary>0Dh: the XSAVE leaf (leaves 2-6 and 8-0Ch are all zero).</summary>
    private const uint MaxBasicLeaf = 0xD;
    private const uint MaxExtendedLeaf = 0x8000_0008;

    /// <summary>Returns EAX, EBX, ECX, EDX for a leaf and subleaf; unknown leaves are all zero.</summary>
    public static (uint Eax, uint Ebx, uint Ecx, uint Edx) Query(uint leaf, uint subleaf) => leaf switch
    {
        0 => (MaxBasicLeaf, Chars(Vendor, 0), Chars(Vendor, 8), Chars(Vendor, 4)),
        1 => (Signature, Table.Leaf1Ebx, Table.Leaf1Ecx, Table.Leaf1Edx),
        7 when subleaf == 0 => (0, Table.Leaf7Ebx, 0, Table.Leaf7Edx),
        0xD => XsaveLeaf(subleaf),
        0x8000_0000 => (MaxExtendedLeaf, 0, 0, 0),
        0x8000_0001 => (0, 0, Table.Ext1Ecx, Table.Ext1Edx),
        >= 0x8000_0002 and <= 0x8000_0004 => BrandLeaf(leaf - 0x8000_0002),

        // L1 data and instruction caches: 32 KiB, 8-way, 64-byte lines.
        0x8000_0005 => (0, 0, 0x2008_0140, 0x2008_0140),

        // L2: 512 KiB, 8-way; L3: 16 MiB (32 units of 512 KiB), 16-way; 64-byte lines.
        0x8000_0006 => (0, 0, 0x0200_6140, 0x0080_8140),

        // Address sizes: 48-bit virtual, 46-bit physical (a common value; nothing depends on it).
        0x8000_0008 => (0x302E, 0, 0, 0),
        _ => (0, 0, 0, 0),
    };

    /// <summary>True when every instruction form of the feature is implemented (see remarks).</summary>
    public static bool Has(CpuidFeature feature) => FormsOf(feature) is { Count: > 0 } forms && forms.All(OpTable.IsImplemented);

    /// <summary>The forms that keep a feature from being advertised (for diagnostics and tests).</summary>
    public static IReadOnlyList<Code> Missing(CpuidFeature feature) =>
        FormsOf(feature).Where(code => !OpTable.IsImplemented(code)).ToList();

    /// <summary>The instruction forms a feature bit stands for.</summary>
    public static IReadOnlyList<Code> FormsOf(CpuidFeature feature) => Forms.ByFeature[(int)feature];

    /// <summary>
    /// Every feature's forms, found in one pass over Iced's codes (the CPUID table asks for ~40
    /// features; a pass per feature cost every start-up of umos tens of milliseconds).
    /// </summary>
    private static class Forms
    {
        public static readonly Code[][] ByFeature = Index();

        private static Code[][] Index()
        {
            var max = 0;
            foreach (var feature in Enum.GetValues<CpuidFeature>())
            {
                max = Math.Max(max, (int)feature);
            }

            var lists = new List<Code>?[max + 1];
            foreach (var code in Enum.GetValues<Code>())
            {
                if (code == Code.INVALID || !code.ToOpCode().Mode64)
                {
                    continue;
                }

                var features = code.CpuidFeatures();
                if (features.Length != 1)
                {
                    continue;
                }

                // MMX-register forms belong to the MMX bit (see remarks); SYSRET is privileged.
                var feature = features[0];
                if ((feature != CpuidFeature.MMX && code.ToString().Contains("_mm", StringComparison.Ordinal)) ||
                    code.Mnemonic() == Mnemonic.Sysret)
                {
                    continue;
                }

                (lists[(int)feature] ??= new List<Code>()).Add(code);
            }

            var index = new Code[lists.Length][];
            for (var i = 0; i < lists.Length; i++)
            {
                index[i] = lists[i]?.ToArray() ?? [];
            }

            return index;
        }
    }

    /// <summary>
    /// Leaf 0Dh. Subleaf 0: EAX = supported XCR0 bits, EBX = area size for the enabled ones,
    /// ECX = area size for all supported ones, EDX = upper XCR0 bits. Subleaf 1: EAX = XSAVEOPT
    /// (bit 0), XSAVEC (1), XGETBV with ECX = 1 (2); EBX = the compacted size of the enabled
    /// state. Subleaves 2-62 describe components we do not have: all zero.
    /// </summary>
    private static (uint, uint, uint, uint) XsaveLeaf(uint subleaf)
    {
        if (!Table.Xsave)
        {
            return (0, 0, 0, 0);
        }

        const uint size = Instructions.Xsave.AreaSize;
        return subleaf switch
        {
            0 => ((uint)Instructions.Xsave.Xcr0, size, size, (uint)(Instructions.Xsave.Xcr0 >> 32)),
            1 => (Table.Leaf0D1Eax, Table.Has0D1(1) ? size : 0, 0, 0),
            _ => (0, 0, 0, 0),
        };
    }

    private static uint Chars(string s, int start) => BitConverter.ToUInt32(Encoding.ASCII.GetBytes(s), start);

    private static (uint, uint, uint, uint) BrandLeaf(uint part)
    {
        var bytes = new byte[48];
        Encoding.ASCII.GetBytes(Brand, bytes);
        var o = (int)part * 16;
        return (BitConverter.ToUInt32(bytes, o), BitConverter.ToUInt32(bytes, o + 4), BitConverter.ToUInt32(bytes, o + 8), BitConverter.ToUInt32(bytes, o + 12));
    }

    /// <summary>Built on first use, after the op table is complete.</summary>
    private static class Table
    {
        public static readonly uint Leaf1Ecx = Bits(
            (0, CpuidFeature.SSE3),
            (1, CpuidFeature.PCLMULQDQ),
            (9, CpuidFeature.SSSE3),
            (13, CpuidFeature.CMPXCHG16B),
            (19, CpuidFeature.SSE4_1),
            (20, CpuidFeature.SSE4_2),
            (22, CpuidFeature.MOVBE),
            (23, CpuidFeature.POPCNT),
            (25, CpuidFeature.AES),
            (26, CpuidFeature.XSAVE),
            (30, CpuidFeature.RDRAND))
            | (Has(CpuidFeature.XSAVE) ? 1u << 27 : 0);

        /// <summary>The XSAVE feature set (XGETBV, XSAVE, XRSTOR) is implemented.</summary>
        public static readonly bool Xsave = Has(CpuidFeature.XSAVE);

        /// <summary>Leaf 0Dh subleaf 1 EAX: XSAVEOPT, XSAVEC, XGETBV with ECX = 1 (which our XGETBV handles).</summary>
        public static readonly uint Leaf0D1Eax = Bits(
            (0, CpuidFeature.XSAVEOPT),
            (1, CpuidFeature.XSAVEC))
            | (Xsave ? 1u << 2 : 0);

        public static bool Has0D1(int bit) => (Leaf0D1Eax & (1u << bit)) != 0;

        public static readonly uint Leaf1Edx = Bits(
            (0, CpuidFeature.FPU),
            (4, CpuidFeature.TSC),
            (8, CpuidFeature.CX8),
            (15, CpuidFeature.CMOV),
            (19, CpuidFeature.CLFSH),
            (23, CpuidFeature.MMX),
            (24, CpuidFeature.FXSR),
            (25, CpuidFeature.SSE),
            (26, CpuidFeature.SSE2));

        /// <summary>CLFLUSH line size (8 quadwords) when CLFLUSH exists; one logical processor; APIC id 0.</summary>
        public static readonly uint Leaf1Ebx = ((Leaf1Edx & (1u << 19)) != 0 ? 8u << 8 : 0) | (1u << 16);

        public static readonly uint Leaf7Ebx = Bits(
            (0, CpuidFeature.FSGSBASE),
            (3, CpuidFeature.BMI1),
            (8, CpuidFeature.BMI2),
            (18, CpuidFeature.RDSEED),
            (19, CpuidFeature.ADX),
            (23, CpuidFeature.CLFLUSHOPT),
            (29, CpuidFeature.SHA))
            | (FastStrings ? 1u << 9 : 0);

        /// <summary>FSRM (fast short REP MOVSB).</summary>
        public static readonly uint Leaf7Edx = FastStrings ? 1u << 4 : 0;

        public static readonly uint Ext1Ecx = Bits(
            (5, CpuidFeature.LZCNT),
            (8, CpuidFeature.PREFETCHW))
            | (OpTable.IsImplemented(Code.Lahf) && OpTable.IsImplemented(Code.Sahf) ? 1u : 0);

        /// <summary>SYSCALL (SYSRET is the kernel's), NX (execute permission is enforced), RDTSCP, long mode.</summary>
        public static readonly uint Ext1Edx = Bits((27, CpuidFeature.RDTSCP))
            | (OpTable.IsImplemented(Code.Syscall) ? 1u << 11 : 0)
            | (1u << 20)
            | (1u << 29);

        private static bool FastStrings =>
            OpTable.IsImplemented(Code.Movsb_m8_m8) && OpTable.IsImplemented(Code.Stosb_m8_AL);

        private static uint Bits(params (int Bit, CpuidFeature Feature)[] bits)
        {
            var r = 0u;
            foreach (var (bit, feature) in bits)
            {
                if (Has(feature))
                {
                    r |= 1u << bit;
                }
            }

            return r;
        }
    }
}
