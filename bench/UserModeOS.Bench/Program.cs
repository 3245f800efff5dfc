using BenchmarkDotNet.Running;

namespace UserModeOS.Bench;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project bench/UserModeOS.Bench -- --filter '*'</c>.
/// Every benchmark runs in-process with a short job (see <see cref="BenchConfig"/>), so the
/// whole suite takes a few minutes and needs no rebuild of the solution while it runs.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchConfig.Create());
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
