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
    static readonly double[] X = BuildEdges();
    static readonly double[] Density = X.Select(x => Math.Exp(-0.5 * x * x)).ToArray();
    // The fast path in integers, as Marsaglia and Tsang do: j is a signed 53-bit uniform, and
    // |j| < Inside[i] (= 2^52 * x[i+1] / x[i]) lands inside layer i's rectangle, where the
    // sample is j * Scale[i] (= x[i] / 2^52). One compare and one multiply for ~99% of samples.
    static readonly long[] Inside = Enumerable.Range(0, Layers).Select(i => (long)(X[i + 1] / X[i] * TwoPow52)).ToArray();
    static readonly double[] Scale = Enumerable.Range(0, Layers).Select(i => X[i] / TwoPow52).ToArray();
    const double TwoPow52 = 4503599627370496.0;
    const ulong Increment = 0xA0761D6478BD642FUL, Multiplier = 0xE7037ED1A0B428DBUL;

    ulong _state;

    /// <summary>A sampler whose sequence is fixed by <paramref name="seed"/>.</summary>
    public GaussianSampler(ulong seed) => _state = Mix(seed);

    /// <summary>A seed for stream <paramref name="b"/> under <paramref name="a"/> (e.g. model seed and tensor, then row) that differs in every bit on small changes.</summary>
    public static ulong DeriveSeed(ulong a, ulong b) => Mix(a ^ Mix(b + 0x9E3779B97F4A7C15UL));

    /// <summary>The next standard normal sample.</summary>
    public double NextStandard()
    {
        ulong r = NextUInt64();
        int layer = (int)(r & (Layers - 1));
        long j = (long)r >> 11;
        return j < Inside[layer] && j > -Inside[layer] ? j * Scale[layer] : Outside(layer, j);
    }

    /// <summary>Fills <paramref name="destination"/> with mean + std * N(0, 1) samples.</summary>
    public void Fill(Span<float> destination, float mean, float std)
    {
        // The generator state lives in a register through the loop; the rare slow path syncs it.
        long[] inside = Inside;
        double[] scale = Scale;
        ulong state = _state;
        for (int i = 0; i < destination.Length; i++)
        {
            state += Increment;
            ulong hi = Math.BigMul(state, state ^ Multiplier, out ulong lo);
            ulong r = hi ^ lo;
            int layer = (int)(r & (Layers - 1));
            long j = (long)r >> 11;
            double z;
            if (j < inside[layer] && j > -inside[layer]) z = j * scale[layer];
            else
            {
                _state = state;
                z = Outside(layer, j);
                state = _state;
            }
            destination[i] = (float)(mean + std * z);
        }
        _state = state;
    }

    // The ~1% of draws outside the rectangles: the base layer's tail, or a wedge under the curve.
    double Outside(int layer, long j)
    {
        while (true)
        {
            if (layer == 0) return Tail(j < 0);
            // The wedge between layer `layer`'s rectangle and the curve: accept under the density.
            double x = j * Scale[layer];
            double f0 = Density[layer], f1 = Density[layer + 1];
            if (f0 + NextUniform() * (f1 - f0) < Math.Exp(-0.5 * x * x)) return x;
            ulong r = NextUInt64();
            layer = (int)(r & (Layers - 1));
            j = (long)r >> 11;
            if (j < Inside[layer] && j > -Inside[layer]) return j * Scale[layer];
        }
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
        _state += Increment;
        ulong hi = Math.BigMul(_state, _state ^ Multiplier, out ulong lo);
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
}
