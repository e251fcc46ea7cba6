using LlCuda.Cuda.Layouts;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cuda;

public class GpuKQuantLayoutTests
{
    [Theory]
    [InlineData(GgmlType.Q4_K, 144)]
    [InlineData(GgmlType.Q6_K, 210)]
    [InlineData(GgmlType.Q8_0, 34)]
    public void Split_PlanesCoverEveryByteOnce_AndRejoinToTheGgufBlocks(GgmlType type, int blockBytes)
    {
        var layout = type switch { GgmlType.Q4_K => GpuKQuantLayout.Q4_KPlanes, GgmlType.Q6_K => GpuKQuantLayout.Q6_KPlanes, _ => GpuKQuantLayout.Q8_0Planes };
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

    [Fact]
    public void Split_PartialSuperBlock_SaysSo()
    {
        var e = Assert.Throws<ArgumentException>(() => GpuKQuantLayout.Split(new byte[150], GpuKQuantLayout.Q4_KPlanes, [new byte[16], new byte[128]]));
        Assert.Contains("150 bytes are not whole 144-byte super-blocks", e.Message);
    }
}
