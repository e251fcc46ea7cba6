using LlCuda.Cuda.Layouts;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cuda;

public class GpuQ4_0LayoutTests
{
    [Fact]
    public void Split_DequantizedFromTheDeviceLayout_EqualsTheGgufRows()
    {
        const int rows = 3, cols = 96;
        var rng = new Random(7);
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1);
        var gguf = new byte[rows * cols / 32 * 18];
        Quantize.Row(GgmlType.Q4_0, w, gguf);
        var quants = new byte[GpuQ4_0Layout.QuantBytesOf(rows, cols)];
        var scales = new ushort[GpuQ4_0Layout.ScaleCountOf(rows, cols)];

        GpuQ4_0Layout.Split(gguf, rows, cols, quants, scales);

        var expected = new float[rows * cols];
        Dequantize.Row(GgmlType.Q4_0, gguf, expected);
        for (int b = 0; b < rows * cols / 32; b++)
            for (int j = 0; j < 32; j++)
            {
                int code = j < 16 ? quants[16 * b + j] & 0x0F : quants[16 * b + j - 16] >> 4;
                float value = (float)BitConverter.UInt16BitsToHalf(scales[b]) * (code - 8);
                Assert.Equal(expected[32 * b + j], value);
            }
    }

    [Fact]
    public void Split_WrongLength_NamesTheExpectedSize()
    {
        var e = Assert.Throws<ArgumentException>(() => GpuQ4_0Layout.Split(new byte[17], 1, 32, new byte[16], new ushort[1]));
        Assert.Contains("1 x 32 Q4_0 weights are 18 bytes, got 17", e.Message);
    }
}
