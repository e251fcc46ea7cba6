using LlCuda.Cuda.Layouts;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cuda;

public class GpuKQuantLayoutTests
{
    [Theory]
    [InlineData(GgmlType.Q4_1, 20)]
    [InlineData(GgmlType.Q5_0, 22)]
    [InlineData(GgmlType.Q5_1, 24)]
    [InlineData(GgmlType.Q8_0, 34)]
    [InlineData(GgmlType.Q4_K, 144)]
    [InlineData(GgmlType.Q5_K, 176)]
    [InlineData(GgmlType.Q6_K, 210)]
    public void Split_PlanesCoverEveryByteOnce_AndRejoinToTheGgufBlocks(GgmlType type, int blockBytes)
    {
        var layout = GpuKQuantLayout.PlanesOf(type)!;
        Assert.Equal(blockBytes, layout.Sum(p => p.Length));
        Assert.Equal(Enumerable.Range(0, blockBytes), layout.SelectMany(p => Enumerable.Range(p.Offset, p.Length)).Order());
        const int rows = 2, cols = 512;
        var rng = new Random(3);
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        var gguf = new byte[GgmlTypeInfo.RowBytes(type, cols) * rows];
        Quantize.Row(type, w, gguf);
        int blocks = gguf.Length / blockBytes;
        var planes = layout.Select(p => new byte[blocks * p.Length]).ToArray();

        GpuKQuantLayout.Split(gguf, layout, planes);

        var rejoined = new byte[gguf.Length];
        for (int b = 0; b < blocks; b++)
            for (int i = 0; i < layout.Length; i++)
                planes[i].AsSpan(b * layout[i].Length, layout[i].Length).CopyTo(rejoined.AsSpan(b * blockBytes + layout[i].Offset));
        Assert.Equal(gguf, rejoined);
    }

    [Theory]
    [InlineData(GgmlType.Q4_1, 4)]
    [InlineData(GgmlType.Q5_0, 6)]
    [InlineData(GgmlType.Q5_1, 8)]
    [InlineData(GgmlType.Q8_0, 2)]
    [InlineData(GgmlType.Q4_K, 16)]
    [InlineData(GgmlType.Q5_K, 48)]
    [InlineData(GgmlType.Q6_K, 0)]
    public void PlanesOf_FirstPlaneIsTheQuants_SixteenByteMultiple(GgmlType type, int quantOffset)
    {
        // The kernels take the quants first and load them as 16-byte vectors (Q6_K: 8-byte).
        var first = GpuKQuantLayout.PlanesOf(type)![0];
        Assert.Equal(quantOffset, first.Offset);
        Assert.Equal(0, first.Length % 16);
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.F16)]
    [InlineData(GgmlType.Q2_K)]
    public void PlanesOf_TypeWithoutAPlanarLayout_IsNull(GgmlType type) => Assert.Null(GpuKQuantLayout.PlanesOf(type));

    [Fact]
    public void Split_PartialSuperBlock_SaysSo()
    {
        var e = Assert.Throws<ArgumentException>(() => GpuKQuantLayout.Split(new byte[150], GpuKQuantLayout.Q4_KPlanes, [new byte[128], new byte[16]]));
        Assert.Contains("150 bytes are not whole 144-byte super-blocks", e.Message);
    }
}
