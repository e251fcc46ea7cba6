using System.Runtime.InteropServices;
using LlCuda.Cpu;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cpu;

/// <summary>
/// Our scalar dot products (the reference every vector path is held to) against ggml-cpu's
/// vec_dot functions, generic and vectorized, fed the very same codes: they must agree to fp32
/// rounding. And our activation quantizers against ggml-cpu's quantize_row_q8_*.
/// </summary>
public class QuantDotMatchesGgmlTests
{
    static readonly int[] Lengths = [256, 512, 2048, 5632];

    [Theory]
    [MemberData(nameof(CpuTestData.AllWeightTypes), MemberType = typeof(CpuTestData))]
    public unsafe void ScalarDot_SameCodes_MatchesGgmlVecDot(GgmlType type)
    {
        foreach (int n in Lengths)
        {
            for (int seed = 1; seed <= 3; seed++)
            {
                byte[] w = CpuTestData.Weights(type, 1, n, seed);
                float[] x = CpuTestData.Normal(seed + 100, n);
                float[] wf = CpuTestData.Dequantized(type, w, 1, n);
                var k = DotKernels.For(type, KernelPath.Scalar);
                float ours;
                double absSum = 0;
                byte[] ggmlY;
                if (k.Format == ActivationFormat.Float)
                {
                    fixed (byte* pw = w)
                    fixed (float* px = x)
                        ours = k.FloatRow(pw, px, n);
                    for (int i = 0; i < n; i++) absSum += Math.Abs((double)wf[i] * x[i]);
                    // ggml rounds fp32 activations to the weight type first (its vec_dot_type).
                    ggmlY = type switch
                    {
                        GgmlType.F32 => MemoryMarshal.AsBytes(x.AsSpan()).ToArray(),
                        _ => QuantizeRowBytes(type, x),
                    };
                }
                else
                {
                    var (codes, scales, sums) = CpuTestData.QuantizeActivations(type, x);
                    fixed (byte* pw = w)
                    fixed (sbyte* pc = codes)
                    fixed (float* ps = scales)
                    fixed (short* pm = sums)
                        ours = k.QuantRow(pw, pc, ps, pm, n / GgmlTypeInfo.BlockSize(type));
                    int block = scales.Length == 0 ? 1 : n / scales.Length;
                    for (int i = 0; i < n; i++) absSum += Math.Abs((double)wf[i] * codes[i] * scales[i / block]);
                    ggmlY = CpuTestData.ToGgmlBlocks(GgmlCpuReference.VecDotType(type), codes, scales, sums);
                }

                // fp32 rounding of sums over n terms; *_1 types: ggml rounds s = d * sum to fp16;
                // float types: ggml rounds the activations to fp16/bf16 (bf16 keeps 8 bits).
                double rel = type switch
                {
                    GgmlType.BF16 => 1e-2,
                    GgmlType.F16 => 2e-3,
                    GgmlType.Q4_1 or GgmlType.Q5_1 => 2e-3,
                    _ => 2e-5,
                };
                double tol = rel * absSum + 1e-6;
                foreach (bool generic in new[] { true, false })
                {
                    if (generic && k.Format == ActivationFormat.Float) continue; // float vec_dots have no _generic export
                    float reference = GgmlCpuReference.VecDot(type, w, ggmlY, n, generic);
                    Assert.True(Math.Abs(ours - reference) <= tol,
                        $"{type} n={n} seed={seed} generic={generic}: ours {ours} vs ggml {reference} (|diff| {Math.Abs(ours - reference)} > tol {tol})");
                }
            }
        }
    }

    static byte[] QuantizeRowBytes(GgmlType type, float[] x)
    {
        var bytes = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        Quantize.Row(type, x, bytes);
        return bytes;
    }

    [Theory]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q8_K)]
    public unsafe void ActivationQuantizer_EveryPath_MatchesGgmlQuantizeRowBitForBit(GgmlType vecDotType)
    {
        bool k = vecDotType == GgmlType.Q8_K;
        foreach (string kind in new[] { "normal", "uniform", "outliers", "sparse", "grid", "edge", "large" })
        {
            float[] x = Tensors.QuantTestData.Make(kind, 7, 2048);
            byte[] reference = GgmlCpuReference.QuantizeActivations(vecDotType, x);
            foreach (var path in KernelPaths.Supported())
            {
                var codes = new sbyte[x.Length];
                var scales = new float[x.Length / (k ? 256 : 32)];
                var sums = new short[x.Length / (k ? 16 : 32)];
                fixed (float* px = x)
                fixed (sbyte* pc = codes)
                fixed (float* ps = scales)
                fixed (short* pm = sums)
                {
                    if (k) ActivationQuantizer.Q8K(px, x.Length, pc, ps, pm, path);
                    else ActivationQuantizer.Q8Blocks(px, x.Length, pc, ps, pm, path);
                }
                byte[] ours = CpuTestData.ToGgmlBlocks(vecDotType, codes, scales, sums);
                Assert.True(reference.AsSpan().SequenceEqual(ours), $"{vecDotType} {kind} {path}: bytes differ from ggml's quantize_row");
                if (!k)
                {
                    // The sums ggml keeps only inside Q8_1 blocks: check them against the codes.
                    for (int b = 0; b < sums.Length; b++)
                    {
                        int s = 0;
                        for (int j = 0; j < 32; j++) s += codes[32 * b + j];
                        Assert.Equal(s, sums[b]);
                    }
                }
            }
        }
    }
}
