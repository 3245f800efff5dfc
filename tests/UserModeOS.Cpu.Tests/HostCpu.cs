using System.Runtime.Intrinsics.X86;
using System.Text;

namespace UserModeOS.Cpu.Tests;

/// <summary>
/// The host CPU that serves as the differential oracle. Where the SDM leaves state undefined
/// (some flags after shifts, rotates and multiplies, BSF/BSR of zero, ...), our executor models
/// AMD; tests that compare such state with the host run only on AMD hosts:
/// <c>Assume.That(HostCpu.IsAmd, HostCpu.AmdOnly)</c> makes them skipped (inconclusive) elsewhere.
/// </summary>
internal static class HostCpu
{
    public const string AmdOnly = "compares state the SDM leaves undefined; the executor models AMD, so this runs on AMD hosts only";

    /// <summary>
    /// The CPUID vendor string ("AuthenticAMD", "GenuineIntel", ...), or empty when the host is
    /// not x86. <c>UMOS_TEST_HOST_VENDOR</c> overrides it, to run the vendor-neutral selection
    /// on an AMD host (e.g. <c>UMOS_TEST_HOST_VENDOR=GenuineIntel dotnet test</c>).
    /// </summary>
    public static readonly string Vendor = Environment.GetEnvironmentVariable("UMOS_TEST_HOST_VENDOR") is { Length: > 0 } v ? v : ReadVendor();

    public static bool IsAmd => Vendor == "AuthenticAMD";

    private static string ReadVendor()
    {
        if (!X86Base.IsSupported)
        {
            return "";
        }

        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        var bytes = new byte[12];
        BitConverter.TryWriteBytes(bytes.AsSpan(0), ebx);
        BitConverter.TryWriteBytes(bytes.AsSpan(4), edx);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), ecx);
        return Encoding.ASCII.GetString(bytes);
    }
}
