using System.Text;

namespace UserModeOS.Conformance.Harness;

/// <summary>Differential testing: the real machine is the oracle.</summary>
public static class Compare
{
    /// <summary>
    /// Runs <paramref name="argv"/> natively and under UserModeOS with the same stdin,
    /// environment and working directory (each side gets its own fresh temp folder when null); asserts equal exit status and
    /// stdout, and stderr when <paramref name="compareStderr"/>. On mismatch the message
    /// shows the first differing line, both lengths, and the umos log (missing syscalls,
    /// unimplemented instructions). Returns the umos result.
    /// </summary>
    public static RunResult AssertSameAsNative(string[] argv, byte[]? stdin = null, string? workdir = null, string[]? env = null, bool compareStderr = false)
    {
        var native = Native.Run(argv, stdin, workdir, env);
        var umos = Guest.Run(argv, stdin, workdir, env);
        TestContext.Out.WriteLine($"`{string.Join(' ', argv)}`: native {native.Elapsed.TotalMilliseconds:F0} ms, umos {umos.Elapsed.TotalMilliseconds:F0} ms");

        var problems = new StringBuilder();
        if (native.ExitCode != umos.ExitCode)
        {
            problems.AppendLine($"exit status differs: native {native.ExitCode}, umos {umos.ExitCode}");
        }

        problems.Append(Text.Diff("stdout", native.Stdout, umos.Stdout));
        if (compareStderr)
        {
            problems.Append(Text.Diff("stderr", native.Stderr, umos.Stderr));
        }

        if (problems.Length > 0)
        {
            Assert.Fail($"`{string.Join(' ', argv)}` behaves differently under umos:\n{problems}\n"
                + $"--- native: {native.Describe()}--- umos: {umos.Describe()}");
        }

        return umos;
    }
}
