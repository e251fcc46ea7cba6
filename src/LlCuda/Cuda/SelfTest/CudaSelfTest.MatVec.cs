using System.Globalization;
using LlCuda.Cuda.Layouts;
using LlCuda.Tensors;

namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    /// <summary>The quantized matrix-vector kernels the matvec checks cover, with their 7B-shaped timing matrices.</summary>
    static readonly GgmlType[] MatVecTypes = [GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q6_K];

    // Llama-2-7B's matrix shapes (rows x cols): q/k/v/o, gate/up, down, output.
    static readonly (int Rows, int Cols)[] SevenBShapes = [(4096, 4096), (11008, 4096), (4096, 11008), (32000, 4096)];

    /// <summary>
    /// One matvec kernel: correctness against an fp64 host reference that quantizes x exactly as
    /// quantize_q8_1.cu does (so any difference beyond fp32 rounding is a kernel bug), then the
    /// weight-streaming rate on the 7B shapes, cycling through enough copies of each matrix to
    /// defeat the L2 cache. <paramref name="copyGbPerSecond"/> is the bandwidth check's figure.
    /// </summary>
    static (string, (double, string)?) CheckMatVec(CudaContext context, KernelCompiler compiler, GgmlType type, double copyGbPerSecond, bool time)
    {
        using var stream = CudaStream.Create(context);
        using var quantModule = compiler.Load("quantize_q8_1.cu");
        var quantize = quantModule.GetKernel("quantize_q8_1");
        using var module = compiler.Load(KernelFile(type));
        var kernels = KernelNames(type).Select(module.GetKernel).ToList();
        var matvec = kernels[0];

        // Correctness: 301 rows (not a multiple of the 4 rows per CTA), 4096 columns.
        const int rows = 301, cols = 4096;
        var rng = new Random(20261125);
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        var x = new float[cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var gguf = new byte[GgmlTypeInfo.RowBytes(type, cols) * rows];
        Quantize.Row(type, w, gguf);
        var wq = new float[rows * cols];
        Dequantize.Row(type, gguf, wq);

        var (xq, xd, xs) = HostQ8_1(x);
        using var weights = DeviceWeights.Upload(context, stream, type, gguf, rows, cols);
        using var dx = DeviceBuffer.Allocate(context, cols * 4L, "matvec x");
        using var dxq = DeviceBuffer.Allocate(context, cols, "matvec x codes");
        using var dxds = DeviceBuffer.Allocate(context, cols / 32 * 8L, "matvec x scales");
        using var dy = DeviceBuffer.Allocate(context, rows * 4L, "matvec y");
        dx.CopyFromHost<float>(x, stream);
        quantize.Launch(stream, (uint)((cols + 127) / 128), 128u, 0, dx, dxq, dxds, cols);
        var gotCodes = new sbyte[cols];
        var gotScales = new float[cols / 32 * 2];
        dxq.CopyToHost<sbyte>(gotCodes, stream);
        dxds.CopyToHost<float>(gotScales, stream);
        stream.Synchronize();
        for (int i = 0; i < cols; i++)
            if (gotCodes[i] != xq[i]) throw new SelfTestFailure($"quantize_q8_1: code {i} is {gotCodes[i]}, the host's is {xq[i]}");
        for (int b = 0; b < cols / 32; b++)
            if (gotScales[2 * b] != xd[b] || Math.Abs(gotScales[2 * b + 1] - xs[b]) > 1e-6f * Math.Abs(xs[b]) + 1e-12f)
                throw new SelfTestFailure($"quantize_q8_1: block {b} scale/sum ({gotScales[2 * b]}, {gotScales[2 * b + 1]}) vs the host's ({xd[b]}, {xs[b]})");
        var reference = new double[rows];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < cols; i++) reference[r] += (double)wq[r * cols + i] * xd[i / 32] * xq[i];
        double rel = 0;
        var y = new float[rows];
        foreach (var kernel in kernels)
        {
            dy.Fill(0xFF, stream); // NaN: an unwritten output fails the check
            weights.Launch(kernel, stream, dxq, dxds, dy);
            dy.CopyToHost<float>(y, stream);
            stream.Synchronize();
            double err = 0, norm = 0;
            for (int r = 0; r < rows; r++)
            {
                if (!double.IsFinite(y[r])) throw new SelfTestFailure($"{kernel.Name}: y[{r}] = {y[r]} (not written or not finite)");
                err += (y[r] - reference[r]) * (y[r] - reference[r]);
                norm += reference[r] * reference[r];
            }
            rel = Math.Max(rel, Math.Sqrt(err / norm));
            if (!(Math.Sqrt(err / norm) <= 1e-5)) throw new SelfTestFailure($"{kernel.Name}: normalized RMS error {Math.Sqrt(err / norm):E2} against the host (limit 1e-5)");
        }

        if (!time) return (string.Create(CultureInfo.InvariantCulture, $"error {rel:E1} against the host (not timed)"), null);
        // Speed on the 7B shapes.
        var parts = new List<string>();
        double worst = double.MaxValue;
        foreach (var kernel in kernels)
        {
            var shapes = new List<string>();
            double kernelWorst = double.MaxValue;
            foreach (var (r, c) in SevenBShapes)
            {
                double gbps = TimeMatVec(context, stream, kernel, type, r, c);
                kernelWorst = Math.Min(kernelWorst, gbps);
                shapes.Add(string.Create(CultureInfo.InvariantCulture, $"{r}x{c} {gbps:F0} GB/s ({gbps / copyGbPerSecond:P0})"));
            }
            if (kernel == matvec) worst = kernelWorst;
            parts.Add($"{kernel.Name}: {string.Join(", ", shapes)}");
        }
        return (string.Create(CultureInfo.InvariantCulture, $"error {rel:E1}; weights streamed, % of copy bandwidth {copyGbPerSecond:F0} GB/s: {string.Join("; ", parts)}"),
            (Math.Round(worst / copyGbPerSecond * 100, 1), "% of copy bw (worst shape)"));
    }

    /// <summary>The file's kernels: the one the engine uses first, then variants being compared.</summary>
    static string[] KernelNames(GgmlType type) => [KernelFile(type)[..^3]];

    static string KernelFile(GgmlType type) => type switch
    {
        GgmlType.Q4_0 => "matvec_q4_0.cu",
        GgmlType.Q8_0 => "matvec_q8_0.cu",
        GgmlType.Q4_K => "matvec_q4_k.cu",
        GgmlType.Q6_K => "matvec_q6_k.cu",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no CUDA matvec kernel"),
    };

    // GB/s of weights for a rows x cols matrix: enough copies to exceed 4x the L2, cycled, median of 5 graph replays.
    static double TimeMatVec(CudaContext context, CudaStream stream, CudaKernel matvec, GgmlType type, int rows, int cols)
    {
        long bytes = GgmlTypeInfo.RowBytes(type, cols) * rows;
        int copies = (int)Math.Clamp(4L * context.Device.L2CacheBytes / bytes + 1, 2, 64);
        var (free, _) = context.GetMemoryInfo();
        copies = (int)Math.Max(1, Math.Min(copies, (free - (512L << 20)) / bytes));
        // Quantized noise (random bytes could hold NaN scales), rows in parallel: the host's
        // K-quant quantizer is slow next to the GPU (~40 s single-threaded for the four shapes).
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        var gguf = new byte[bytes];
        Parallel.For(0, rows, () => (Rng: new Random(Environment.CurrentManagedThreadId + rows), W: new float[cols]), (r, _, local) =>
        {
            for (int i = 0; i < cols; i++) local.W[i] = (float)(local.Rng.NextDouble() * 2 - 1);
            Quantize.Row(type, local.W, gguf.AsSpan((int)(r * rowBytes), (int)rowBytes));
            return local;
        }, _ => { });
        var mats = new List<DeviceWeights>();
        using var dxq = DeviceBuffer.Allocate(context, cols, "timing x codes");
        using var dxds = DeviceBuffer.Allocate(context, cols / 32 * 8L, "timing x scales");
        using var dy = DeviceBuffer.Allocate(context, rows * 4L, "timing y");
        using var start = CudaEvent.Create(context);
        using var end = CudaEvent.Create(context);
        try
        {
            for (int i = 0; i < copies; i++) mats.Add(DeviceWeights.Upload(context, stream, type, gguf, rows, cols));
            dxq.Fill(1, stream);
            dxds.Fill(0, stream);
            // Timed as decode runs them: launches captured in a CUDA graph and replayed, so the
            // host's launch cost stays out and only the GPU's own gaps between kernels count.
            const int Passes = 4, Rounds = 5;
            using var graph = CudaGraph.Capture(stream, s =>
            {
                for (int pass = 0; pass < Passes; pass++)
                    foreach (var m in mats) m.Launch(matvec, s, dxq, dxds, dy);
            });
            graph.Launch(stream); // warm-up
            var perLaunch = new double[Rounds];
            for (int round = 0; round < Rounds; round++)
            {
                start.Record(stream);
                graph.Launch(stream);
                end.Record(stream);
                end.Synchronize();
                perLaunch[round] = CudaEvent.ElapsedMilliseconds(start, end) / (Passes * (double)mats.Count);
            }
            Array.Sort(perLaunch);
            return bytes / (perLaunch[Rounds / 2] / 1000) / 1e9;
        }
        finally
        {
            foreach (var m in mats) m.Dispose();
        }
    }

    /// <summary>x as Q8_1 the way quantize_q8_1.cu computes it: codes, scale d and d * sum per 32.</summary>
    static (sbyte[] Codes, float[] Scales, float[] Sums) HostQ8_1(float[] x)
    {
        var q = new sbyte[x.Length];
        var d = new float[x.Length / 32];
        var s = new float[x.Length / 32];
        for (int b = 0; b < d.Length; b++)
        {
            float amax = 0;
            for (int i = 0; i < 32; i++) amax = MathF.Max(amax, MathF.Abs(x[32 * b + i]));
            float scale = amax / 127.0f;
            int sum = 0;
            for (int i = 0; i < 32; i++)
            {
                int code = amax == 0 ? 0 : (int)MathF.Round(x[32 * b + i] / scale, MidpointRounding.ToEven);
                q[32 * b + i] = (sbyte)code;
                sum += code;
            }
            d[b] = scale;
            s[b] = scale * sum;
        }
        return (q, d, s);
    }
}
