using LlCuda.Tensors.Quants;

namespace LlCuda.Tensors;

// The 256-weight super-block formats. Weights come out in order; the loops walk the packed
// codes the way they were laid out (see the block structs), and scales are multiplied in
// ggml's order: (super scale * sub-block scale) first, then times the code.
public static partial class Dequantize
{
    /// <summary>Q2_K super-blocks to fp32: w = (d * sc) * q - (dmin * m).</summary>
    public static void Q2_K(ReadOnlySpan<BlockQ2_K> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ2_K.Elements, dst.Length, "Q2_K");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D, dmin = (float)b.DMin;
            var y = dst.Slice(i * BlockQ2_K.Elements, BlockQ2_K.Elements);
            int o = 0, sub = 0;
            for (int half = 0; half < 2; half++)
            {
                ReadOnlySpan<byte> q = ((ReadOnlySpan<byte>)b.Qs).Slice(32 * half, 32);
                for (int shift = 0; shift < 8; shift += 2)
                {
                    // Two sub-blocks of 16 per bit pair: bytes 0-15, then 16-31.
                    for (int part = 0; part < 2; part++, sub++)
                    {
                        byte sc = b.Scales[sub];
                        float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
                        for (int l = 0; l < 16; l++)
                            y[o++] = dl * ((q[16 * part + l] >> shift) & 3) - ml;
                    }
                }
            }
        }
    }

    /// <summary>Q3_K super-blocks to fp32: w = (d * (sc - 32)) * (q - 4).</summary>
    public static void Q3_K(ReadOnlySpan<BlockQ3_K> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ3_K.Elements, dst.Length, "Q3_K");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D;
            var y = dst.Slice(i * BlockQ3_K.Elements, BlockQ3_K.Elements);
            int o = 0, sub = 0, highBit = 0;
            for (int half = 0; half < 2; half++)
            {
                ReadOnlySpan<byte> q = ((ReadOnlySpan<byte>)b.Qs).Slice(32 * half, 32);
                for (int shift = 0; shift < 8; shift += 2, highBit++)
                {
                    for (int part = 0; part < 2; part++, sub++)
                    {
                        float dl = d * (KQuantScales.Q3Scale(b.Scales, sub) - 32);
                        for (int l = 16 * part; l < 16 * part + 16; l++)
                        {
                            // A clear high bit means the code is 4 lower: q - 4 with the bit folded in.
                            int code = ((q[l] >> shift) & 3) - (((b.HMask[l] >> highBit) & 1) != 0 ? 0 : 4);
                            y[o++] = dl * code;
                        }
                    }
                }
            }
        }
    }

    /// <summary>Q4_K super-blocks to fp32: w = (d * sc) * q - (dmin * m).</summary>
    public static void Q4_K(ReadOnlySpan<BlockQ4_K> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ4_K.Elements, dst.Length, "Q4_K");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D, dmin = (float)b.DMin;
            var y = dst.Slice(i * BlockQ4_K.Elements, BlockQ4_K.Elements);
            for (int pair = 0; pair < 4; pair++)
            {
                ReadOnlySpan<byte> q = ((ReadOnlySpan<byte>)b.Qs).Slice(32 * pair, 32);
                KQuantScales.Get(b.Scales, 2 * pair, out byte sc1, out byte m1);
                KQuantScales.Get(b.Scales, 2 * pair + 1, out byte sc2, out byte m2);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                var lo = y.Slice(64 * pair, 32);
                var hi = y.Slice(64 * pair + 32, 32);
                for (int l = 0; l < 32; l++) lo[l] = d1 * (q[l] & 0xF) - min1;
                for (int l = 0; l < 32; l++) hi[l] = d2 * (q[l] >> 4) - min2;
            }
        }
    }

    /// <summary>Q5_K super-blocks to fp32: w = (d * sc) * q - (dmin * m).</summary>
    public static void Q5_K(ReadOnlySpan<BlockQ5_K> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ5_K.Elements, dst.Length, "Q5_K");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D, dmin = (float)b.DMin;
            var y = dst.Slice(i * BlockQ5_K.Elements, BlockQ5_K.Elements);
            for (int pair = 0; pair < 4; pair++)
            {
                ReadOnlySpan<byte> ql = ((ReadOnlySpan<byte>)b.Qs).Slice(32 * pair, 32);
                KQuantScales.Get(b.Scales, 2 * pair, out byte sc1, out byte m1);
                KQuantScales.Get(b.Scales, 2 * pair + 1, out byte sc2, out byte m2);
                float d1 = d * sc1, min1 = dmin * m1, d2 = d * sc2, min2 = dmin * m2;
                int bitLo = 2 * pair, bitHi = 2 * pair + 1;
                var lo = y.Slice(64 * pair, 32);
                var hi = y.Slice(64 * pair + 32, 32);
                for (int l = 0; l < 32; l++)
                    lo[l] = d1 * ((ql[l] & 0xF) + (((b.Qh[l] >> bitLo) & 1) << 4)) - min1;
                for (int l = 0; l < 32; l++)
                    hi[l] = d2 * ((ql[l] >> 4) + (((b.Qh[l] >> bitHi) & 1) << 4)) - min2;
            }
        }
    }

    /// <summary>Q6_K super-blocks to fp32: w = (d * sc) * (q - 32).</summary>
    public static void Q6_K(ReadOnlySpan<BlockQ6_K> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ6_K.Elements, dst.Length, "Q6_K");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            float d = (float)b.D;
            var y = dst.Slice(i * BlockQ6_K.Elements, BlockQ6_K.Elements);
            for (int half = 0; half < 2; half++)
            {
                ReadOnlySpan<byte> ql = ((ReadOnlySpan<byte>)b.Ql).Slice(64 * half, 64);
                ReadOnlySpan<byte> qh = ((ReadOnlySpan<byte>)b.Qh).Slice(32 * half, 32);
                var yh = y.Slice(128 * half, 128);
                int sc = 8 * half;
                for (int l = 0; l < 32; l++)
                {
                    int s = l / 16;
                    int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    yh[l] = d * b.Scales[sc + s] * q1;
                    yh[l + 32] = d * b.Scales[sc + s + 2] * q2;
                    yh[l + 64] = d * b.Scales[sc + s + 4] * q3;
                    yh[l + 96] = d * b.Scales[sc + s + 6] * q4;
                }
            }
        }
    }

    /// <summary>Q8_K blocks to fp32: w = d * q (fp32 scale).</summary>
    public static void Q8_K(ReadOnlySpan<BlockQ8_K> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, BlockQ8_K.Elements, dst.Length, "Q8_K");
        for (int i = 0; i < src.Length; i++)
        {
            ref readonly var b = ref src[i];
            var y = dst.Slice(i * BlockQ8_K.Elements, BlockQ8_K.Elements);
            for (int j = 0; j < BlockQ8_K.Elements; j++) y[j] = b.D * b.Qs[j];
        }
    }
}
