using System.Diagnostics;

namespace UserModeOS.Conformance.Harness;

/// <summary>Runs the real `./umos` script at the repository root, as a user would.</summary>
public static class Cli
{
    private static readonly Lock BuildLock = new();
    private static bool _warm;

    /// <summary>Working directory for the CLI runs (a fixed temp folder).</summary>
    public static string WorkingDirectory { get; } = Directory.CreateTempSubdirectory("umos-cli-cwd-").FullName;

    /// <summary>
    /// `./umos ARGS...` with stdin empty, in <see cref="WorkingDirectory"/>, the test host's
    /// environment otherwise. The script rebuilds umos when sources changed; calls are
    /// serialized so concurrent tests don't build at once; the first one builds (if needed).
    /// </summary>
    public static RunResult Run(params string[] args) => RunWithTimeout(TimeSpan.FromSeconds(300), args);

    public static RunResult RunWithTimeout(TimeSpan timeout, params string[] args)
    {
        // Serialized: the script may rebuild umos (others edit the sources while tests run),
        // and two builds into the same output folder would collide.
        lock (BuildLock)
        {
            if (!_warm)
            {
                var warm = Start(["--version"], TimeSpan.FromSeconds(600));
                _warm = warm.ExitCode == 0;
                if (!_warm)
                {
                    Assert.Fail($"`./umos --version` failed, umos is probably not building:\n{warm.StderrText}{warm.StdoutText}");
                }
            }

            return Start(args, timeout);
        }
    }

    private static RunResult Start(string[] args, TimeSpan timeout)
    {
        var script = Path.Combine(Repo.Root, "umos");
        var info = new ProcessStartInfo("/bin/bash")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = WorkingDirectory,
        };
        info.ArgumentList.Add(script);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        // The test host's MSBuild/VSTest variables would leak into the script's `dotnet build`.
        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(name);
            }
        }

        var result = ProcessRunner.Run(info, null, timeout, $"./umos {string.Join(' ', args)}");
        TestContext.Out.WriteLine($"./umos {string.Join(' ', args)} -> {result.ExitCode} in {result.Elapsed.TotalMilliseconds:F0} ms");
        return result;
    }
}
