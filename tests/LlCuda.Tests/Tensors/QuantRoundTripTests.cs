using LlCuda.Tensors;

namespace LlCuda.Tests.Tensors;

/// <summary>Quantize then dequantize: error bounds per type, and the argument checks of the row API.</summary>
public class QuantRoundTripTests
{
    // Upper bounds on RMS(error) / RMS(x) for weight-like normal data (seed 42): 1.2x what the
    // ggml algorithms reach (measured, in the comments), so a change that keeps the bytes
    // plausible but loses precision still fails. Sanity check: 4-bit codes over the range of
    // 32 normals (about +-2.1 sigma) give step/sqrt(12) ~ 0.08 sigma, as Q4_0 shows.
    public static TheoryData<GgmlType, double> Bounds => new()
    {
        { GgmlType.F16, 0.00026 },  // 0.00021
        { GgmlType.BF16, 0.002 },   // 0.00167
        { GgmlType.Q8_0, 0.0064 },  // 0.00533
        { GgmlType.Q8_1, 0.0064 },  // 0.00533
        { GgmlType.Q8_K, 0.0083 },  // 0.00689 (one scale per 256, not per 32)
        { GgmlType.Q6_K, 0.021 },   // 0.01772
        { GgmlType.Q5_1, 0.045 },   // 0.03767
        { GgmlType.Q5_0, 0.051 },   // 0.04234
        { GgmlType.Q5_K, 0.043 },   // 0.03592
        { GgmlType.Q4_1, 0.094 },   // 0.07804
        { GgmlType.Q4_0, 0.103 },   // 0.08544
        { GgmlType.Q4_K, 0.086 },   // 0.07122
        { GgmlType.Q3_K, 0.18 },    // 0.15060
        { GgmlType.Q2_K, 0.36 },    // 0.29644
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public void QuantizeThenDequantize_NormalWeights_RelativeRmsErrorWithinBound(GgmlType type, double bound)
    {
        float[] x = QuantTestData.Make("normal", seed: 42, count: 64 * 1024);
        var packed = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        var y = new float[x.Length];
        Quantize.Row(type, x, packed);
        Dequantize.Row(type, packed, y);

        double err2 = 0, sig2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            err2 += (double)(y[i] - x[i]) * (y[i] - x[i]);
            sig2 += (double)x[i] * x[i];
        }
        double relRms = Math.Sqrt(err2 / sig2);
        Assert.True(relRms < bound, $"{type}: relative RMS error {relRms:F5} >= bound {bound}");
        Assert.True(relRms > 0, $"{type}: zero error means the data was not quantized");
    }

    [Theory]
    [InlineData(GgmlType.Q4_0)]
    [InlineData(GgmlType.Q8_0)]
    [InlineData(GgmlType.Q4_K)]
    [InlineData(GgmlType.Q6_K)]
    public void QuantizeThenDequantize_AllZeros_GivesZeros(GgmlType type)
    {
        var x = new float[512];
        var packed = new byte[GgmlTypeInfo.RowBytes(type, x.Length)];
        var y = new float[x.Length];
        y.AsSpan().Fill(1f);
        Quantize.Row(type, x, packed);
        Dequantize.Row(type, packed, y);
        Assert.All(y, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void RowF32_RoundTrip_CopiesBitsExactly()
    {
        float[] x = QuantTestData.Make("edge", seed: 3, count: 256);
        var packed = new byte[x.Length * 4];
        var y = new float[x.Length];
        Quantize.Row(GgmlType.F32, x, packed);
        Dequantize.Row(GgmlType.F32, packed, y);
        Assert.Equal(x, y);
    }

    [Fact]
    public void DequantizeRow_ElementsNotWholeBlocks_ThrowsArgumentExceptionNamingBlockSize()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_K, new byte[144], new float[255]));
        Assert.Contains("255", ex.Message, StringComparison.Ordinal);
        Assert.Contains("block size 256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DequantizeRow_SourceBytesWrongSize_ThrowsArgumentExceptionNamingBothSizes()
    {
        var ex = Assert.Throws<ArgumentException>(() => Dequantize.Row(GgmlType.Q4_0, new byte[20], new float[32]));
        Assert.Contains("20 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("take 18 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuantizeRow_DestinationBytesWrongSize_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q8_0, new float[64], new byte[34]));
        Assert.Contains("take 68 bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QuantizeRow_ElementsNotWholeBlocks_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Quantize.Row(GgmlType.Q5_1, new float[33], new byte[48]));
    }

    [Fact]
    public void Row_UnsupportedType_ThrowsNotSupportedExceptionNamingType()
    {
        var ex = Assert.Throws<NotSupportedException>(() => Dequantize.Row(GgmlType.IQ2_XXS, new byte[66], new float[256]));
        Assert.Contains("IQ2_XXS", ex.Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => Quantize.Row(GgmlType.IQ4_NL, new float[32], new byte[18]));
        Assert.False(Dequantize.Supports(GgmlType.IQ2_XXS));
        Assert.True(Quantize.Supports(GgmlType.Q6_K));
    }

    [Fact]
    public void PerTypeMethod_BlockCountDisagreesWithFloatCount_ThrowsArgumentException()
    {
        var blocks = new LlCuda.Tensors.Quants.BlockQ4_0[2];
        Assert.Throws<ArgumentException>(() => Dequantize.Q4_0(blocks, new float[32]));
        Assert.Throws<ArgumentException>(() => Quantize.Q4_0(new float[96], blocks));
    }

    [Theory]
    [InlineData(0.5f, 0)]
    [InlineData(1.5f, 2)]
    [InlineData(2.5f, 2)]
    [InlineData(-2.5f, -2)]
    [InlineData(-3.5f, -4)]
    [InlineData(2.4999998f, 2)]
    [InlineData(4194303f, 4194303)]
    [InlineData(-4194303f, -4194303)]
    public void NearestInt_Value_RoundsToNearestEven(float value, int expected)
    {
        Assert.Equal(expected, Quantize.NearestInt(value));
    }
}
