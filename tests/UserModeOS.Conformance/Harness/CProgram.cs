using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace UserModeOS.Conformance.Harness;

/// <summary>Builds small static C test programs, cached across tests and runs.</summary>
public static class CProgram
{
    private static readonly string CacheDir = Path.Combine(Path.GetTempPath(), "umos-conformance-cc");

    /// <summary>
    /// Compiles <paramref name="source"/> with `<paramref name="compiler"/> -static -O2
    /// <paramref name="extraFlags"/>` into a cached path keyed by a hash of all three and
    /// returns the ELF's path. Fails the test with the compiler output on error.
    /// </summary>
    public static string Compile(string source, string compiler = "gcc", string extraFlags = "")
    {
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{compiler}\0{extraFlags}\0{source}")))[..24];
        var exe = Path.Combine(CacheDir, $"{Path.GetFileName(compiler)}-{key}");
        if (File.Exists(exe))
        {
            return exe;
        }

        Directory.CreateDirectory(CacheDir);
        var unique = $"{exe}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        var src = unique + ".c";
        File.WriteAllText(src, source);
        try
        {
            var info = new ProcessStartInfo(compiler)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            // -static-pie replaces -static (the two cannot be combined).
            var link = extraFlags.Contains("-static-pie", StringComparison.Ordinal) ? "-O2" : "-static";
            foreach (var a in new[] { link, "-O2" }.Distinct()
                         .Concat(extraFlags.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                         .Concat(["-o", unique, src, "-lm"]))
            {
                info.ArgumentList.Add(a);
            }

            var result = ProcessRunner.Run(info, null, TimeSpan.FromSeconds(120), $"{compiler} {string.Join(' ', info.ArgumentList)}");
            if (result.ExitCode != 0 || !File.Exists(unique))
            {
                Assert.Fail($"{compiler} failed (exit {result.ExitCode}):\n{result.StderrText}{result.StdoutText}\n--- source ---\n{source}");
            }

            // Atomic publish: concurrent compiles of the same source race harmlessly.
            File.Move(unique, exe, overwrite: true);
            return exe;
        }
        finally
        {
            File.Delete(src);
            File.Delete(unique);
        }
    }
}
