using LlCuda.Tensors.Quants;

namespace LlCuda.Tensors;

// The 256-weight super-block formats, as quantize_row_q{2..6,8}_K_ref. Each one fits every
// sub-block on its own, quantizes the sub-block scales (and minimums) against the largest
// one, then requantizes the weights with the scales as actually stored (fp16 super scale times
// the small integer), so the codes fit what a reader will reconstruct. A sub-block whose
// stored scale is 0 keeps the codes of its own fit, exactly as ggml does.
public static partial class Quantize
{
    const int QK = 256;

    /// <summary>fp32 to Q2_K (quantize_row_q2_K_ref).</summary>
    public static void Q2_K(ReadOnlySpan<float> src, Span<BlockQ2_K> dst)
    {
        RowChecks.CheckCount(dst.Length, QK, src.Length, "Q2_K");
        Span<byte> codes = stackalloc byte[QK];
        Span<byte> scratch = stackalloc byte[16];
        Span<float> weights = stackalloc float[16];
        Span<float> scales = stackalloc float[16];
        Span<float> mins = stackalloc float[16];
        const float q4scale = 15f;
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * QK, QK);
            ref var b = ref dst[i];
            float maxScale = 0, maxMin = 0;
            for (int j = 0; j < 16; j++)
            {
                var xs = x.Slice(16 * j, 16);
                for (int l = 0; l < 16; l++) weights[l] = MathF.Abs(xs[l]);
                scales[j] = FitAffine(xs, weights, 3, codes.Slice(16 * j, 16), scratch, out mins[j], -0.5f, 0.1f, 15, useMad: true);
                if (scales[j] > maxScale) maxScale = scales[j];
                if (mins[j] > maxMin) maxMin = mins[j];
            }

            if (maxScale > 0)
            {
                float iscale = q4scale / maxScale;
                for (int j = 0; j < 16; j++) b.Scales[j] = (byte)NearestInt(iscale * scales[j]);
                b.D = FloatFormats.ToHalf(maxScale / q4scale);
            }
            else
            {
                for (int j = 0; j < 16; j++) b.Scales[j] = 0;
                b.D = FloatFormats.ToHalf(0f);
            }
            if (maxMin > 0)
            {
                float iscale = q4scale / maxMin;
                for (int j = 0; j < 16; j++) b.Scales[j] |= (byte)(NearestInt(iscale * mins[j]) << 4);
                b.DMin = FloatFormats.ToHalf(maxMin / q4scale);
            }
            else
            {
                b.DMin = FloatFormats.ToHalf(0f);
            }

