using LlCuda.Tensors;

namespace LlCuda.Tests.Tensors;

/// <summary>
/// Our quantizers against ggml's, called in-process from LLamaSharp's libggml-base.so: the
/// bytes must be identical for every distribution in <see cref="QuantTestData"/>.
/// </summary>
public class QuantizeMatchesGgmlTests
{
    const int RowLength = 4096;
    const int Rows = 16;

    static readonly GgmlType[] RefTypes =
    [
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q8_1,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
    ];

    // Types llama.cpp writes into model files; ggml_quantize_chunk aborts the process on Q8_1/Q8_K.
    static readonly GgmlType[] ModelTypes =
    [
        GgmlType.F16, GgmlType.BF16, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    ];

    public static TheoryData<GgmlType, string> RefCases => Cross(RefTypes);
    public static TheoryData<GgmlType, string> ModelCases => Cross(ModelTypes);

    [Theory]
    [MemberData(nameof(RefCases))]
    public void Quantize_RandomRows_MatchesGgmlQuantizeRowRefByteForByte(GgmlType type, string kind)
    {
        float[] x = QuantTestData.Make(kind, Seed(type, kind), Rows * RowLength);
        byte[] expected = GgmlReference.QuantizeRowRef(type, x);
        byte[] actual = new byte[expected.Length];
        Quantize.Row(type, x, actual);
        AssertSameBlocks(type, kind, x, expected, actual);
    }

    [Theory]
    [MemberData(nameof(ModelCases))]
    public void Quantize_RandomRows_MatchesGgmlQuantizeChunkWithoutImatrix(GgmlType type, string kind)
    {
        float[] x = QuantTestData.Make(kind, Seed(type, kind) + 1, Rows * RowLength);
        byte[] expected = GgmlReference.QuantizeChunk(type, x, RowLength);
        byte[] actual = new byte[expected.Length];
        Quantize.Row(type, x, actual);
        AssertSameBlocks(type, kind, x, expected, actual);
    }

    [Fact]
    public void QuantizeF16_RandomBitPatterns_MatchGgmlFp32ToFp16()
    {
        // Every class of float: normals, fp16 subnormal range, overflow, infinities, NaNs.
        float[] x = RandomBitPatterns(seed: 16, count: 1 << 20);
        ushort[] expected = GgmlReference.Fp32ToFp16(x);
        var actual = new Half[x.Length];
        Quantize.F16(x, actual);
        for (int i = 0; i < x.Length; i++)
            Assert.True(expected[i] == BitConverter.HalfToUInt16Bits(actual[i]),
                $"fp32 0x{BitConverter.SingleToUInt32Bits(x[i]):X8}: ggml 0x{expected[i]:X4}, ours 0x{BitConverter.HalfToUInt16Bits(actual[i]):X4}");
    }

    [Fact]
    public void QuantizeBF16_RandomBitPatterns_MatchGgmlFp32ToBf16Ref()
    {
        float[] x = RandomBitPatterns(seed: 30, count: 1 << 20);
        ushort[] expected = GgmlReference.Fp32ToBf16(x);
        var actual = new ushort[x.Length];
        Quantize.BF16(x, actual);
        for (int i = 0; i < x.Length; i++)
            Assert.True(expected[i] == actual[i],
                $"fp32 0x{BitConverter.SingleToUInt32Bits(x[i]):X8}: ggml 0x{expected[i]:X4}, ours 0x{actual[i]:X4}");
    }

    static float[] RandomBitPatterns(int seed, int count)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            // Half the draws over all bit patterns, half near fp16's range where rounding is subtle.
            uint bits = (uint)rng.NextInt64(0, 1L << 32);
            if ((i & 1) == 0) bits = (bits & 0x8000_0000) | (uint)rng.Next(0x3000_0000, 0x4800_0000);
            x[i] = BitConverter.UInt32BitsToSingle(bits);
        }
        return x;
    }

    static void AssertSameBlocks(GgmlType type, string kind, float[] x, byte[] expected, byte[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int blockBytes = GgmlTypeInfo.BlockBytes(type), blockSize = GgmlTypeInfo.BlockSize(type);
        int mismatched = 0, first = -1;
        for (int b = 0; b < expected.Length / blockBytes; b++)
        {
            if (!expected.AsSpan(b * blockBytes, blockBytes).SequenceEqual(actual.AsSpan(b * blockBytes, blockBytes)))
            {
                mismatched++;
                if (first < 0) first = b;
            }
        }
        if (mismatched == 0) return;
        Assert.Fail($"{type}/{kind}: {mismatched} of {expected.Length / blockBytes} blocks differ from ggml; first is block {first} " +
            $"(x[{first * blockSize}..] = {string.Join(", ", x.Skip(first * blockSize).Take(Math.Min(blockSize, 8)))}...)\n" +
            $"ggml: {Convert.ToHexString(expected, first * blockBytes, blockBytes)}\n" +
            $"ours: {Convert.ToHexString(actual, first * blockBytes, blockBytes)}");
    }

    static int Seed(GgmlType type, string kind) => (int)type * 1000 + Array.IndexOf(QuantTestData.Kinds, kind);

    static TheoryData<GgmlType, string> Cross(GgmlType[] types)
    {
        var data = new TheoryData<GgmlType, string>();
        foreach (var t in types)
            foreach (var k in QuantTestData.Kinds)
                data.Add(t, k);
        return data;
    }
}
