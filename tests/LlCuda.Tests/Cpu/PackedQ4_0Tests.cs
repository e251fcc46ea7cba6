using System.Runtime.InteropServices;
using LlCuda.Cpu;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cpu;

/// <summary>
/// Q4_0 repacked into 16-row tiles: every kernel path (scalar gemv, 256-bit gemv with and
/// without VNNI, tile expansion + prefill kernels) against the scalar product over ggml's rows,
/// for row counts that leave partial tiles and token counts on both sides of the prefill switch.
/// </summary>
public sealed class PackedQ4_0Tests : IDisposable
{
    readonly CpuThreadPool _pool = new(2);
    readonly MatMulScratch _scratch = new();

    public void Dispose()
    {
        _pool.Dispose();
        _scratch.Dispose();
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(16, 3, 1)]
    [InlineData(17, 2, 2)]
    [InlineData(33, 5, 3)]
    [InlineData(70, 4, 4)]
    [InlineData(129, 9, 9)]
    [InlineData(40, 2, 67)]
    public unsafe void PackedMatMul_EveryPath_MatchesRowLayoutScalar(int rows, int blocks, int n)
    {
        int cols = 32 * blocks;
        byte[] w = CpuTestData.Weights(GgmlType.Q4_0, rows, cols, rows * 31 + blocks);
        float[] x = CpuTestData.Normal(rows + n, n * cols);
        float[] wf = CpuTestData.Dequantized(GgmlType.Q4_0, w, rows, cols);
        var expected = new float[n * rows];
        long packedBytes = PackedQ4_0.Bytes(rows, cols);
        Assert.Equal((rows + 15) / 16 * 16 * (long)blocks * 18, packedBytes);
        byte* packed = (byte*)NativeMemory.AlignedAlloc((nuint)packedBytes, 64);
        try
        {
            fixed (byte* pw = w)
            {
                var plain = new WeightMatrix(pw, GgmlType.Q4_0, rows, cols);
                CpuMatMul.MatMul(plain, x, n, expected, _scratch, _pool, KernelPath.Scalar);
                PackedQ4_0.Pack(plain, packed);
                var tiles = new WeightMatrix(packed, plain, WeightLayout.Tiles16);
                Assert.Equal(packedBytes, tiles.ByteSize);
                foreach (var path in KernelPaths.Supported())
                    foreach (int minTokens in new[] { CpuMatMul.InterleavedMinTokens, int.MaxValue })
                    {
                        var got = new float[n * rows];
                        CpuMatMul.MatMul(tiles, x, n, got, _scratch, _pool, path, minTokens);
                        for (int t = 0; t < n; t++)
                            for (int r = 0; r < rows; r++)
                            {
                                double abs = 0;
                                for (int c = 0; c < cols; c++) abs += Math.Abs((double)wf[r * cols + c] * x[t * cols + c]);
                                double tol = 1e-5 * abs + 1e-6;
                                float e = expected[t * rows + r], g = got[t * rows + r];
                                Assert.True(Math.Abs(e - g) <= tol,
                                    $"{path} minTokens={minTokens} rows={rows} cols={cols} n={n} [t={t}, r={r}]: {g} vs {e} (tol {tol})");
                            }
                    }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }
}
