using System.Text;

namespace UserModeOS.Conformance.Harness;

/// <summary>What one run of a program produced: its shell-style exit status and its output.</summary>
public sealed record RunResult(int ExitCode, byte[] Stdout, byte[] Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string StderrText => Encoding.UTF8.GetString(Stderr);

    /// <summary>
    /// For runs under UserModeOS through <see cref="Guest"/>: the kernel's own log
    /// (warnings such as unknown syscalls or unimplemented instructions); empty otherwise.
    /// </summary>
    public string UmosLog { get; init; } = "";

    /// <summary>How long the run took (wall clock).</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>A short human-readable summary, for assertion messages.</summary>
    public string Describe(int maxChars = 2000)
    {
        var sb = new StringBuilder();
        sb.Append("exit ").Append(ExitCode).Append(", stdout ").Append(Stdout.Length)
            .Append(" bytes, stderr ").Append(Stderr.Length).Append(" bytes, ")
            .Append(Elapsed.TotalSeconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)).AppendLine(" s");
        if (Stderr.Length > 0)
        {
            sb.AppendLine("stderr:").AppendLine(Text.Clip(StderrText, maxChars));
        }

        if (UmosLog.Length > 0)
        {
            sb.AppendLine("umos log:").AppendLine(Text.Clip(UmosLog, maxChars));
        }

        return sb.ToString();
    }
}
