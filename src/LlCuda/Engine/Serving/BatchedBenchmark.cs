using System.Diagnostics;

namespace LlCuda.Engine;

/// <summary>
/// llama-batched-bench's S_TG through the serving engine: B requests of P random prompt tokens
/// each, submitted at once, each generating N tokens greedily (end-of-generation tokens
/// ignored); the result is the aggregate decode rate, counted from the moment the last request
/// got its first token (every prompt done) to the last token, so prefill is not in it. Each
/// repetition uses fresh random prompts (no prefix reuse); the first run is a warm-up.
/// </summary>
public static class BatchedBenchmark
{
    /// <returns>A row named "pp{P}+tg{N} x{B}" with the aggregate generated tokens per second of each repetition.</returns>
    public static ThroughputResult Run(InferenceEngine engine, int promptTokens, int genTokens, int parallel, int repetitions, int seed = 1234)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(genTokens, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        if (parallel > engine.MaxSequences)
            throw new ArgumentException($"{parallel} parallel sequences exceed the engine's {engine.MaxSequences}; raise its max sequences");
        var model = engine.Model ?? throw new InvalidOperationException("no model is loaded");
        int vocab = model.Runner.VocabSize;
        var rng = new Random(seed);
        var results = new double[repetitions];
        for (int rep = -1; rep < repetitions; rep++)
        {
            var streams = new Task<List<(long At, int Tokens)>>[parallel];
            for (int b = 0; b < parallel; b++)
            {
                int[] prompt = Enumerable.Range(0, promptTokens).Select(_ => rng.Next(vocab)).ToArray();
                var request = new InferRequest { PromptTokens = prompt, MaxTokens = genTokens, Temperature = 0, StopAtEndOfGeneration = false };
                long submitted = Stopwatch.GetTimestamp();
                streams[b] = Collect(engine.StreamAsync(request), submitted);
            }
            Task.WaitAll(streams);
            // Token times come from the engine's loop (chunk.ElapsedMs), not from when readers woke.
            var all = streams.Select(s => s.Result).ToArray();
            long start = all.Max(s => s[0].At), end = all.Max(s => s[^1].At);
            int tokens = all.Sum(s => s.Where(c => c.At > start).Sum(c => c.Tokens));
            if (rep >= 0) results[rep] = end > start ? tokens / Stopwatch.GetElapsedTime(start, end).TotalSeconds : 0;
        }
        return new ThroughputResult($"pp{promptTokens}+tg{genTokens} x{parallel}", parallel * genTokens, results);
    }

    static async Task<List<(long At, int Tokens)>> Collect(IAsyncEnumerable<InferChunk> stream, long submitted)
    {
        var times = new List<(long, int)>();
        await foreach (var chunk in stream.ConfigureAwait(false))
            if (chunk.TokenIds.Length > 0) times.Add((submitted + (long)(chunk.ElapsedMs / 1000 * Stopwatch.Frequency), chunk.TokenIds.Length));
        return times;
    }
}
