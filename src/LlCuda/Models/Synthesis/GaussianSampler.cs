namespace LlCuda.Models.Synthesis;

/// <summary>
/// Standard normal samples, fast and reproducible: a wyrand 64-bit generator feeding a
/// 128-layer ziggurat (Marsaglia and Tsang, with Doornik's independent-bits variant). About 99%
/// of samples cost one random number, one table load and one compare (Box-Muller needs a log, a
/// sqrt and a sincos per pair), which matters when a 7B model has 6.7 billion weights to draw.
/// A struct so each row's sampler lives in registers.
/// </summary>
/// <remarks>The sequence for a given seed is part of the synthetic model format: changing the
/// generator or the tables changes every synthetic model's weights.</remarks>
public struct GaussianSampler
{
    const int Layers = 128;
    // Right edge of the base layer and the common area of every layer, for 128 layers
    // (Marsaglia and Tsang 2000, table 1).
    const double TailStart = 3.442619855899;
    const double LayerArea = 9.91256303526217e-3;

    // x[i]: right edge of layer i (x[0] is the base layer's pseudo-width V / f(R), x[128] = 0).
    // ratio[i] = x[i + 1] / x[i]: a uniform below it lands inside the layer's rectangle.
    static readonly double[] X = BuildEdges();
    static readonly double[] Ratio = BuildRatios(X);
    static readonly double[] Density = X.Select(x => Math.Exp(-0.5 * x * x)).ToArray();

    ulong _state;

    /// <summary>A sampler whose sequence is fixed by <paramref name="seed"/>.</summary>
    public GaussianSampler(ulong seed) => _state = Mix(seed);

    /// <summary>A seed for stream <paramref name="b"/> under <paramref name="a"/> (e.g. model seed and tensor, then row) that differs in every bit on small changes.</summary>
    public static ulong DeriveSeed(ulong a, ulong b) => Mix(a ^ Mix(b + 0x9E3779B97F4A7C15UL));

    /// <summary>The next standard normal sample.</summary>
    public double NextStandard()
    {
        while (true)
        {
            ulong r = NextUInt64();
            int layer = (int)(r & (Layers - 1));
            // The top 53 bits, as a signed value in [-1, 1); independent of the layer bits.
            double u = ((long)r >> 11) * (1.0 / (1L << 52));
            if (Math.Abs(u) < Ratio[layer]) return u * X[layer];
            if (layer == 0) return Tail(u < 0);
            // The wedge between layer `layer`'s rectangle and the curve: accept under the density.
            double x = u * X[layer];
            double f0 = Density[layer], f1 = Density[layer + 1];
            if (f0 + NextUniform() * (f1 - f0) < Math.Exp(-0.5 * x * x)) return x;
        }
    }

    /// <summary>Fills <paramref name="destination"/> with mean + std * N(0, 1) samples.</summary>
    public void Fill(Span<float> destination, float mean, float std)
    {
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)(mean + std * NextStandard());
    }

    // Beyond R: Marsaglia's exponential rejection for the normal tail.
    double Tail(bool negative)
    {
        double x, y;
        do
        {
            x = -Math.Log(NextUniformOpen()) / TailStart;
            y = -Math.Log(NextUniformOpen());
        } while (y + y < x * x);
        return negative ? -(TailStart + x) : TailStart + x;
    }

    /// <summary>wyrand: one add and one 64x64->128 multiply per output; passes BigCrush and PractRand.</summary>
    ulong NextUInt64()
    {
        _state += 0xA0761D6478BD642FUL;
        ulong hi = Math.BigMul(_state, _state ^ 0xE7037ED1A0B428DBUL, out ulong lo);
        return hi ^ lo;
    }

    double NextUniform() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    double NextUniformOpen() => ((NextUInt64() >> 11) + 0.5) * (1.0 / (1UL << 53));

    // splitmix64's finalizer: turns nearby seeds into unrelated states.
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static double[] BuildEdges()
    {
        var x = new double[Layers + 1];
        static double F(double v) => Math.Exp(-0.5 * v * v);
        x[0] = LayerArea / F(TailStart);
        x[1] = TailStart;
        for (int i = 2; i < Layers; i++) x[i] = Math.Sqrt(-2 * Math.Log(LayerArea / x[i - 1] + F(x[i - 1])));
        x[Layers] = 0;
        return x;
    }

    static double[] BuildRatios(double[] x)
    {
        var r = new double[Layers];
        for (int i = 0; i < Layers; i++) r[i] = x[i + 1] / x[i];
        return r;
    }
}
