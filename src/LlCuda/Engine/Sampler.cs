namespace LlCuda.Engine;

/// <summary>
/// Picks the next token from a row of logits, in llama.cpp's sampler-chain order:
/// penalties -> top-k -> top-p -> min-p -> temperature -> random draw (greedy skips the filters).
/// One token costs O(vocab) for the usual settings: top-k selects its K candidates with a
/// partial quickselect instead of sorting the vocabulary, and the later filters work on K items.
/// Not thread-safe: one sampler per sequence.
/// </summary>
public sealed class Sampler
{
    readonly SamplingOptions _options;
    readonly Random _rng;
    readonly Queue<int> _recent = new();
    readonly Dictionary<int, int> _counts = [];
    int[] _ids = [];          // candidate ids [vocab]
    float[] _values = [];     // candidate logits, then probabilities, aligned with _ids

    public Sampler(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _rng = new Random(unchecked((int)(options.Seed ^ (options.Seed >> 32))));
    }

    /// <summary>Records a token as seen (prompt tokens and sampled ones) for the penalties.</summary>
    public void Accept(int token)
    {
        if (_options.PenaltyWindow == 0) return;
        _recent.Enqueue(token);
        _counts[token] = _counts.GetValueOrDefault(token) + 1;
        if (_recent.Count > _options.PenaltyWindow)
        {
            int old = _recent.Dequeue();
            if (--_counts[old] == 0) _counts.Remove(old);
        }
    }

    /// <summary>Chooses a token from <paramref name="logits"/> [vocab] (left unchanged).</summary>
    public int Sample(ReadOnlySpan<float> logits)
    {
        int n = logits.Length;
        if (_ids.Length < n) { _ids = new int[n]; _values = new float[n]; }
        var ids = _ids.AsSpan(0, n);
        var values = _values.AsSpan(0, n);
        logits.CopyTo(values);
        for (int i = 0; i < n; i++) ids[i] = i;
        ApplyPenalties(values);

        if (_options.IsGreedy) return ids[ArgMax(values)];

        int count = n;
        if (_options.TopK > 0 && _options.TopK < count)
        {
            SelectTop(ids, values, _options.TopK);
            count = _options.TopK;
        }
        ids = ids[..count];
        values = values[..count];
        SortDescending(ids, values);
        Softmax(values);

        if (_options.TopP < 1)
        {
            float cumulative = 0;
            int keep = count;
            for (int i = 0; i < count; i++)
            {
                cumulative += values[i];
                if (cumulative >= _options.TopP) { keep = i + 1; break; }
            }
            count = keep;
        }
        if (_options.MinP > 0)
        {
            float threshold = values[0] * _options.MinP;
            int keep = 1;
            while (keep < count && values[keep] >= threshold) keep++;
            count = keep;
        }

        // Temperature on the survivors: p_i^(1/T) renormalized equals softmax(logit_i / T).
        var probs = values[..count];
        float invT = 1.0f / _options.Temperature;
        float sum = 0;
        for (int i = 0; i < count; i++) { probs[i] = MathF.Pow(probs[i], invT); sum += probs[i]; }
        double r = _rng.NextDouble() * sum;
        for (int i = 0; i < count; i++)
        {
            r -= probs[i];
            if (r < 0) return ids[i];
        }
        return ids[count - 1];
    }

    void ApplyPenalties(Span<float> logits)
    {
        if (_counts.Count == 0) return;
        foreach (var (token, count) in _counts)
        {
            if ((uint)token >= (uint)logits.Length) continue;
            ref float l = ref logits[token];
            if (_options.RepeatPenalty != 1) l = l > 0 ? l / _options.RepeatPenalty : l * _options.RepeatPenalty;
            l -= count * _options.FrequencyPenalty + _options.PresencePenalty;
        }
    }

    /// <summary>Index of the largest value; the lowest index wins ties (as llama.cpp's greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    // Quickselect (Hoare partition) so that the k largest values occupy [0, k), in O(n) on average.
    static void SelectTop(Span<int> ids, Span<float> values, int k)
    {
        int lo = 0, hi = values.Length - 1;
        while (lo < hi)
        {
            float pivot = values[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] > pivot) i++;
                while (values[j] < pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    (ids[i], ids[j]) = (ids[j], ids[i]);
                    i++; j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else return;
        }
    }

    // Descending by value. Small candidate lists (top-k) use an insertion sort with ties by
    // ascending id; a whole vocabulary (top-k off) uses the O(n log n) introsort.
    static void SortDescending(Span<int> ids, Span<float> values)
    {
        if (ids.Length > 64)
        {
            values.Sort(ids, static (a, b) => b.CompareTo(a));
            return;
        }
        for (int i = 1; i < ids.Length; i++)
        {
            float v = values[i];
            int id = ids[i];
            int j = i - 1;
            while (j >= 0 && (values[j] < v || (values[j] == v && ids[j] > id)))
            {
                values[j + 1] = values[j];
                ids[j + 1] = ids[j];
                j--;
            }
            values[j + 1] = v;
            ids[j + 1] = id;
        }
    }

    static void Softmax(Span<float> values)
    {
        float max = values[0];
        for (int i = 1; i < values.Length; i++) max = MathF.Max(max, values[i]);
        float sum = 0;
        for (int i = 0; i < values.Length; i++) { values[i] = MathF.Exp(values[i] - max); sum += values[i]; }
        for (int i = 0; i < values.Length; i++) values[i] /= sum;
    }
}
