using System.ComponentModel;
using System.Diagnostics;

namespace UserModeOS.Conformance.Harness;

/// <summary>Runs a program natively on the host: the oracle.</summary>
public static class Native
{
    /// <summary>
    /// Runs <paramref name="argv"/> with exactly <paramref name="env"/> (default
    /// <see cref="Guest.DefaultEnvironment"/>), stdin from <paramref name="stdin"/>, in
    /// <paramref name="workdir"/> (default a fresh temp folder). A program that cannot be
    /// started gives 127 (not found) or 126 like a shell; killed by a signal gives 128 + signal.
    /// </summary>
    public static RunResult Run(string[] argv, byte[]? stdin = null, string? workdir = null, string[]? env = null, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(argv.Length, nameof(argv));
        using var scratch = workdir is null ? new TempDir("native-cwd") : null;
        var info = new ProcessStartInfo(argv[0])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workdir ?? scratch!.Path,
        };
        foreach (var a in argv.Skip(1))
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Clear();
        foreach (var e in env ?? Guest.DefaultEnvironment)
        {
            var eq = e.IndexOf('=');
            info.Environment[eq < 0 ? e : e[..eq]] = eq < 0 ? "" : e[(eq + 1)..];
        }

        return ProcessRunner.Run(info, stdin, timeout ?? Guest.DefaultTimeout, string.Join(' ', argv));
    }
}

/// <summary>Runs a host child process, feeding stdin and collecting both outputs as bytes.</summary>
internal static class ProcessRunner
{
    public static RunResult Run(ProcessStartInfo info, byte[]? stdin, TimeSpan timeout, string what)
    {
        var watch = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            var message = System.Text.Encoding.UTF8.GetBytes($"{info.FileName}: {e.Message}\n");
            return new RunResult(e.NativeErrorCode == 2 ? 127 : 126, [], message) { Elapsed = watch.Elapsed };
        }

        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var readOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var readErr = process.StandardError.BaseStream.CopyToAsync(stderr);
        var writeIn = System.Threading.Tasks.Task.Run(() =>
        {
            try
            {
                process.StandardInput.BaseStream.Write(stdin ?? []);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The child exited without reading everything.
            }
        });

        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"`{what}` did not exit within {timeout.TotalSeconds} s");
        }

        System.Threading.Tasks.Task.WaitAll(readOut, readErr, writeIn);
        return new RunResult(process.ExitCode, stdout.ToArray(), stderr.ToArray()) { Elapsed = watch.Elapsed };
    }
}
