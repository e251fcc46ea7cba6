using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LlCuda.Cpu;
using LlCuda.Tensors;

namespace LlCuda.Benchmarks.Cpu;

/// <summary>
/// The matrix products of whole TinyLlama-1.1B forward passes (22 layers: Q/K/V grouped, O,
/// gate/up grouped, down; then the 32000-row output), on the thread pool, wall clock: the
/// ceiling the kernels put on decode (n = 1) and prefill (n = 64) tokens/s, without attention
/// or norms. Weights are distinct per layer (~600 MB at Q4_0) so decode streams from DRAM as
/// the real model does. Usage: cpu-decode [type] [threads] [n] [outputType]
/// </summary>
internal static unsafe class DecodeQuick
{
    public static void Run(string[] args)
    {
        var type = args.Length > 0 ? Enum.Parse<GgmlType>(args[0]) : GgmlType.Q4_0;
        int threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        int n = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
        var outputType = args.Length > 3 ? Enum.Parse<GgmlType>(args[3]) : GgmlType.Q6_K;
        const int layers = 22, dim = 2048, kv = 256, ffn = 5632, vocab = 32000;
        var shapes = new List<(int Rows, int Cols, GgmlType Type)>();
        for (int l = 0; l < layers; l++)
        {
            shapes.Add((dim, dim, type)); shapes.Add((kv, dim, type)); shapes.Add((kv, dim, type)); shapes.Add((dim, dim, type));
            shapes.Add((ffn, dim, type)); shapes.Add((ffn, dim, type)); shapes.Add((dim, ffn, type));
        }
        shapes.Add((vocab, dim, outputType));
        var mats = new WeightMatrix[shapes.Count];
        var buffers = new List<nint>();
        long total = 0;
        var rng = new Random(1);
        for (int i = 0; i < shapes.Count; i++)
        {
            var (rows, cols, t) = shapes[i];
            long rowBytes = GgmlTypeInfo.RowBytes(t, cols);
            byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)(rows * rowBytes), 64);
            buffers.Add((nint)p);
            var f = new float[cols];
            var one = new byte[rowBytes];
            for (int c = 0; c < cols; c++) f[c] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
            Quantize.Row(t, f, one);
            // Same row bytes repeated, but every matrix in its own memory: the bytes streamed are real.
            fixed (byte* src = one)
                for (int r = 0; r < rows; r++) Buffer.MemoryCopy(src, p + r * rowBytes, rowBytes, rowBytes);
            mats[i] = new WeightMatrix(p, t, rows, cols);
            total += rows * rowBytes;
        }
        var x = new float[n * ffn];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var y0 = new float[n * ffn]; var y1 = new float[n * ffn]; var y2 = new float[n * ffn];
        var logits = new float[vocab]; // the output product runs for the last token only
        using var pool = new CpuThreadPool(threads);
        using var scratch = new MatMulScratch();

        void Step()
        {
            int i = 0;
            for (int l = 0; l < layers; l++, i += 7)
            {
                CpuMatMul.MatMul(mats[i], mats[i + 1], mats[i + 2], x.AsSpan(0, n * dim), n, y0, y1, y2, scratch, pool);
                CpuMatMul.MatMul(mats[i + 3], x.AsSpan(0, n * dim), n, y0, scratch, pool);
                CpuMatMul.MatMul(mats[i + 4], mats[i + 5], x.AsSpan(0, n * dim), n, y0, y1, scratch, pool);
                CpuMatMul.MatMul(mats[i + 6], x.AsSpan(0, n * ffn), n, y2, scratch, pool);
            }
            CpuMatMul.MatMul(mats[i], x.AsSpan(0, dim), 1, logits, scratch, pool);
        }

        Step(); Step();
        var times = new List<double>();
        for (int rep = 0; rep < 7; rep++)
        {
            long t0 = Stopwatch.GetTimestamp();
            int steps = n == 1 ? 10 : 1;
            for (int s = 0; s < steps; s++) Step();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds / steps);
        }
        times.Sort();
        double median = times[times.Count / 2], best = times[0];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{type} (output {outputType}), {threads} threads, n={n}: {total / 1e6:F0} MB of weights; step median {median * 1e3:F2} ms (best {best * 1e3:F2}) " +
            $"= {n / median:F1} tokens/s (best {n / best:F1}); {total / median / 1e9:F1} GB/s of weights"));
        foreach (nint p in buffers) NativeMemory.AlignedFree((void*)p);
    }
}
