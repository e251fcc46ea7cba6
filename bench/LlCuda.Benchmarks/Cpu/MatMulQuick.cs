using System.Runtime.InteropServices;
using System.Globalization;
using LlCuda.Cpu;
using LlCuda.Tensors;

namespace LlCuda.Benchmarks.Cpu;

/// <summary>
/// A fast side-by-side timing of our matmul and ggml's, alternating the two so machine noise hits
/// both alike; for iterating on kernels (BenchmarkDotNet's CpuMatMulBenchmarks gives the figures
/// to publish). Usage: cpu-quick [type,...] [n,...] [path]
/// </summary>
internal static class MatMulQuick
{
    public static readonly (int Rows, int Cols)[] TinyLlamaShapes = [(2048, 2048), (5632, 2048), (2048, 5632), (32000, 2048)];

    public static void Run(string[] args)
    {
        var types = args.Length > 0 ? args[0].Split(',').Select(Enum.Parse<GgmlType>).ToArray()
            : [GgmlType.Q4_0, GgmlType.Q4_K, GgmlType.Q6_K, GgmlType.Q8_0, GgmlType.F16];
        var ns = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [1, 64];
        KernelPath? path = args.Length > 2 ? Enum.Parse<KernelPath>(args[2]) : null;
        Console.WriteLine($"ggml-cpu variant {GgmlCpu.Variant}; our path {path?.ToString() ?? CpuMatMul.DefaultPath.ToString()}; 1 thread");
        Console.WriteLine("| type | shape | n | ours ms | ggml ms | ours GB/s | ggml GB/s | ours/ggml speed | max rel diff |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var type in types)
            foreach (int n in ns)
                foreach (var (rows, cols) in TinyLlamaShapes)
                {
                    if (n > 1 && rows == 32000) continue; // the output matrix runs only for the last token
                    using var c = new MatMulCase(type, rows, cols, n);
                    double diff = c.Disagreement();
                    Action ours = path is { } p ? () => c.Ours(p) : c.Ours;
                    var (tOurs, tGgml) = Alternate(ours, c.Ggml, n == 1 ? 0.25 : 0.6);
                    double gbOurs = c.WeightBytes / tOurs / 1e9, gbGgml = c.WeightBytes / tGgml / 1e9;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {type} | {rows}x{cols} | {n} | {tOurs * 1e3:F3} | {tGgml * 1e3:F3} | {gbOurs:F1} | {gbGgml:F1} | {tGgml / tOurs:F2} | {diff:E1} |"));
                }
    }

    /// <summary>Best per-call seconds of each, over 5 alternating rounds of about <paramref name="seconds"/> / 5 each.</summary>
    static (double A, double B) Alternate(Action a, Action b, double seconds)
    {
        a(); b(); a(); b();
        double bestA = double.MaxValue, bestB = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            bestA = Math.Min(bestA, Time(a, seconds / 10));
            bestB = Math.Min(bestB, Time(b, seconds / 10));
        }
        return (bestA, bestB);
    }

    static double Time(Action f, double seconds)
    {
        // Calls per batch sized from one call; the best batch mean is the figure. Timed in this
        // thread's CPU time: on a shared, overloaded machine wall time mostly measures waiting
        // for a core (the benchmark is single-threaded, so CPU time is its running time).
        double t0 = ThreadCpuSeconds();
        f();
        double one = ThreadCpuSeconds() - t0;
        int calls = Math.Max(1, (int)(seconds / Math.Max(one, 1e-6)));
        t0 = ThreadCpuSeconds();
        for (int i = 0; i < calls; i++) f();
        return (ThreadCpuSeconds() - t0) / calls;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec value);

    /// <summary>CPU time this thread has used (CLOCK_THREAD_CPUTIME_ID).</summary>
    internal static double ThreadCpuSeconds()
    {
        if (ClockGetTime(3, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds + t.Nanoseconds * 1e-9;
    }
}
