using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LlCuda.Tensors;

namespace LlCuda.Benchmarks.Cpu;

/// <summary>
/// Our CPU matmul against ggml-cpu's vec_dot (libggml-cpu.so from LLamaSharp.Backend.Cpu, the
/// avx512 build) on TinyLlama-1.1B-shaped weight matrices, one thread, the same weight bytes and
/// activations. N = 1 is decode's matrix-vector product (memory-bound on the real model); N = 64
/// is prefill (compute-bound), where ggml's figure is its mul_mat loop over vec_dot without
/// llama.cpp's load-time weight repacking. Both include quantizing the activations.
/// Columns: "GB/s" = weight bytes / mean time; Ratio = time / ggml's time (below 1: ours faster).
/// dotnet run -c Release --project bench/LlCuda.Benchmarks -- --filter '*CpuMatMul*'
/// </summary>
[Config(typeof(Config))]
public class CpuMatMulBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config()
        {
            // In-process (a separate build takes minutes on the loaded box), timed in thread CPU time.
            AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithClock(ThreadCpuClock.Instance)
                .WithWarmupCount(2).WithIterationCount(7).WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150)));
            AddColumn(new WeightBandwidthColumn());
            SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(RatioStyle.Value);
        }
    }

    MatMulCase _case = null!;

    [Params(GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q8_0, GgmlType.F16)]
    public GgmlType Type { get; set; }

    /// <summary>"rows x cols, n": the four TinyLlama matrix shapes at n = 1, the three a prompt multiplies at n = 64.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "";

    public static IEnumerable<string> Cases() =>
    [
        "2048x2048,1", "5632x2048,1", "2048x5632,1", "32000x2048,1",
        "2048x2048,64", "5632x2048,64", "2048x5632,64",
    ];

    [GlobalSetup]
    public void Setup()
    {
        var (rows, cols, n) = Parse(Case);
        _case = new MatMulCase(Type, rows, cols, n);
    }

    internal static (int Rows, int Cols, int N) Parse(string c)
    {
        var parts = c.Split(',', 'x');
        return (int.Parse(parts[0]), int.Parse(parts[1]), int.Parse(parts[2]));
    }

    [GlobalCleanup]
    public void Cleanup() => _case.Dispose();

    [Benchmark(Description = "llcuda")]
    public void Ours() => _case.Ours();

    [Benchmark(Baseline = true, Description = "ggml vec_dot")]
    public void Ggml() => _case.Ggml();

    /// <summary>Bytes of weights one call reads (for the GB/s column).</summary>
    internal static long WeightBytes(GgmlType type, string @case)
    {
        var (rows, cols, _) = Parse(@case);
        return rows * GgmlTypeInfo.RowBytes(type, cols);
    }
}

/// <summary>Weight bytes of the case divided by the mean time: the bandwidth a matrix-vector product streams at.</summary>
internal sealed class WeightBandwidthColumn : IColumn
{
    public string Id => nameof(WeightBandwidthColumn);
    public string ColumnName => "GB/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Weight bytes read per call / mean time (GB/s)";
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is not { } stats) return "-";
        var type = (GgmlType)benchmarkCase.Parameters["Type"];
        string c = (string)benchmarkCase.Parameters["Case"];
        double seconds = stats.Mean / 1e9;
        return (CpuMatMulBenchmarks.WeightBytes(type, c) / seconds / 1e9).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
    }
}
