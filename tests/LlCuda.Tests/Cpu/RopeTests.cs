using System.Numerics;
using LlCuda.Cpu;

namespace LlCuda.Tests.Cpu;

/// <summary>RoPE against its definition: each rotated pair, read as a complex number, is multiplied by e^(i * pos * freq).</summary>
public class RopeTests
{
    [Theory]
    [InlineData(RopeOrdering.Normal, 16, 16)]
    [InlineData(RopeOrdering.NeoX, 16, 16)]
    [InlineData(RopeOrdering.Normal, 32, 20)] // partial rotary: the last 12 values stay
    [InlineData(RopeOrdering.NeoX, 32, 20)]
    public void Rope_RotatesEachPairAsAComplexNumber(RopeOrdering ordering, int headDim, int nRot)
    {
        const int heads = 3, pos = 37;
        var rng = new Random(5);
        var x = new float[heads * headDim];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        var freqs = new float[nRot / 2];
        for (int i = 0; i < freqs.Length; i++) freqs[i] = MathF.Pow(10000f, -2f * i / nRot);
        var y = (float[])x.Clone();

        CpuOps.Rope(y, heads, headDim, pos, freqs, ordering);

        for (int h = 0; h < heads; h++)
        {
            for (int i = 0; i < nRot / 2; i++)
            {
                int a = ordering == RopeOrdering.Normal ? 2 * i : i, b = ordering == RopeOrdering.Normal ? 2 * i + 1 : i + nRot / 2;
                var expected = new Complex(x[h * headDim + a], x[h * headDim + b]) * Complex.FromPolarCoordinates(1, pos * (double)freqs[i]);
                Assert.Equal(expected.Real, y[h * headDim + a], 4);
                Assert.Equal(expected.Imaginary, y[h * headDim + b], 4);
            }
            for (int j = nRot; j < headDim; j++) Assert.Equal(x[h * headDim + j], y[h * headDim + j]);
        }
    }

    [Fact]
    public void Rope_MoreRotatedValuesThanTheHead_SaysSo()
    {
        var e = Assert.Throws<ArgumentException>(() => CpuOps.Rope(new float[8], 1, 8, 0, new float[5], RopeOrdering.NeoX));
        Assert.Contains("10 rotated values do not fit a head of 8", e.Message);
    }
}
