using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace UserModeOS.Conformance.Harness;

/// <summary>
/// Explains a guest killed by a fault: disassembles the instruction at the faulting RIP with
/// objdump. umos reports each unimplemented instruction once per host process, so later
/// boxes running the same code only say "killed by SIGILL at rip ..."; this fills the gap.
/// </summary>
public static partial class FaultInfo
{
    [GeneratedRegex(@"killed by (SIG[A-Z]+)\b.*? at rip 0x([0-9a-f]+)")]
    private static partial Regex KilledAt();

    /// <summary>Harness notes for every fault in <paramref name="log"/>, or "" (fixed-address ELFs only).</summary>
    public static string Explain(string program, string log)
    {
        var sb = new StringBuilder();
        foreach (Match m in KilledAt().Matches(log))
        {
            var rip = ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var insn = Disassemble(program, rip);
            if (insn is not null)
            {
                sb.AppendLine($"[harness] {m.Groups[1].Value} at 0x{rip:x} in {program}: {insn}");
            }
        }

        return sb.ToString();
    }

    private static string? Disassemble(string program, ulong rip)
    {
        try
        {
            var info = new ProcessStartInfo("objdump")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[] { "-d", "--no-show-raw-insn", "-M", "intel", $"--start-address=0x{rip:x}", $"--stop-address=0x{rip + 16:x}", program })
            {
                info.ArgumentList.Add(a);
            }

            using var p = Process.Start(info);
            if (p is null)
            {
                return null;
            }

            var output = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            p.WaitForExit(10_000);
            var prefix = $"{rip:x}:";
            var line = output.Split('\n').FirstOrDefault(l => l.TrimStart().StartsWith(prefix, StringComparison.Ordinal));
            return line is null ? null : Regex.Replace(line.Trim()[prefix.Length..].Trim(), @"\s+", " ");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no objdump
        }
    }
}
