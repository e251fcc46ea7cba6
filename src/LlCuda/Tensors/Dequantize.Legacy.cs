using LlCuda.Tensors.Quants;

namespace LlCuda.Tensors;

// The 32-weight block formats (ggml's "legacy" quants). Each loop writes weight j and j + 16
// from one byte, as the nibbles are packed.
public static partial class Dequantize
{
    /// <summary>Q4_0 blocks to fp32: w = d * (q - 8).</summary>
    public static void Q4_0(ReadOnlySpan<BlockQ4_0> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ4_0.Elements, dst.Length, "Q4_0");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D;
            var y = dst.Slice(i * BlockQ4_0.Elements, BlockQ4_0.Elements);
            for (int j = 0; j < 16; j++)
            {
                y[j] = ((b.Qs[j] & 0x0F) - 8) * d;
                y[j + 16] = ((b.Qs[j] >> 4) - 8) * d;
            }
        }
    }

    /// <summary>Q4_1 blocks to fp32: w = d * q + m.</summary>
    public static void Q4_1(ReadOnlySpan<BlockQ4_1> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ4_1.Elements, dst.Length, "Q4_1");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D, m = (float)b.M;
            var y = dst.Slice(i * BlockQ4_1.Elements, BlockQ4_1.Elements);
            for (int j = 0; j < 16; j++)
            {
                y[j] = (b.Qs[j] & 0x0F) * d + m;
                y[j + 16] = (b.Qs[j] >> 4) * d + m;
            }
        }
    }

    /// <summary>Q5_0 blocks to fp32: w = d * (q - 16).</summary>
    public static void Q5_0(ReadOnlySpan<BlockQ5_0> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ5_0.Elements, dst.Length, "Q5_0");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D;
            uint qh = HighBits(b.Qh);
            var y = dst.Slice(i * BlockQ5_0.Elements, BlockQ5_0.Elements);
            for (int j = 0; j < 16; j++)
            {
                int x0 = ((b.Qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4)) - 16;
                int x1 = ((b.Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
                y[j] = x0 * d;
                y[j + 16] = x1 * d;
            }
        }
    }

    /// <summary>Q5_1 blocks to fp32: w = d * q + m.</summary>
    public static void Q5_1(ReadOnlySpan<BlockQ5_1> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ5_1.Elements, dst.Length, "Q5_1");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D, m = (float)b.M;
            uint qh = HighBits(b.Qh);
            var y = dst.Slice(i * BlockQ5_1.Elements, BlockQ5_1.Elements);
            for (int j = 0; j < 16; j++)
            {
                int x0 = (b.Qs[j] & 0x0F) | (int)(((qh >> j) & 1) << 4);
                int x1 = (b.Qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            }
        }
    }

    /// <summary>Q8_0 blocks to fp32: w = d * q.</summary>
    public static void Q8_0(ReadOnlySpan<BlockQ8_0> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ8_0.Elements, dst.Length, "Q8_0");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D;
            var y = dst.Slice(i * BlockQ8_0.Elements, BlockQ8_0.Elements);
            for (int j = 0; j < BlockQ8_0.Elements; j++) y[j] = b.Qs[j] * d;
        }
    }

    /// <summary>
    /// Q8_1 blocks to fp32: w = d * q, the sum field ignored. ggml has no Q8_1 dequantizer (it
    /// is only ever a dot-product operand); this one exists for tests and debugging.
    /// </summary>
    public static void Q8_1(ReadOnlySpan<BlockQ8_1> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ8_1.Elements, dst.Length, "Q8_1");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D;
            var y = dst.Slice(i * BlockQ8_1.Elements, BlockQ8_1.Elements);
            for (int j = 0; j < BlockQ8_1.Elements; j++) y[j] = b.Qs[j] * d;
        }
    }

    /// <summary>The 32 fifth bits of a Q5 block as one little-endian word.</summary>
    static uint HighBits(in Bytes4 qh) => (uint)(qh[0] | (qh[1] << 8) | (qh[2] << 16) | (qh[3] << 24));
}
