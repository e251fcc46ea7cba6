namespace LlCuda.Tensors;

// The scale searches the K-quant reference quantizers share (ggml-quants.c: nearest_int,
// make_qx_quants, make_q3_quants, make_qkx2_quants), only the no-importance-matrix paths.
// Every sum keeps ggml's order and grouping: w*x*l is (w*x)*l, w*l*l is (w*l)*l. Changing any
// of them changes which candidate scale wins on ties and breaks byte equality with llama.cpp.
public static partial class Quantize
{
    // ggml's threshold below which a group counts as all zeros.
    const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// Round to nearest, ties to even, by adding 1.5 * 2^23 so the integer lands in the low
    /// mantissa bits (ggml's nearest_int; valid for |f| &lt;= 2^22 - 1, garbage-in garbage-out
    /// beyond, identically to ggml).
    /// </summary>
    internal static int NearestInt(float f)
    {
        float biased = f + 12582912f;
        int bits = BitConverter.SingleToInt32Bits(biased);
        return (bits & 0x007F_FFFF) - 0x0040_0000;
    }

    /// <summary>
    /// Symmetric codes in -nmax..nmax-1 (stored biased by nmax in <paramref name="codes"/>) for
    /// x, weighting each error by x^2, trying 18 scales around -nmax / max
    /// (make_qx_quants with rmse_type 1 and no importance weights). Returns the scale.
    /// </summary>
    static float FitSymmetricWeighted(ReadOnlySpan<float> x, int nmax, Span<sbyte> codes)
    {
        float max = 0, amax = 0;
        foreach (float v in x)
        {
            float ax = MathF.Abs(v);
            if (ax > amax) { amax = ax; max = v; }
        }
        if (amax < GroupMaxEps)
        {
            codes.Clear();
            return 0f;
        }

        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            codes[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < x.Length; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            // Compares sumlx^2 / suml2 (the error reduction) without dividing.
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < x.Length; i++)
                    codes[i] = (sbyte)(nmax + Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// Symmetric 3-bit codes for Q3_K (make_q3_quants with do_rmse): start from -nmax / max,
    /// then up to 5 passes that move single codes while the x^2-weighted fit improves.
    /// Codes are stored biased by nmax. Returns the scale.
    /// </summary>
    static float FitQ3(ReadOnlySpan<float> x, int nmax, Span<sbyte> codes)
    {
        float max = 0, amax = 0;
        foreach (float v in x)
        {
            float ax = MathF.Abs(v);
            if (ax > amax) { amax = ax; max = v; }
        }
        if (amax < GroupMaxEps)
        {
            codes.Clear();
            return 0f;
        }

        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < x.Length; i++)
        {
            int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
            codes[i] = (sbyte)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++)
        {
            int changed = 0;
            for (int i = 0; i < x.Length; i++)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * codes[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * codes[i] * codes[i];
                    int newL = Math.Clamp(NearestInt(x[i] * sl2 / slx), -nmax, nmax - 1);
                    if (newL != codes[i])
                    {
                        slx += w * x[i] * newL;
                        sl2 += w * newL * newL;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            codes[i] = (sbyte)newL;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < x.Length; i++) codes[i] += (sbyte)nmax;
        return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
    }

    /// <summary>
    /// Affine codes 0..nmax for x ~ scale * code - min (make_qkx2_quants): start from the
    /// [min(x, 0), max(x)] range, then try nstep + 1 scales (nmax + rmin + rdelta * k) / range,
    /// each followed by the weighted least-squares scale and minimum for its codes, keeping the
    /// lowest weighted error (absolute when <paramref name="useMad"/>, squared otherwise).
    /// Returns the scale; <paramref name="negMin"/> gets -min (a non-negative offset).
    /// </summary>
    static float FitAffine(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, int nmax,
        Span<byte> codes, Span<byte> scratch, out float negMin, float rmin, float rdelta, int nstep, bool useMad)
    {
        int n = x.Length;
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            codes.Clear();
            negMin = -min;
            return 0f;
        }

        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            codes[i] = (byte)Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            float diff = scale * codes[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1)
        {
            negMin = -min;
            return scale;
        }

        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                scratch[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * scratch[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    error += weights[i] * diff;
                }
                if (error < bestError)
                {
                    scratch[..n].CopyTo(codes);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        negMin = -min;
        return scale;
    }
}
