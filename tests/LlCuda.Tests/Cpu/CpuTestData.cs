using System.Runtime.InteropServices;
using LlCuda.Cpu;
using LlCuda.Tensors;
using LlCuda.Tensors.Quants;

namespace LlCuda.Tests.Cpu;

/// <summary>Weight matrices and activations for the CPU kernel tests, fixed by seed.</summary>
static class CpuTestData
{
    public static readonly GgmlType[] WeightTypes =
    [
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
        GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    public static readonly GgmlType[] QuantTypes =
        [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    public static TheoryData<GgmlType> AllWeightTypes() => new(WeightTypes);
    public static TheoryData<GgmlType> AllQuantTypes() => new(QuantTypes);

    /// <summary>Normal(0, std) values.</summary>
    public static float[] Normal(int seed, int count, float std = 1f)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = std * (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }

    /// <summary>[rows, cols] random weights stored in <paramref name="type"/> (row by row, as a GGUF tensor).</summary>
    public static byte[] Weights(GgmlType type, int rows, int cols, int seed)
    {
        var f = Normal(seed, rows * cols, 0.05f);
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        var bytes = new byte[rows * rowBytes];
        for (int r = 0; r < rows; r++)
            Quantize.Row(type, f.AsSpan(r * cols, cols), bytes.AsSpan((int)(r * rowBytes), (int)rowBytes));
        return bytes;
    }

    /// <summary>The fp32 values a weight matrix stands for.</summary>
    public static float[] Dequantized(GgmlType type, byte[] bytes, int rows, int cols)
    {
        var f = new float[rows * cols];
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        for (int r = 0; r < rows; r++)
            Dequantize.Row(type, bytes.AsSpan((int)(r * rowBytes), (int)rowBytes), f.AsSpan(r * cols, cols));
        return f;
    }

    /// <summary>A block size that every kernel of <paramref name="type"/> accepts as a row length unit.</summary>
    public static int ColsUnit(GgmlType type) => GgmlTypeInfo.BlockSize(type);

    /// <summary>
    /// Our activation row (codes, scales, sums) re-packed as ggml's interleaved blocks (Q8_0, Q8_1
    /// with s = fp16(d * sum), or Q8_K), so ggml's vec_dot reads exactly the codes ours does.
    /// </summary>
    public static byte[] ToGgmlBlocks(GgmlType vecDotType, sbyte[] codes, float[] scales, short[] sums)
    {
        int n = codes.Length;
        var bytes = new byte[GgmlTypeInfo.RowBytes(vecDotType, n)];
        switch (vecDotType)
        {
            case GgmlType.Q8_0:
            {
                var blocks = MemoryMarshal.Cast<byte, BlockQ8_0>(bytes.AsSpan());
                for (int b = 0; b < blocks.Length; b++)
                {
                    blocks[b].D = (Half)scales[b];
                    for (int j = 0; j < 32; j++) blocks[b].Qs[j] = codes[32 * b + j];
                }
                break;
            }
            case GgmlType.Q8_1:
            {
                var blocks = MemoryMarshal.Cast<byte, BlockQ8_1>(bytes.AsSpan());
                for (int b = 0; b < blocks.Length; b++)
                {
                    blocks[b].D = (Half)scales[b];
                    blocks[b].S = FloatFormats.ToHalf(scales[b] * sums[b]);
                    for (int j = 0; j < 32; j++) blocks[b].Qs[j] = codes[32 * b + j];
                }
                break;
            }
            case GgmlType.Q8_K:
            {
                var blocks = MemoryMarshal.Cast<byte, BlockQ8_K>(bytes.AsSpan());
                for (int b = 0; b < blocks.Length; b++)
                {
                    blocks[b].D = scales[b];
                    for (int j = 0; j < 256; j++) blocks[b].Qs[j] = codes[256 * b + j];
                    for (int j = 0; j < 16; j++) blocks[b].BSums[j] = sums[16 * b + j];
                }
                break;
            }
            default:
                throw new ArgumentException($"not an activation type: {vecDotType}", nameof(vecDotType));
        }
        return bytes;
    }

    /// <summary>One activation row quantized by our scalar quantizer for weights of <paramref name="type"/>.</summary>
    public static unsafe (sbyte[] Codes, float[] Scales, short[] Sums) QuantizeActivations(GgmlType type, float[] x)
    {
        bool k = type is GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;
        var codes = new sbyte[x.Length];
        var scales = new float[x.Length / (k ? 256 : 32)];
        var sums = new short[x.Length / (k ? 16 : 32)];
        fixed (float* px = x)
        fixed (sbyte* pc = codes)
        fixed (float* ps = scales)
        fixed (short* pm = sums)
        {
            if (k) ActivationQuantizer.Q8KScalar(px, x.Length, pc, ps, pm);
            else ActivationQuantizer.Q8BlocksScalar(px, x.Length, pc, ps, pm);
        }
        return (codes, scales, sums);
    }

    /// <summary>
    /// Asserts got[t, r] == expected[t, r] within 1e-5 of sum |w[r, c] * x[t, c]| (+1e-6): the
    /// same integer sums, with only the order of the fp32 adds allowed to differ.
    /// </summary>
    /// <param name="wf">[rows, cols] dequantized weights.</param>
    /// <param name="x">[n, cols] activations.</param>
    public static void AssertSameProducts(float[] expected, float[] got, float[] wf, float[] x, int rows, int cols, int n, string label)
    {
        for (int t = 0; t < n; t++)
            for (int r = 0; r < rows; r++)
            {
                double abs = 0;
                for (int c = 0; c < cols; c++) abs += Math.Abs((double)wf[r * cols + c] * x[t * cols + c]);
                double tol = 1e-5 * abs + 1e-6;
                float e = expected[t * rows + r], g = got[t * rows + r];
                Assert.True(Math.Abs(e - g) <= tol, $"{label} rows={rows} cols={cols} n={n} [t={t}, r={r}]: {g} vs {e} (tol {tol})");
            }
    }
}
