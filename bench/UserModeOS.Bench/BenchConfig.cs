using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace UserModeOS.Bench;

/// <summary>The configuration every benchmark here runs with.</summary>
public static class BenchConfig
{
    /// <summary>
    /// A ShortRun-like job (1 launch, 3 warm-ups, 5 measured iterations), run in-process: the
    /// default toolchain would rebuild the whole solution into a generated project, which is
    /// slow and breaks whenever another engineer's edit leaves the tree briefly uncompilable.
    /// </summary>
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(5)
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("Short"))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddColumn(new MipsColumn(), new NetPerCallColumn())
        .WithOptions(ConfigOptions.JoinSummary);
}

/// <summary>
/// Millions of guest instructions per second, for benchmarks whose OperationsPerInvoke is the
/// number of guest instructions they execute (so Mean is ns per guest instruction).
/// </summary>
public sealed class MipsColumn : IColumn
{
    public string Id => nameof(MipsColumn);
    public string ColumnName => "Guest MIPS";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Millions of guest x86-64 instructions executed per second (1000 / Mean)";

    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(b => b.Descriptor.Type == typeof(ExecutorBenchmarks));

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        if (benchmarkCase.Descriptor.Type != typeof(ExecutorBenchmarks))
        {
            return "-";
        }

        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return mean is > 0 ? (1000.0 / mean.Value).ToString("F1", style.CultureInfo) : "?";
    }

    public override string ToString() => ColumnName;
}

/// <summary>
/// For the syscall benchmarks: ns per call with the cost of starting and ending the process
/// (the <see cref="SyscallBenchmarks.EmptyProgram"/> run) taken out:
/// (Mean x calls - Mean(EmptyProgram)) / calls.
/// </summary>
public sealed class NetPerCallColumn : IColumn
{
    public string Id => nameof(NetPerCallColumn);
    public string ColumnName => "Net ns/call";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 1;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "ns per syscall round trip without process start-up/exit (Mean x calls - EmptyProgram) / calls";

    public bool IsAvailable(Summary summary) =>
        summary.BenchmarksCases.Any(b => b.Descriptor.Type == typeof(SyscallBenchmarks));

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var ops = benchmarkCase.Descriptor.OperationsPerInvoke;
        if (benchmarkCase.Descriptor.Type != typeof(SyscallBenchmarks) || ops <= 1)
        {
            return "-";
        }

        var empty = summary.BenchmarksCases.FirstOrDefault(b =>
            b.Descriptor.Type == typeof(SyscallBenchmarks) &&
            b.Descriptor.WorkloadMethod.Name == nameof(SyscallBenchmarks.EmptyProgram));
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var baseline = empty is null ? null : summary[empty]?.ResultStatistics?.Mean;
        if (mean is null || baseline is null)
        {
            return "?";
        }

        return (((mean.Value * ops) - baseline.Value) / ops).ToString("F1", style.CultureInfo);
    }

    public override string ToString() => ColumnName;
}
