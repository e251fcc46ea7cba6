namespace LlCuda.Tests.Tensors;

/// <summary>
/// Deterministic fp32 rows that exercise the quantizers' corners: weight-like normals, uniform,
/// outliers, sparse rows, grids that produce exact rounding ties, and 32-element stretches that
/// are all zero, constant, one-sided, tiny or single-spike (the "all zero" and "max == min"
/// branches). Every row length is a multiple of 256 so K-quants apply.
/// </summary>
static class QuantTestData
{
    public static readonly string[] Kinds = ["normal", "uniform", "outliers", "sparse", "grid", "edge", "large"];

    /// <summary><paramref name="count"/> floats of distribution <paramref name="kind"/>, fixed by <paramref name="seed"/>.</summary>
    public static float[] Make(string kind, int seed, int count)
    {
        var rng = new Random(seed);
        var x = new float[count];
        switch (kind)
        {
            case "normal":
                for (int i = 0; i < count; i++) x[i] = 0.02f * Normal(rng);
                break;
            case "uniform":
                for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
                break;
            case "outliers":
                for (int i = 0; i < count; i++) x[i] = Normal(rng) * (rng.Next(100) == 0 ? 50f : 1f);
                break;
            case "sparse":
                for (int i = 0; i < count; i++) x[i] = rng.Next(10) < 7 ? 0f : Normal(rng);
                break;
            case "grid":
                // Multiples of 1/8 in [-2, 2]: scaled values fall on exact halves often.
                for (int i = 0; i < count; i++) x[i] = rng.Next(-16, 17) / 8f;
                break;
            case "edge":
                for (int b = 0; b < count / 32; b++) FillEdgeBlock(rng, x.AsSpan(32 * b, 32));
                break;
            case "large":
                for (int i = 0; i < count; i++) x[i] = 300f * Normal(rng);
                break;
            default:
                throw new ArgumentException($"unknown test data kind '{kind}' (known: {string.Join(", ", Kinds)})", nameof(kind));
        }
        return x;
    }

    static void FillEdgeBlock(Random rng, Span<float> block)
    {
        switch (rng.Next(9))
        {
            case 0: block.Clear(); break;
            case 1: block.Fill((float)(rng.NextDouble() * 4 - 2)); break;
            case 2: for (int i = 0; i < block.Length; i++) block[i] = MathF.Abs(Normal(rng)); break;
            case 3: for (int i = 0; i < block.Length; i++) block[i] = -MathF.Abs(Normal(rng)); break;
            case 4: for (int i = 0; i < block.Length; i++) block[i] = 1e-20f * Normal(rng); break;
            case 5: block.Clear(); block[rng.Next(block.Length)] = Normal(rng); break;
            case 6: for (int i = 0; i < block.Length; i++) block[i] = 1e-5f * Normal(rng); break;
            case 7: for (int i = 0; i < block.Length; i++) block[i] = rng.Next(2) == 0 ? 1f : -1f; break;
            default: for (int i = 0; i < block.Length; i++) block[i] = Normal(rng); break;
        }
    }

    /// <summary>Standard normal by Box-Muller (fixed order of draws, so reproducible).</summary>
    static float Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
}
