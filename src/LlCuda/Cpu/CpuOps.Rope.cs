namespace LlCuda.Cpu;

/// <summary>Which elements of a head rotary position embedding rotates together.</summary>
public enum RopeOrdering
{
    /// <summary>Pairs (2i, 2i + 1): llama.cpp's "normal" RoPE, what Llama-architecture GGUFs expect (their Q/K rows are permuted for it).</summary>
    Normal,
    /// <summary>Pairs (i, i + n_rot / 2): GPT-NeoX's, used by Qwen 2/3, Phi-2, Gemma and others.</summary>
    NeoX,
}

public static partial class CpuOps
{
    /// <summary>
    /// Rotary position embedding in place: for each of <paramref name="heads"/> heads of
    /// <paramref name="headDim"/> values in <paramref name="x"/>, the first 2 * freqs.Length
    /// values are rotated in pairs by angle pos * freqs[i] (pair i as <paramref name="ordering"/>
    /// says); the rest of the head (partial rotary) is left as it is.
    /// </summary>
    /// <param name="x">[heads, headDim] fp32.</param>
    /// <param name="freqs">[n_rot / 2] angle per position of each pair (base^(-2i / n_rot), scaled).</param>
    /// <exception cref="ArgumentException">x shorter than heads * headDim, or more rotated values than headDim.</exception>
    public static void Rope(Span<float> x, int heads, int headDim, int pos, ReadOnlySpan<float> freqs, RopeOrdering ordering)
    {
        int half = freqs.Length;
        if (2 * half > headDim)
            throw new ArgumentException($"CpuOps.Rope: {2 * half} rotated values do not fit a head of {headDim}", nameof(freqs));
        if ((long)heads * headDim > x.Length) ThrowLength(heads * headDim, x.Length, nameof(x));
        // Pair i: elements (a, b) = (2i, 2i + 1) normally, (i, i + half) for NeoX.
        int stride = ordering == RopeOrdering.Normal ? 2 : 1, partner = ordering == RopeOrdering.Normal ? 1 : half;
        for (int i = 0; i < half; i++)
        {
            float theta = pos * freqs[i];
            float cos = MathF.Cos(theta), sin = MathF.Sin(theta);
            for (int h = 0; h < heads; h++)
            {
                ref float a = ref x[h * headDim + stride * i];
                ref float b = ref x[h * headDim + stride * i + partner];
                float x0 = a, x1 = b;
                a = x0 * cos - x1 * sin;
                b = x0 * sin + x1 * cos;
            }
        }
    }
}
