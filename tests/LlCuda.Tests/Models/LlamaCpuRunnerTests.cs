using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Models.Llama;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Models;

public class LlamaCpuRunnerTests
{
    const string Prompt = "Once upon a time, there was a little dog named Max. He liked to run and";

    static (LlamaCpuRunner Runner, Tokenizer Tokenizer, GgufFile File) Open(string path, RunnerOptions options)
    {
        var file = GgufFile.Open(path);
        return (new LlamaCpuRunner(file, options, ownsFile: true), Tokenizer.FromGguf(file), file);
    }

    [Theory]
    [InlineData(KvCacheType.F16)]
    [InlineData(KvCacheType.F32)]
    public void Logits_Stories260K_MatchLlamaCppAtEveryPosition(KvCacheType cache)
    {
        var (runner, tokenizer, _) = Open(TestPaths.Stories260K, new RunnerOptions { ContextLength = 128, Threads = 2, KvCacheType = cache });
        using (runner)
        {
            int[] tokens = PromptLogits.Tokenize(tokenizer, Prompt);
            float[] ours = PromptLogits.Evaluate(runner, tokens);
            float[] reference = LlamaCppReference.Logits(TestPaths.Stories260K, tokens);
            int vocab = runner.VocabSize;
            for (int i = 0; i < tokens.Length; i++)
            {
                double err = PromptLogits.NormalizedRmsError(ours.AsSpan(i * vocab, vocab), reference.AsSpan(i * vocab, vocab));
                Assert.True(err <= 5e-3, $"position {i}: normalized RMS error {err:E2} > 5e-3");
                Assert.Equal(Sampler.ArgMax(reference.AsSpan(i * vocab, vocab)), Sampler.ArgMax(ours.AsSpan(i * vocab, vocab)));
            }
        }
    }

    [Fact]
    public void Forward_OneBatchOfAPrompt_EqualsTokenByToken()
    {
        var (runner, tokenizer, _) = Open(TestPaths.Stories260K, new RunnerOptions { ContextLength = 64, Threads = 2, KvCacheType = KvCacheType.F32 });
        using (runner)
        {
            int[] tokens = PromptLogits.Tokenize(tokenizer, Prompt);
            float[] batched = PromptLogits.Evaluate(runner, tokens);
            float[] single = PromptLogits.Evaluate(runner, tokens, chunk: 1);
            Assert.True(PromptLogits.NormalizedRmsError(single, batched) < 1e-5);
        }
    }

    [Fact]
    public void Forward_TwoSequencesInOneBatch_EqualEachRunAlone()
    {
        var (runner, tokenizer, _) = Open(TestPaths.Stories260K, new RunnerOptions { ContextLength = 64, MaxSequences = 2, Threads = 2, KvCacheType = KvCacheType.F32 });
        using (runner)
        {
            int[] a = PromptLogits.Tokenize(tokenizer, "Once upon a time");
            int[] b = PromptLogits.Tokenize(tokenizer, "The cat sat on the big red mat and");
            float[] aloneA = PromptLogits.Evaluate(runner, a);
            float[] aloneB = PromptLogits.Evaluate(runner, b);
            int v = runner.VocabSize;

            runner.TruncateSequence(0, 0);
            runner.TruncateSequence(1, 0);
            var batch = new ForwardBatch();
            for (int i = 0; i < Math.Max(a.Length, b.Length); i++)
            {
                if (i < a.Length) batch.Add(a[i], i, 0, wantLogits: i == a.Length - 1);
                if (i < b.Length) batch.Add(b[i], i, 1, wantLogits: i == b.Length - 1);
            }
            var logits = new float[2 * v];
            runner.Forward(batch, logits);
            // Output rows come in batch order: A's last token precedes B's (A is shorter).
            Assert.True(PromptLogits.NormalizedRmsError(logits.AsSpan(0, v), aloneA.AsSpan((a.Length - 1) * v, v)) < 1e-5);
            Assert.True(PromptLogits.NormalizedRmsError(logits.AsSpan(v, v), aloneB.AsSpan((b.Length - 1) * v, v)) < 1e-5);
        }
    }

