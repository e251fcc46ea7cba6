using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LlCuda.Cpu;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cpu;

/// <summary>Every vector path of every CpuOps operation against the scalar path, over lengths 0..257 and a few large ones.</summary>
public class CpuOpsTests
{
    static IEnumerable<int> Lengths() => Enumerable.Range(0, 258).Concat([1000, 2048, 4099]);

    static IEnumerable<KernelPath> VectorPaths() => KernelPaths.Supported().Where(p => p != KernelPath.Scalar);

    static void Close(float expected, float actual, double tol, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tol || expected.Equals(actual), $"{what}: {actual} vs scalar {expected} (tol {tol})");

    [Fact]
    public void RmsNorm_EveryPath_MatchesScalar()
    {
        foreach (int n in Lengths())
        {
            float[] x = CpuTestData.Normal(n, n, 3f), w = CpuTestData.Normal(n + 1, n);
            var expected = new float[n];
            CpuOps.RmsNorm(x, w, expected, 1e-5f, KernelPath.Scalar);
            double ss = 0;
            foreach (float v in x) ss += (double)v * v;
            float scale = n == 0 ? 0 : (float)(1 / Math.Sqrt(ss / n + 1e-5));
            for (int i = 0; i < n; i++) Close(x[i] * scale * w[i], expected[i], 1e-5 * Math.Abs(x[i] * scale * w[i]) + 1e-7, $"scalar n={n}");
            foreach (var path in VectorPaths())
            {
                var got = new float[n];
                CpuOps.RmsNorm(x, w, got, 1e-5f, path);
                for (int i = 0; i < n; i++) Close(expected[i], got[i], 1e-6 * Math.Abs(expected[i]) + 1e-7, $"{path} n={n} i={i}");
            }
        }
    }

    [Fact]
    public void AddAndScale_EveryPath_EqualScalarBitForBit()
    {
        foreach (int n in Lengths())
        {
            float[] a = CpuTestData.Normal(n, n), b = CpuTestData.Normal(n + 7, n);
            var expected = (float[])a.Clone();
            CpuOps.Add(expected, b, KernelPath.Scalar);
            CpuOps.Scale(expected, 0.37f, KernelPath.Scalar);
            foreach (var path in VectorPaths())
            {
                var got = (float[])a.Clone();
                CpuOps.Add(got, b, path);
                CpuOps.Scale(got, 0.37f, path);
                Assert.Equal(expected, got);
            }
            for (int i = 0; i < n; i++) Assert.Equal((a[i] + b[i]) * 0.37f, expected[i]);
        }
    }

    [Fact]
    public void SiluMul_EveryPath_MatchesScalar()
    {
        foreach (int n in Lengths())
        {
            float[] g = CpuTestData.Normal(n, n, 4f), u = CpuTestData.Normal(n + 3, n);
            var expected = (float[])g.Clone();
            CpuOps.SiluMul(expected, u, KernelPath.Scalar);
            for (int i = 0; i < n; i++)
            {
                double silu = g[i] / (1 + Math.Exp(-g[i])) * u[i];
                Close((float)silu, expected[i], 1e-6 * Math.Abs(silu) + 1e-7, $"scalar n={n}");
            }
            foreach (var path in VectorPaths())
            {
                var got = (float[])g.Clone();
                CpuOps.SiluMul(got, u, path);
                for (int i = 0; i < n; i++) Close(expected[i], got[i], 4e-6 * Math.Abs(expected[i]) + 1e-7, $"{path} n={n} i={i}");
            }
        }
    }

    [Fact]
    public void Softmax_EveryPath_MatchesScalarAndSumsToOne()
    {
        foreach (int n in Lengths().Where(n => n > 0))
        {
            float[] x = CpuTestData.Normal(n, n, 5f);
            if (n > 3) x[n / 2] = float.NegativeInfinity; // a masked position
            var expected = (float[])x.Clone();
            CpuOps.Softmax(expected, KernelPath.Scalar);
            Assert.True(Math.Abs(expected.Sum(v => (double)v) - 1) < 1e-5, $"n={n}: sums to {expected.Sum()}");
            if (n > 3) Assert.Equal(0f, expected[n / 2]);
            foreach (var path in VectorPaths())
            {
                var got = (float[])x.Clone();
                CpuOps.Softmax(got, path);
                for (int i = 0; i < n; i++) Close(expected[i], got[i], 4e-6 * expected[i] + 1e-9, $"{path} n={n} i={i}");
            }
        }
    }

    [Fact]
    public void Dot_EveryPath_MatchesScalar()
    {
        foreach (int n in Lengths())
        {
            float[] a = CpuTestData.Normal(n, n), b = CpuTestData.Normal(n + 5, n);
            float expected = CpuOps.Dot(a, b, KernelPath.Scalar);
            double abs = 0;
            for (int i = 0; i < n; i++) abs += Math.Abs((double)a[i] * b[i]);
            foreach (var path in VectorPaths()) Close(expected, CpuOps.Dot(a, b, path), 1e-6 * abs + 1e-7, $"{path} n={n}");
        }
    }

