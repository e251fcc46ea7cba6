using System.Diagnostics;

namespace LlCuda.Engine;

/// <summary>One llama-bench-style measurement: a test name and tokens per second of each repetition.</summary>
public sealed record ThroughputResult(string Test, int Tokens, double[] TokensPerSecond)
{
    public double Mean => TokensPerSecond.Average();

    public double StdDev
    {
        get
        {
            if (TokensPerSecond.Length < 2) return 0;
            double m = Mean;
            return Math.Sqrt(TokensPerSecond.Sum(x => (x - m) * (x - m)) / (TokensPerSecond.Length - 1));
        }
    }

    public double Median
    {
        get
        {
            var s = TokensPerSecond.Order().ToArray();
            return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
        }
    }
}

/// <summary>
/// llama-bench's two tests on any model runner: pp N (prompt processing: N tokens evaluated as
/// batches of up to 512 from an empty cache) and tg N (N tokens decoded one at a time from an
/// empty cache). Token ids are random (fixed seed): speed does not depend on them. Each test
/// runs once unmeasured (warm-up: page cache, JIT, thread start) and then
/// <paramref name="repetitions"/> measured times. Model load is not timed.
/// </summary>
public static class ThroughputBenchmark
{
    public static ThroughputResult PromptProcessing(IModelRunner runner, int tokens, int repetitions, int seed = 1234)
    {
        ArgumentNullException.ThrowIfNull(runner);
        CheckFits(runner, tokens);
        var rng = new Random(seed);
        int[] ids = Enumerable.Range(0, tokens).Select(_ => rng.Next(runner.VocabSize)).ToArray();
        var logits = new float[runner.VocabSize];
        var batch = new ForwardBatch();
        var results = new double[repetitions];
        for (int rep = -1; rep < repetitions; rep++)
        {
            runner.TruncateSequence(0, 0);
            var clock = Stopwatch.StartNew();
            for (int start = 0; start < tokens; start += TextGenerator.PrefillChunk)
            {
                batch.Clear();
                int end = Math.Min(tokens, start + TextGenerator.PrefillChunk);
                for (int i = start; i < end; i++) batch.Add(ids[i], i, 0, wantLogits: i == end - 1);
                runner.Forward(batch, logits);
            }
            if (rep >= 0) results[rep] = tokens / clock.Elapsed.TotalSeconds;
        }
        return new ThroughputResult($"pp{tokens}", tokens, results);
    }

    public static ThroughputResult TextGeneration(IModelRunner runner, int tokens, int repetitions, int seed = 1234)
    {
        ArgumentNullException.ThrowIfNull(runner);
        CheckFits(runner, tokens);
        var rng = new Random(seed);
        var logits = new float[runner.VocabSize];
        var sampled = new int[1];
        var batch = new ForwardBatch();
        var results = new double[repetitions];
        // A runner that samples greedily where its logits are (the GPU) is measured that way, as
        // a greedy decode runs on it; the others hand their logits to the host.
        var greedy = runner as IGreedyRunner;
        for (int rep = -1; rep < repetitions; rep++)
        {
            runner.TruncateSequence(0, 0);
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < tokens; i++)
            {
                batch.Clear();
                batch.Add(rng.Next(runner.VocabSize), i, 0, wantLogits: true);
                if (greedy is not null) greedy.ForwardGreedy(batch, sampled);
                else runner.Forward(batch, logits);
            }
            if (rep >= 0) results[rep] = tokens / clock.Elapsed.TotalSeconds;
        }
        return new ThroughputResult($"tg{tokens}", tokens, results);
    }

    static void CheckFits(IModelRunner runner, int tokens)
    {
        if (tokens > runner.ContextLength)
            throw new ArgumentException($"a test of {tokens} tokens does not fit the context of {runner.ContextLength} (use a larger --ctx)");
    }
}
