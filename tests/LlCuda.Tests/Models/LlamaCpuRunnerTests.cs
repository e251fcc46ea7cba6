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
}
