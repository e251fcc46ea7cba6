using System.Runtime.InteropServices;
using LlCuda.Cpu;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cpu;

/// <summary>
/// Q4_0 and Q4_K repacked into 16-row tiles: every kernel path (scalar gemv, 256-bit gemv with and
/// without VNNI, tile expansion + prefill kernels) against the scalar product over ggml's rows,
/// for row counts that leave partial tiles and token counts on both sides of the prefill switch.
/// </summary>
public sealed class PackedTilesTests : IDisposable
{
    readonly CpuThreadPool _pool = new(2);
    readonly MatMulScratch _scratch = new();

    public void Dispose()
    {
        _pool.Dispose();
        _scratch.Dispose();
    }

    public static TheoryData<GgmlType, int, int, int> Cases()
    {
        var data = new TheoryData<GgmlType, int, int, int>();
        foreach (var type in new[] { GgmlType.Q4_0, GgmlType.Q4_K })
            foreach (var (rows, blocks, n) in new[] { (1, 1, 1), (16, 3, 1), (17, 2, 2), (33, 5, 3), (70, 4, 4), (129, 3, 9), (40, 2, 67) })
                data.Add(type, rows, blocks, n);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public unsafe void PackedMatMul_EveryPath_MatchesRowLayoutScalar(GgmlType type, int rows, int blocks, int n)
    {
        int cols = GgmlTypeInfo.BlockSize(type) * blocks;
        byte[] w = CpuTestData.Weights(type, rows, cols, rows * 31 + blocks);
        float[] x = CpuTestData.Normal(rows + n, n * cols);
        float[] wf = CpuTestData.Dequantized(type, w, rows, cols);
        var expected = new float[n * rows];
        long packedBytes = PackedTiles.Bytes(type, rows, cols);
        Assert.True(packedBytes >= (rows + 15) / 16 * 16 * GgmlTypeInfo.RowBytes(type, cols), "a packed tile holds at least the rows' bytes");
        Assert.True(packedBytes <= (rows + 15) / 16 * 16 * GgmlTypeInfo.RowBytes(type, cols) * 1.03, "packing adds at most 3%");
        byte* packed = (byte*)NativeMemory.AlignedAlloc((nuint)packedBytes, 64);
        try
        {
            fixed (byte* pw = w)
            {
                var plain = new WeightMatrix(pw, type, rows, cols);
                CpuMatMul.MatMul(plain, x, n, expected, _scratch, _pool, KernelPath.Scalar);
                PackedTiles.Pack(plain, packed);
                var tiles = new WeightMatrix(packed, plain, WeightLayout.Tiles16);
                Assert.Equal(packedBytes, tiles.ByteSize);
                foreach (var path in KernelPaths.Supported())
                    foreach (int minTokens in new[] { CpuMatMul.InterleavedMinTokens, int.MaxValue })
                    {
                        var got = new float[n * rows];
                        CpuMatMul.MatMul(tiles, x, n, got, _scratch, _pool, path, minTokens);
                        CpuTestData.AssertSameProducts(expected, got, wf, x, rows, cols, n, $"{type} {path} minTokens={minTokens} vs row-layout scalar:");
                    }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(packed);
        }
    }
}
