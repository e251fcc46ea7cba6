using System.Globalization;
using LlCuda.Tensors;

namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    // Llama-2-7B's matrix shapes (rows x cols): q/k/v/o, gate/up, down, output.
    static readonly (int Rows, int Cols)[] SevenBShapes = [(4096, 4096), (11008, 4096), (4096, 11008), (32000, 4096)];

    // Batched (n = 4) timing on the shapes decode batches hit most: q/k/v/o and gate/up.
    static readonly (int Rows, int Cols)[] BatchedShapes = [(4096, 4096), (11008, 4096)];

    // Token counts of the correctness check: every kernel width (8, 4, 2, 1) and the splits
    // 3 = 2 + 1, 5 = 4 + 1, 13 = 8 + 4 + 1.
    static readonly int[] MatVecTokenCounts = [1, 2, 3, 5, 8, 13];

    /// <summary>
    /// One weight type's kernels: matvec for n tokens against an fp64 host reference (quantized
    /// types: with x quantized exactly as quantize_q8_1.cu does, so any difference beyond fp32
    /// rounding is a kernel bug; float types: the fp32 x itself), with outputs poisoned first and
    /// a row stride wider than the rows, so an unwritten or misplaced output fails; the fp16
    /// dequantization against the host's Dequantize.Row rounded to fp16; then the
    /// weight-streaming rate on the 7B shapes, cycling through enough copies of each matrix to
    /// defeat the L2 cache. <paramref name="copyGbPerSecond"/> is the bandwidth check's figure.
    /// </summary>
    static (string, (double, string)?) CheckMatVec(CudaContext context, KernelCompiler compiler, GgmlType type, double copyGbPerSecond, bool time)
    {
        using var stream = CudaStream.Create(context);
        using var kernels = MatVecKernels.Load(compiler, type);

        // 301 rows (not a multiple of the 4 rows per CTA), 4096 columns, 13 tokens.
        const int rows = 301, cols = 4096, tokens = 13, ldy = rows + 7;
        var rng = new Random(20261125 + (int)type);
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * 0.05f;
        var x = new float[tokens * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var gguf = new byte[GgmlTypeInfo.RowBytes(type, cols) * rows];
        Quantize.Row(type, w, gguf);
        var wq = new float[rows * cols];
        Dequantize.Row(type, gguf, wq);

        using var weights = DeviceWeights.Upload(context, stream, type, gguf, rows, cols);
        using var dx = DeviceBuffer.Allocate(context, x.Length * 4L, "matvec x");
        using var dxq = DeviceBuffer.Allocate(context, x.Length, "matvec x codes");
        using var dxds = DeviceBuffer.Allocate(context, x.Length / 32 * 8L, "matvec x scales");
        using var dy = DeviceBuffer.Allocate(context, tokens * ldy * 4L, "matvec y");
        dx.CopyFromHost<float>(x, stream);

        // reference[t * rows + r] = row r of W times token t's x (as the kernel sees x).
        var reference = new double[tokens * rows];
        MatVecInput input;
        if (kernels.UsesQ8_1)
        {
            var (xq, xd) = CheckQuantizeQ8_1(compiler, stream, x, dx, dxq, dxds);
            Parallel.For(0, rows, r =>
            {
                for (int t = 0; t < tokens; t++)
                {
                    double sum = 0;
                    for (int i = 0; i < cols; i++) sum += (double)wq[r * cols + i] * xd[(t * cols + i) / 32] * xq[t * cols + i];
                    reference[t * rows + r] = sum;
                }
            });
            input = MatVecInput.Q8_1(dxq.Address, dxds.Address);
        }
        else
        {
            Parallel.For(0, rows, r =>
            {
                for (int t = 0; t < tokens; t++)
                {
                    double sum = 0;
                    for (int i = 0; i < cols; i++) sum += (double)wq[r * cols + i] * x[t * cols + i];
                    reference[t * rows + r] = sum;
                }
            });
            input = MatVecInput.Fp32(dx.Address);
        }

        string name = type.ToString().ToLowerInvariant();
        double rel = 0;
        var y = new float[tokens * ldy];
        foreach (int n in MatVecTokenCounts)
        {
            dy.Fill(0xFF, stream); // NaN: an unwritten output fails the check
            weights.Launch(kernels, stream, input, dy.Address, n, ldy);
            dy.CopyToHost<float>(y, stream);
            stream.Synchronize();
            double err = 0, norm = 0;
            for (int t = 0; t < tokens; t++)
                for (int r = 0; r < ldy; r++)
                {
                    float got = y[t * ldy + r];
                    if (t >= n || r >= rows)
                    {
                        if (BitConverter.SingleToUInt32Bits(got) != 0xFFFFFFFFu)
                            throw new SelfTestFailure($"matvec_{name} (n = {n}, ldy = {ldy}): wrote y[{t}, {r}] = {got}, outside the {n} x {rows} outputs");
                        continue;
                    }
                    if (!float.IsFinite(got)) throw new SelfTestFailure($"matvec_{name} (n = {n}): y[{t}, {r}] = {got} (not written or not finite)");
                    double e = got - reference[t * rows + r];
                    err += e * e;
                    norm += reference[t * rows + r] * reference[t * rows + r];
                }
            double nrms = Math.Sqrt(err / norm);
            rel = Math.Max(rel, nrms);
            if (!(nrms <= 1e-5)) throw new SelfTestFailure($"matvec_{name} (n = {n}): normalized RMS error {nrms:E2} against the host (limit 1e-5)");
        }

        string dequant = CheckDequantizeToF16(context, stream, kernels, weights, wq);
        string checkedPart = string.Create(CultureInfo.InvariantCulture, $"error {rel:E1} against the host for n = {string.Join(", ", MatVecTokenCounts)}; {dequant}");
        if (!time) return ($"{checkedPart} (not timed)", null);

        // Speed on the 7B shapes: n = 1 on all four, n = 4 on the batched ones.
        var single = new List<string>();
        var batched = new List<string>();
        double worst = double.MaxValue;
        foreach (var (r, c) in SevenBShapes)
        {
            bool batch = BatchedShapes.Contains((r, c));
            var gbps = TimeMatVec(context, stream, kernels, r, c, batch ? [1, 4] : [1]);
            worst = Math.Min(worst, gbps[0]);
            single.Add(string.Create(CultureInfo.InvariantCulture, $"{r}x{c} {gbps[0]:F0} GB/s ({gbps[0] / copyGbPerSecond:P0})"));
            if (batch) batched.Add(string.Create(CultureInfo.InvariantCulture, $"{r}x{c} {gbps[1]:F0} GB/s ({gbps[1] / copyGbPerSecond:P0})"));
        }
        return (string.Create(CultureInfo.InvariantCulture,
                $"{checkedPart}; weights streamed, % of copy bandwidth {copyGbPerSecond:F0} GB/s: n = 1: {string.Join(", ", single)}; n = 4: {string.Join(", ", batched)}"),
            (Math.Round(worst / copyGbPerSecond * 100, 1), "% of copy bw (worst shape, n = 1)"));
    }

    /// <summary>
    /// quantize_q8_1 on the device against <see cref="HostQ8_1"/> (codes exact, sums within
    /// 1e-6): the matvec reference uses the host's codes, so they must be the kernel's.
    /// </summary>
    static (sbyte[] Codes, float[] Scales) CheckQuantizeQ8_1(KernelCompiler compiler, CudaStream stream, float[] x,
        DeviceBuffer dx, DeviceBuffer dxq, DeviceBuffer dxds)
    {
        using var module = compiler.Load("quantize_q8_1.cu");
        var quantize = module.GetKernel("quantize_q8_1");
        var (xq, xd, xs) = HostQ8_1(x);
        quantize.Launch(stream, (uint)((x.Length + 127) / 128), 128u, 0, dx, dxq, dxds, x.Length);
        var gotCodes = new sbyte[x.Length];
        var gotScales = new float[x.Length / 32 * 2];
        dxq.CopyToHost<sbyte>(gotCodes, stream);
        dxds.CopyToHost<float>(gotScales, stream);
        stream.Synchronize();
        for (int i = 0; i < x.Length; i++)
            if (gotCodes[i] != xq[i]) throw new SelfTestFailure($"quantize_q8_1: code {i} is {gotCodes[i]}, the host's is {xq[i]}");
        for (int b = 0; b < x.Length / 32; b++)
            if (gotScales[2 * b] != xd[b] || Math.Abs(gotScales[2 * b + 1] - xs[b]) > 1e-6f * Math.Abs(xs[b]) + 1e-12f)
                throw new SelfTestFailure($"quantize_q8_1: block {b} scale/sum ({gotScales[2 * b]}, {gotScales[2 * b + 1]}) vs the host's ({xd[b]}, {xs[b]})");
        return (xq, xd);
    }

    /// <summary>
    /// DequantizeToF16 (the dequant kernel, or the device copy for F16) against the host's
    /// dequantized weights rounded to fp16: the kernels keep the host's operation order without
    /// FMA, so they should match exactly; 1 ulp is allowed.
    /// </summary>
    static string CheckDequantizeToF16(CudaContext context, CudaStream stream, MatVecKernels kernels, DeviceWeights weights, float[] wq)
    {
        string what = kernels.Dequant is { } k ? k.Name : "device copy of the F16 weights";
        if ((weights.F16RowMajorAddress is not null) != (weights.Type == GgmlType.F16))
            throw new SelfTestFailure($"{weights.Type} weights: F16RowMajorAddress is {(weights.F16RowMajorAddress is null ? "null" : "set")}, expected it set only for F16");
        using var dest = DeviceBuffer.Allocate(context, wq.Length * 2L, "dequantized fp16 weights");
        dest.Fill(0xFF, stream); // fp16 NaN
        weights.DequantizeToF16(kernels, stream, dest.Address);
        var got = new ushort[wq.Length];
        dest.CopyToHost<ushort>(got, stream);
        stream.Synchronize();
        int offByOne = 0;
        for (int i = 0; i < wq.Length; i++)
        {
            ushort want = BitConverter.HalfToUInt16Bits((Half)wq[i]);
            if (got[i] == want) continue;
            if (Math.Abs(got[i] - want) == 1 && (got[i] & 0x8000) == (want & 0x8000)) { offByOne++; continue; }
            throw new SelfTestFailure(string.Create(CultureInfo.InvariantCulture,
                $"{what}: weight [{i / weights.Cols}, {i % weights.Cols}] is fp16 0x{got[i]:X4} ({(float)BitConverter.UInt16BitsToHalf(got[i])}), the host's {wq[i]} rounds to 0x{want:X4}"));
        }
        return offByOne == 0 ? $"{what} exact" : $"{what}: {offByOne} of {wq.Length} weights 1 ulp off";
    }

    // GB/s of weights for a rows x cols matrix at each token count: enough copies to exceed 4x
    // the L2, cycled, median of 5 graph replays.
    static double[] TimeMatVec(CudaContext context, CudaStream stream, MatVecKernels kernels, int rows, int cols, int[] tokenCounts)
    {
        var type = kernels.Type;
        long bytes = GgmlTypeInfo.RowBytes(type, cols) * rows;
        int copies = (int)Math.Clamp(4L * context.Device.L2CacheBytes / bytes + 1, 2, 64);
        var (free, _) = context.GetMemoryInfo();
        copies = (int)Math.Max(1, Math.Min(copies, (free - (512L << 20)) / bytes));
        // Quantized noise (random bytes could hold NaN scales), rows in parallel: the host's
        // K-quant quantizer is slow next to the GPU (~40 s single-threaded for the four shapes).
        // One matrix, uploaded `copies` times.
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        var gguf = new byte[bytes];
        Parallel.For(0, rows, () => (Rng: new Random(Environment.CurrentManagedThreadId + rows), W: new float[cols]), (r, _, local) =>
        {
            for (int i = 0; i < cols; i++) local.W[i] = (float)(local.Rng.NextDouble() * 2 - 1);
            Quantize.Row(type, local.W, gguf.AsSpan((int)(r * rowBytes), (int)rowBytes));
            return local;
        }, _ => { });
        int maxTokens = tokenCounts.Max();
        var mats = new List<DeviceWeights>();
        using var dxq = DeviceBuffer.Allocate(context, (long)maxTokens * cols, "timing x codes");
        using var dxds = DeviceBuffer.Allocate(context, (long)maxTokens * cols / 32 * 8, "timing x scales");
        using var dx = DeviceBuffer.Allocate(context, (long)maxTokens * cols * 4, "timing x");
        using var dy = DeviceBuffer.Allocate(context, (long)maxTokens * rows * 4, "timing y");
        using var start = CudaEvent.Create(context);
        using var end = CudaEvent.Create(context);
        try
        {
            for (int i = 0; i < copies; i++) mats.Add(DeviceWeights.Upload(context, stream, type, gguf, rows, cols));
            dxq.Fill(1, stream);
            dxds.Fill(0, stream);
            dx.Fill(0, stream);
            var input = new MatVecInput(dxq.Address, dxds.Address, dx.Address);
            var result = new double[tokenCounts.Length];
            for (int c = 0; c < tokenCounts.Length; c++)
            {
                int n = tokenCounts[c];
                // Timed as decode runs them: launches captured in a CUDA graph and replayed, so the
                // host's launch cost stays out and only the GPU's own gaps between kernels count.
                const int Passes = 4, Rounds = 5;
                using var graph = CudaGraph.Capture(stream, s =>
                {
                    for (int pass = 0; pass < Passes; pass++)
                        foreach (var m in mats) m.Launch(kernels, s, input, dy.Address, n, rows);
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
                result[c] = bytes / (perLaunch[Rounds / 2] / 1000) / 1e9;
            }
            return result;
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