    [Fact]
    public void Forward_PositionPastTheContext_IsRejectedNamingTheLimit()
    {
        var (runner, _, _) = Open(TestPaths.Stories260K, new RunnerOptions { ContextLength = 8, Threads = 1 });
        using (runner)
        {
            var batch = new ForwardBatch();
            batch.Add(1, 8, 0, true);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => runner.Forward(batch, new float[runner.VocabSize]));
            Assert.Contains("past the context length 8", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Forward_BlockTablesInShuffledOrderWithASharedPrefix_EqualTheFixedLayout()
    {
        // Paged KV: sequence 1 reuses sequence 0's first two full blocks (8 positions) and
        // continues in blocks of its own; blocks are handed out in a scrambled order.
        var options = new RunnerOptions { ContextLength = 64, MaxSequences = 2, Threads = 2, KvCacheType = KvCacheType.F32, KvBlockSize = 4, KvBlocks = 40 };
        var (runner, tokenizer, _) = Open(TestPaths.Stories260K, options);
        using (runner)
        {
            Assert.Equal(4, runner.KvBlockSize);
            Assert.Equal(40, runner.KvBlockCount);
            int[] a = PromptLogits.Tokenize(tokenizer, Prompt);
            int[] b = [.. a[..8], .. PromptLogits.Tokenize(tokenizer, "The cat sat on the mat")[1..]];
            float[] aloneA = PromptLogits.Evaluate(runner, a);
            float[] aloneB = PromptLogits.Evaluate(runner, b);
            int v = runner.VocabSize;

            int[] order = Enumerable.Range(0, 40).OrderBy(i => (i * 17) % 40).ToArray();
            int[] tableA = order[..((a.Length + 3) / 4)];
            int[] tableB = [.. tableA[..2], .. order[20..(20 + (b.Length + 3) / 4 - 2)]];
            var batch = new ForwardBatch();
            batch.SetBlocks(0, tableA);
            for (int i = 0; i < a.Length; i++) batch.Add(a[i], i, 0, wantLogits: i == a.Length - 1);
            var first = new float[v];
            runner.Forward(batch, first);
            Assert.True(PromptLogits.NormalizedRmsError(first, aloneA.AsSpan((a.Length - 1) * v, v)) < 1e-5);

            // Sequence 1 computes only its positions past the shared 8.
            batch.Clear();
            batch.SetBlocks(1, tableB);
            for (int i = 8; i < b.Length; i++) batch.Add(b[i], i, 1, wantLogits: i == b.Length - 1);
            var second = new float[v];
            runner.Forward(batch, second);
            Assert.True(PromptLogits.NormalizedRmsError(second, aloneB.AsSpan((b.Length - 1) * v, v)) < 1e-5);
        }
    }

    [Fact]
    public void Forward_BlockTableTooShortOrPastThePool_IsRejectedBeforeAnyWork()
    {
        var (runner, _, _) = Open(TestPaths.Stories260K, new RunnerOptions { ContextLength = 64, Threads = 1, KvBlockSize = 4, KvBlocks = 8 });
        using (runner)
        {
            var batch = new ForwardBatch();
            batch.SetBlocks(0, [3]);
            batch.Add(1, 4, 0, true);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => runner.Forward(batch, new float[runner.VocabSize]));
            Assert.Contains("position 4 needs 2", e.Message, StringComparison.Ordinal);
            batch.Clear();
            batch.SetBlocks(0, [8]);
            batch.Add(1, 0, 0, true);
            e = Assert.Throws<ArgumentOutOfRangeException>(() => runner.Forward(batch, new float[runner.VocabSize]));
            Assert.Contains("names block 8; the KV cache has 8 blocks", e.Message, StringComparison.Ordinal);
            // A pool smaller than a whole context has no fixed layout: a table is required.
            batch.Clear();
            batch.Add(1, 0, 0, true);
            var missing = Assert.Throws<ArgumentException>(() => runner.Forward(batch, new float[runner.VocabSize]));
            Assert.Contains("no block table", missing.Message, StringComparison.Ordinal);
        }
    }
}
