using System.Buffers.Binary;
using LlCuda.Tensors;

namespace LlCuda.Tests.Tensors;

/// <summary>
/// Our dequantizers against ggml's dequantize_row_* from LLamaSharp's libggml-base.so, compared
/// as float bits: on ggml-quantized data and on arbitrary block bytes (every code pattern).
/// </summary>
public class DequantizeMatchesGgmlTests
{
    const int Elements = 16 * 4096;

    // Q8_1 is missing: ggml has no Q8_1 dequantizer.
    public static TheoryData<GgmlType> QuantTypes => new()
    {
        GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0,
        GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.Q8_K,
    };

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void Dequantize_GgmlQuantizedRows_MatchGgmlDequantizeRowBitForBit(GgmlType type)
    {
        foreach (string kind in QuantTestData.Kinds)
        {
            float[] x = QuantTestData.Make(kind, 7000 + (int)type, Elements);
            byte[] packed = GgmlReference.QuantizeRowRef(type, x);
            AssertSameFloats(type, kind, GgmlReference.DequantizeRow(type, packed, Elements), Ours(type, packed));
        }
    }

    [Theory]
    [MemberData(nameof(QuantTypes))]
    public void Dequantize_RandomBlockBytes_MatchGgmlDequantizeRowBitForBit(GgmlType type)
    {
        var rng = new Random(9000 + (int)type);
        byte[] packed = new byte[GgmlTypeInfo.RowBytes(type, Elements)];
        rng.NextBytes(packed);
        MakeScalesFinite(type, packed, rng);
        AssertSameFloats(type, "random bytes", GgmlReference.DequantizeRow(type, packed, Elements), Ours(type, packed));
    }

    [Fact]
    public void DequantizeF16_All65536Values_MatchGgmlFp16ToFp32()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        float[] expected = GgmlReference.Fp16ToFp32(bits);
        var actual = new float[bits.Length];
        Dequantize.Row(GgmlType.F16, System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()), actual);
        AssertSameFloats(GgmlType.F16, "all fp16", expected, actual);
    }

    [Fact]
    public void DequantizeBF16_All65536Values_MatchGgmlBf16ToFp32()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)i;
        float[] expected = GgmlReference.Bf16ToFp32(bits);
        var actual = new float[bits.Length];
        Dequantize.Row(GgmlType.BF16, System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()), actual);
        AssertSameFloats(GgmlType.BF16, "all bf16", expected, actual);
    }

    static float[] Ours(GgmlType type, byte[] packed)
    {
        var y = new float[Elements];
        Dequantize.Row(type, packed, y);
        return y;
    }

    /// <summary>
    /// Rewrites the fp16 (fp32 for Q8_K) scale fields of random blocks to finite values, so the
    /// comparison exercises code unpacking rather than NaN payload propagation.
    /// </summary>
    static void MakeScalesFinite(GgmlType type, byte[] packed, Random rng)
    {
        int[] halfOffsets = type switch
        {
            GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => [0],
            GgmlType.Q4_1 or GgmlType.Q5_1 or GgmlType.Q4_K or GgmlType.Q5_K => [0, 2],
            GgmlType.Q2_K => [80, 82],
            GgmlType.Q3_K => [108],
            GgmlType.Q6_K => [208],
            _ => [],
        };
        int blockBytes = GgmlTypeInfo.BlockBytes(type);
        for (int b = 0; b < packed.Length / blockBytes; b++)
        {
            var block = packed.AsSpan(b * blockBytes, blockBytes);
            foreach (int o in halfOffsets)
                BinaryPrimitives.WriteHalfLittleEndian(block[o..], (Half)((float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-20, 10))));
            if (type == GgmlType.Q8_K)
                BinaryPrimitives.WriteSingleLittleEndian(block, (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-30, 10)));
        }
    }

    static void AssertSameFloats(GgmlType type, string what, float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            uint e = BitConverter.SingleToUInt32Bits(expected[i]), a = BitConverter.SingleToUInt32Bits(actual[i]);
            if (e != a)
                Assert.Fail($"{type}/{what}: element {i} (block {i / GgmlTypeInfo.BlockSize(type)}) ggml {expected[i]:R} (0x{e:X8}), ours {actual[i]:R} (0x{a:X8})");
        }
    }
}
