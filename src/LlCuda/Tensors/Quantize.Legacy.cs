using LlCuda.Tensors.Quants;

namespace LlCuda.Tensors;

// The 32-weight block formats, as quantize_row_q{4,5,8}_{0,1}_ref. Symmetric types take the
// scale from the value of largest magnitude (keeping its sign, so that value maps exactly to
// the most negative code); affine types spread [min, max] over all codes.
public static partial class Quantize
{
    /// <summary>fp32 to Q4_0 (quantize_row_q4_0_ref).</summary>
    public static void Q4_0(ReadOnlySpan<float> src, Span<BlockQ4_0> dst)
    {
        RowChecks.CheckCount(dst.Length, BlockQ4_0.Elements, src.Length, "Q4_0");
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * BlockQ4_0.Elements, BlockQ4_0.Elements);
            ref var b = ref dst[i];
            float max = SignedAbsMax(x);
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.D = FloatFormats.ToHalf(d);
            for (int j = 0; j < 16; j++)
            {
                // Truncating x*id + 8.5 rounds half up; the one value at +8 lands on 16, clamped to 15.
                int q0 = Math.Min(15, (int)(x[j] * id + 8.5f));
                int q1 = Math.Min(15, (int)(x[j + 16] * id + 8.5f));
                b.Qs[j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    /// <summary>fp32 to Q4_1 (quantize_row_q4_1_ref).</summary>
    public static void Q4_1(ReadOnlySpan<float> src, Span<BlockQ4_1> dst)
    {
        RowChecks.CheckCount(dst.Length, BlockQ4_1.Elements, src.Length, "Q4_1");
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * BlockQ4_1.Elements, BlockQ4_1.Elements);
            ref var b = ref dst[i];
            var (min, max) = MinMax(x);
            float d = (max - min) / 15;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.D = FloatFormats.ToHalf(d);
            b.M = FloatFormats.ToHalf(min);
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
                int q1 = Math.Min(15, (int)((x[j + 16] - min) * id + 0.5f));
                b.Qs[j] = (byte)(q0 | (q1 << 4));
            }
        }
    }

    /// <summary>fp32 to Q5_0 (quantize_row_q5_0_ref).</summary>
    public static void Q5_0(ReadOnlySpan<float> src, Span<BlockQ5_0> dst)
    {
        RowChecks.CheckCount(dst.Length, BlockQ5_0.Elements, src.Length, "Q5_0");
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * BlockQ5_0.Elements, BlockQ5_0.Elements);
            ref var b = ref dst[i];
            float max = SignedAbsMax(x);
            float d = max / -16;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.D = FloatFormats.ToHalf(d);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                int q0 = Math.Min(31, (int)(x[j] * id + 16.5f));
                int q1 = Math.Min(31, (int)(x[j + 16] * id + 16.5f));
                b.Qs[j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= (uint)((q0 >> 4) & 1) << j;
                qh |= (uint)((q1 >> 4) & 1) << (j + 16);
            }
            SetHighBits(ref b.Qh, qh);
        }
    }

    /// <summary>fp32 to Q5_1 (quantize_row_q5_1_ref).</summary>
    public static void Q5_1(ReadOnlySpan<float> src, Span<BlockQ5_1> dst)
    {
        RowChecks.CheckCount(dst.Length, BlockQ5_1.Elements, src.Length, "Q5_1");
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * BlockQ5_1.Elements, BlockQ5_1.Elements);
            ref var b = ref dst[i];
            var (min, max) = MinMax(x);
            float d = (max - min) / 31;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.D = FloatFormats.ToHalf(d);
            b.M = FloatFormats.ToHalf(min);
            uint qh = 0;
            for (int j = 0; j < 16; j++)
            {
                // No clamp here in ggml either: (max - min) * id rounds to at most 31.0000x.
                int q0 = (byte)(int)((x[j] - min) * id + 0.5f);
                int q1 = (byte)(int)((x[j + 16] - min) * id + 0.5f);
                b.Qs[j] = (byte)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
                qh |= (uint)((q0 >> 4) & 1) << j;
                qh |= (uint)((q1 >> 4) & 1) << (j + 16);
            }
            SetHighBits(ref b.Qh, qh);
        }
    }

    /// <summary>fp32 to Q8_0 (quantize_row_q8_0_ref).</summary>
    public static void Q8_0(ReadOnlySpan<float> src, Span<BlockQ8_0> dst)
    {
        RowChecks.CheckCount(dst.Length, BlockQ8_0.Elements, src.Length, "Q8_0");
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * BlockQ8_0.Elements, BlockQ8_0.Elements);
            ref var b = ref dst[i];
            float d = AbsMax(x) / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.D = FloatFormats.ToHalf(d);
            for (int j = 0; j < BlockQ8_0.Elements; j++) b.Qs[j] = (sbyte)RoundHalfAway(x[j] * id);
        }
    }

    /// <summary>fp32 to Q8_1 (quantize_row_q8_1_ref): Q8_0 plus s = sum(q) * d.</summary>
    public static void Q8_1(ReadOnlySpan<float> src, Span<BlockQ8_1> dst)
    {
        RowChecks.CheckCount(dst.Length, BlockQ8_1.Elements, src.Length, "Q8_1");
        for (int i = 0; i < dst.Length; i++)
        {
            var x = src.Slice(i * BlockQ8_1.Elements, BlockQ8_1.Elements);
            ref var b = ref dst[i];
            float d = AbsMax(x) / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            b.D = FloatFormats.ToHalf(d);
            int sum = 0;
            for (int j = 0; j < BlockQ8_1.Elements; j++)
            {
                b.Qs[j] = (sbyte)RoundHalfAway(x[j] * id);
                sum += b.Qs[j];
            }
            b.S = FloatFormats.ToHalf(sum * d);
        }
    }

    /// <summary>The value of largest magnitude, with its sign; the first one wins ties.</summary>
    static float SignedAbsMax(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        foreach (float v in x)
        {
            if (amax < MathF.Abs(v))
            {
                amax = MathF.Abs(v);
                max = v;
            }
        }
        return max;
    }

    /// <summary>Largest magnitude, as ggml's MAX(amax, fabsf(v)) loop.</summary>
    static float AbsMax(ReadOnlySpan<float> x)
    {
        float amax = 0;
        // ggml's MAX(a, b) is (a > b ? a : b); Math.Max would differ on NaN.
        foreach (float v in x) amax = amax > MathF.Abs(v) ? amax : MathF.Abs(v);
        return amax;
    }

    static (float Min, float Max) MinMax(ReadOnlySpan<float> x)
    {
        float min = float.MaxValue, max = -float.MaxValue;
        foreach (float v in x)
        {
            if (v < min) min = v;
            if (v > max) max = v;
        }
        return (min, max);
    }

    /// <summary>C's roundf: halves round away from zero (not to even).</summary>
    static float RoundHalfAway(float v) => MathF.Round(v, MidpointRounding.AwayFromZero);

    static void SetHighBits(ref Bytes4 qh, uint bits)
    {
        qh[0] = (byte)bits;
        qh[1] = (byte)(bits >> 8);
        qh[2] = (byte)(bits >> 16);
        qh[3] = (byte)(bits >> 24);
    }
}