            float dAll = (float)b.D, dminAll = (float)b.DMin;
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * (b.Scales[j] & 0xF);
                if (d == 0) continue;
                float dm = dminAll * (b.Scales[j] >> 4);
                for (int l = 0; l < 16; l++)
                    codes[16 * j + l] = (byte)Math.Clamp(NearestInt((x[16 * j + l] + dm) / d), 0, 3);
            }
            Pack2Bit(codes, b.Qs);
        }
    }

    /// <summary>fp32 to Q3_K (quantize_row_q3_K_ref).</summary>
    public static void Q3_K(ReadOnlySpan<float> src, Span<BlockQ3_K> dst)
    {
        RowChecks.CheckCount(dst.Length, QK, src.Length, "Q3_K");
        Span<sbyte> codes = stackalloc sbyte[QK];
        Span<byte> low = stackalloc byte[QK];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * QK, QK);
            ref var b = ref dst[i];
            float maxScale = 0, amax = 0;
            for (int j = 0; j < 16; j++)
            {
                scales[j] = FitQ3(x.Slice(16 * j, 16), 4, codes.Slice(16 * j, 16));
                float scale = MathF.Abs(scales[j]);
                if (scale > amax) { amax = scale; maxScale = scales[j]; }
            }

            ((Span<byte>)b.Scales).Clear();
            if (maxScale != 0)
            {
                float iscale = -32f / maxScale;
                for (int j = 0; j < 16; j++)
                {
                    // ggml narrows to int8 before clamping.
                    int l = Math.Clamp((int)(sbyte)NearestInt(iscale * scales[j]), -32, 31) + 32;
                    KQuantScales.SetQ3Scale(b.Scales, j, l);
                }
                b.D = FloatFormats.ToHalf(1 / iscale);
            }
            else
            {
                b.D = FloatFormats.ToHalf(0f);
            }

            float dAll = (float)b.D;
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * (KQuantScales.Q3Scale(b.Scales, j) - 32);
                if (d == 0) continue;
                for (int l = 0; l < 16; l++)
                    codes[16 * j + l] = (sbyte)(Math.Clamp(NearestInt(x[16 * j + l] / d), -4, 3) + 4);
            }

            // High bit of code j goes to bit j / 32 of byte j % 32; the low 2 bits pack as Q2_K.
            ((Span<byte>)b.HMask).Clear();
            for (int j = 0; j < QK; j++)
            {
                int c = codes[j];
                if (c > 3)
                {
                    b.HMask[j % 32] |= (byte)(1 << (j / 32));
                    c -= 4;
                }
                low[j] = (byte)c;
            }
            Pack2Bit(low, b.Qs);
        }
    }

    /// <summary>fp32 to Q4_K (quantize_row_q4_K_ref; what llama.cpp uses when no imatrix is given).</summary>
    public static void Q4_K(ReadOnlySpan<float> src, Span<BlockQ4_K> dst)
    {
        RowChecks.CheckCount(dst.Length, QK, src.Length, "Q4_K");
        Span<byte> codes = stackalloc byte[QK];
        for (int i = 0; i < dst.Length; i++)
        {
            ref var b = ref dst[i];
            QuantizeAffineSuperBlock(src.Slice(i * QK, QK), 15, -1f, 0.1f, 20, codes, b.Scales, out b.D, out b.DMin);
            for (int pair = 0; pair < 4; pair++)
                for (int l = 0; l < 32; l++)
                    b.Qs[32 * pair + l] = (byte)(codes[64 * pair + l] | (codes[64 * pair + l + 32] << 4));
        }
    }

    /// <summary>fp32 to Q5_K (quantize_row_q5_K_ref; what llama.cpp uses when no imatrix is given).</summary>
    public static void Q5_K(ReadOnlySpan<float> src, Span<BlockQ5_K> dst)
    {
        RowChecks.CheckCount(dst.Length, QK, src.Length, "Q5_K");
        Span<byte> codes = stackalloc byte[QK];
        for (int i = 0; i < dst.Length; i++)
        {
            ref var b = ref dst[i];
            QuantizeAffineSuperBlock(src.Slice(i * QK, QK), 31, -0.5f, 0.1f, 15, codes, b.Scales, out b.D, out b.DMin);
            ((Span<byte>)b.Qh).Clear();
            for (int pair = 0; pair < 4; pair++)
            {
                for (int l = 0; l < 32; l++)
                {
                    int lo = codes[64 * pair + l], hi = codes[64 * pair + l + 32];
                    if (lo > 15) { lo -= 16; b.Qh[l] |= (byte)(1 << (2 * pair)); }
                    if (hi > 15) { hi -= 16; b.Qh[l] |= (byte)(1 << (2 * pair + 1)); }
                    b.Qs[32 * pair + l] = (byte)(lo | (hi << 4));
                }
            }
        }
    }

    /// <summary>fp32 to Q6_K (quantize_row_q6_K_ref; what llama.cpp uses when no imatrix is given).</summary>
    public static void Q6_K(ReadOnlySpan<float> src, Span<BlockQ6_K> dst)
    {
        RowChecks.CheckCount(dst.Length, QK, src.Length, "Q6_K");
        Span<sbyte> codes = stackalloc sbyte[QK];
        Span<float> scales = stackalloc float[16];
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * QK, QK);
            ref var b = ref dst[i];
            float maxScale = 0, maxAbsScale = 0;
            for (int j = 0; j < 16; j++)
            {
                scales[j] = FitSymmetricWeighted(x.Slice(16 * j, 16), 32, codes.Slice(16 * j, 16));
                float abs = MathF.Abs(scales[j]);
                if (abs > maxAbsScale) { maxAbsScale = abs; maxScale = scales[j]; }
            }
            if (maxAbsScale < GroupMaxEps)
            {
                b = default;
                continue;
            }

            float iscale = -128f / maxScale;
            b.D = FloatFormats.ToHalf(1 / iscale);
            for (int j = 0; j < 16; j++) b.Scales[j] = (sbyte)Math.Min(127, NearestInt(iscale * scales[j]));

            float dAll = (float)b.D;
            for (int j = 0; j < 16; j++)
            {
                float d = dAll * b.Scales[j];
                if (d == 0) continue;
                for (int l = 0; l < 16; l++)
                    codes[16 * j + l] = (sbyte)(Math.Clamp(NearestInt(x[16 * j + l] / d), -32, 31) + 32);
            }

            for (int half = 0; half < 2; half++)
            {
                var c = codes.Slice(128 * half, 128);
                for (int l = 0; l < 32; l++)
                {
                    b.Ql[64 * half + l] = (byte)((c[l] & 0xF) | ((c[l + 64] & 0xF) << 4));
                    b.Ql[64 * half + l + 32] = (byte)((c[l + 32] & 0xF) | ((c[l + 96] & 0xF) << 4));
                    b.Qh[32 * half + l] = (byte)((c[l] >> 4) | ((c[l + 32] >> 4) << 2) | ((c[l + 64] >> 4) << 4) | ((c[l + 96] >> 4) << 6));
                }
            }
        }
    }

    /// <summary>fp32 to Q8_K (quantize_row_q8_K_ref), with the 16-code sums the K-quant dot products use.</summary>
    public static void Q8_K(ReadOnlySpan<float> src, Span<BlockQ8_K> dst)
    {
        RowChecks.CheckCount(dst.Length, QK, src.Length, "Q8_K");
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * QK, QK);
            ref var b = ref dst[i];
            float max = 0, amax = 0;
            foreach (float v in x)
            {
                float ax = MathF.Abs(v);
                if (ax > amax) { amax = ax; max = v; }
            }
            if (amax == 0)
            {
                // ggml leaves bsums as they were here; we zero them so the output never
                // depends on what the buffer held.
                b = default;
                continue;
            }
            // -127, not -128: the value of largest magnitude maps to -127 whatever its sign.
            float iscale = -127f / max;
            for (int j = 0; j < QK; j++) b.Qs[j] = (sbyte)Math.Min(127, NearestInt(iscale * x[j]));
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int l = 0; l < 16; l++) sum += b.Qs[16 * j + l];
                b.BSums[j] = (short)sum;
            }
            b.D = 1 / iscale;
        }
    }

    /// <summary>
    /// The shared body of Q4_K and Q5_K: fit 8 sub-blocks of 32 with weights |x| + rms(x),
    /// store 6-bit scales and minimums against the largest of each, requantize with the stored
    /// values. Leaves codes 0..nmax in <paramref name="codes"/> for the caller to pack.
    /// </summary>
    static void QuantizeAffineSuperBlock(ReadOnlySpan<float> x, int nmax, float rmin, float rdelta, int nstep,
        Span<byte> codes, Span<byte> packedScales, out Half superScale, out Half superMin)
    {
        Span<float> weights = stackalloc float[32];
        Span<byte> scratch = stackalloc byte[32];
        Span<float> scales = stackalloc float[8];
        Span<float> mins = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            var xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += xs[l] * xs[l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(xs[l]);
            scales[j] = FitAffine(xs, weights, nmax, codes.Slice(32 * j, 32), scratch, out mins[j], rmin, rdelta, nstep, useMad: false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        packedScales.Clear();
        for (int j = 0; j < 8; j++)
        {
            // ggml narrows to uint8 before clamping to 63.
            byte ls = Math.Min((byte)63, (byte)NearestInt(invScale * scales[j]));
            byte lm = Math.Min((byte)63, (byte)NearestInt(invMin * mins[j]));
            KQuantScales.Set(packedScales, j, ls, lm);
        }
        superScale = FloatFormats.ToHalf(maxScale / 63f);
        superMin = FloatFormats.ToHalf(maxMin / 63f);

        float dAll = (float)superScale, dminAll = (float)superMin;
        for (int j = 0; j < 8; j++)
        {
            KQuantScales.Get(packedScales, j, out byte sc, out byte m);
            float d = dAll * sc;
            if (d == 0) continue;
            float dm = dminAll * m;
            for (int l = 0; l < 32; l++)
                codes[32 * j + l] = (byte)Math.Clamp(NearestInt((x[32 * j + l] + dm) / d), 0, nmax);
        }
    }

    /// <summary>2-bit codes (256) into 64 bytes: per half of 128, byte l holds codes l, l+32, l+64, l+96.</summary>
    static void Pack2Bit(ReadOnlySpan<byte> codes, Span<byte> qs)
    {
        for (int half = 0; half < 2; half++)
        {
            var c = codes.Slice(128 * half, 128);
            for (int l = 0; l < 32; l++)
                qs[32 * half + l] = (byte)(c[l] | (c[l + 32] << 2) | (c[l + 64] << 4) | (c[l + 96] << 6));
        }
    }
}