    [Fact]
    public void DotF16AndAxpyF16_EveryPath_MatchScalar()
    {
        foreach (int n in Lengths())
        {
            Half[] k = CpuTestData.Normal(n, n).Select(v => (Half)v).ToArray();
            float[] q = CpuTestData.Normal(n + 9, n), y0 = CpuTestData.Normal(n + 11, n);
            float expected = CpuOps.DotF16(k, q, KernelPath.Scalar);
            double abs = 0;
            for (int i = 0; i < n; i++) abs += Math.Abs((double)(float)k[i] * q[i]);
            var ey = (float[])y0.Clone();
            CpuOps.AxpyF16(0.3f, k, ey, KernelPath.Scalar);
            foreach (var path in VectorPaths())
            {
                Close(expected, CpuOps.DotF16(k, q, path), 1e-6 * abs + 1e-7, $"DotF16 {path} n={n}");
                var gy = (float[])y0.Clone();
                CpuOps.AxpyF16(0.3f, k, gy, path);
                Assert.Equal(ey, gy); // one fused multiply-add per element on every path
            }
        }
    }

    [Fact]
    public void ConvertToF16_EveryPath_MatchesGgmlRoundingOnAllBitPatternClasses()
    {
        var rng = new Random(42);
        var x = new float[20000];
        for (int i = 0; i < x.Length; i++)
        {
            // Random bit patterns cover NaN, Inf, subnormals of both formats, overflow, ties.
            x[i] = i % 2 == 0 ? BitConverter.Int32BitsToSingle(rng.Next() * (rng.Next(2) == 0 ? 1 : -1))
                              : (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-30, 20));
        }
        float[] specials = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 65504f, 65519.99f, 65520f,
            -65520f, 6.1035156e-05f, 5.9604645e-08f, 2.9802322e-08f, 2.9802326e-08f, 1e-10f, 1.00048828125f, 1.000732421875f];
        specials.CopyTo(x, 0);
        ushort[] ggml = x.Select(FloatFormats.ToFp16Bits).ToArray();
        foreach (var path in KernelPaths.Supported())
        {
            var got = new Half[x.Length];
            CpuOps.ConvertToF16(x, got, path);
            ushort[] bits = MemoryMarshal.Cast<Half, ushort>(got).ToArray();
            for (int i = 0; i < x.Length; i++)
                Assert.True(ggml[i] == bits[i], $"{path}: {x[i]:R} (0x{BitConverter.SingleToUInt32Bits(x[i]):X8}) -> 0x{bits[i]:X4}, ggml 0x{ggml[i]:X4}");
        }
    }

    [Fact]
    public void HalfWiden_AllBitPatterns_ExactAsScalar()
    {
        for (int start = 0; start < 65536; start += 16)
        {
            var h = Vector512.Create(Enumerable.Range(start, 16).Select(i => (uint)i).ToArray());
            var f = HalfVectors.Widen(h);
            var f8 = HalfVectors.Widen(h.GetLower());
            for (int i = 0; i < 16; i++)
            {
                float expected = FloatFormats.FromFp16Bits((ushort)(start + i));
                Assert.True(SameFloat(expected, f[i]), $"0x{start + i:X4}: {f[i]} vs {expected}");
                if (i < 8) Assert.True(SameFloat(expected, f8[i]), $"256-bit 0x{start + i:X4}");
            }
        }
    }

    /// <summary>Bit-equal, or both NaN (payloads may differ).</summary>
    static bool SameFloat(float a, float b) =>
        float.IsNaN(a) ? float.IsNaN(b) : BitConverter.SingleToUInt32Bits(a) == BitConverter.SingleToUInt32Bits(b);

    [Fact]
    public void HalfWidenFinite_AllFinitePatterns_ExactAsScalar()
    {
        for (int start = 0; start < 65536; start += 16)
        {
            var bits = Enumerable.Range(start, 16).Select(i => (int)(short)(ushort)i).ToArray();
            var f = HalfVectors.WidenFinite(Vector512.Create(bits));
            var f8 = HalfVectors.WidenFinite(Vector256.Create(bits.AsSpan(0, 8)));
            for (int i = 0; i < 16; i++)
            {
                float expected = FloatFormats.FromFp16Bits((ushort)(start + i));
                if (!float.IsFinite(expected)) continue;
                Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(f[i]), $"0x{start + i:X4}: {f[i]} vs {expected}");
                if (i < 8) Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(f8[i]), $"256-bit 0x{start + i:X4}");
            }
        }
    }

    [Fact]
    public void Ops_MismatchedLengths_ThrowNamingTheArgument()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuOps.Add(new float[4], new float[5]));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("5", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CpuOps.RmsNorm(new float[4], new float[4], new float[3], 1e-5f));
    }
}
