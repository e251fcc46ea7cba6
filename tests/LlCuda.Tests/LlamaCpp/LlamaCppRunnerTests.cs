using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.LlamaCpp;
using LlCuda.Models.Llama;
using LlCuda.Tests.Support;
using LlCuda.Tests.Tokenizers;
using LlCuda.Tokenizers;
using Xunit.Abstractions;

namespace LlCuda.Tests.LlamaCpp;

/// <summary>
/// The llama.cpp engine (LlamaCppRunner) on stories260K: the known greedy text, logits against
/// our CPU runner, several sequences in one batch, truncation. Every llama.cpp call runs under
/// LlamaCppReference.Gate (and the classes share the llama.cpp collection), since other test
/// classes drive llama.cpp too.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class LlamaCppRunnerTests(ITestOutputHelper output)
{
    const string KnownText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
    const string PromptText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends and her dog";
    // Normalized RMS error ||ours - ref|| / ||ref|| allowed per position between two engines (issue 3).
    const double EngineTolerance = 5e-3;

    static readonly RunnerOptions F32Cache = new() { ContextLength = 128, KvCacheType = KvCacheType.F32, Threads = 2 };

    static LlamaCppRunner Load(RunnerOptions options) =>
        LlamaCppRunner.Load(TestPaths.Stories260K, options, new LlamaCppOptions());

    static int[] Prompt(int length)
    {
        using var file = GgufFile.Open(TestPaths.Stories260K);
        int[] ids = Tokenizer.FromGguf(file).Encode(PromptText);
        Assert.True(ids.Length >= length, $"the prompt text gives {ids.Length} tokens, the test needs {length}");
        return ids[..length];
    }

    // Logits [tokens.Length, vocab] of every position of one sequence, in one batch.
    static float[] AllLogits(IModelRunner runner, int[] tokens, int sequence = 0, int startPosition = 0)
    {
        var batch = new ForwardBatch();
        for (int i = 0; i < tokens.Length; i++) batch.Add(tokens[i], startPosition + i, sequence, wantLogits: true);
        var logits = new float[tokens.Length * runner.VocabSize];
        runner.Forward(batch, logits);
        return logits;
    }

    static double NormalizedRms(ReadOnlySpan<float> ours, ReadOnlySpan<float> reference)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double d = ours[i] - reference[i];
            err += d * d;
            norm += (double)reference[i] * reference[i];
        }
        return Math.Sqrt(err / norm);
    }

    void AssertRowsClose(float[] ours, float[] reference, int vocab, double tolerance, string what)
    {
        Assert.Equal(reference.Length, ours.Length);
        double worst = 0;
        for (int row = 0; row < reference.Length / vocab; row++)
        {
            double e = NormalizedRms(ours.AsSpan(row * vocab, vocab), reference.AsSpan(row * vocab, vocab));
            Assert.True(e <= tolerance, $"{what}: position {row} has normalized RMS error {e:E3} > {tolerance:E1}");
            worst = Math.Max(worst, e);
        }
        output.WriteLine($"{what}: worst normalized RMS error {worst:E2} over {reference.Length / vocab} positions (limit {tolerance:E1})");
    }

    [Fact]
    public void Generate_Stories260KGreedyFromBos_PrintsTheKnownText()
    {
        lock (LlamaCppReference.Gate)
        {
            using var model = LoadedModel.Load(TestPaths.Stories260K, _ => Load(new RunnerOptions { ContextLength = 256 }));
            var result = new TextGenerator(model.Runner, model.Tokenizer).Generate(new GenerationRequest { Prompt = "", MaxTokens = 40, Sampling = SamplingOptions.Greedy });
            Assert.StartsWith(KnownText, result.Text, StringComparison.Ordinal);
            Assert.StartsWith("llama.cpp CPU (bundled ", model.Runner.BackendName, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Tokenizer_TwentyTokenPrompt_AgreesWithLlamaCpp()
    {
        int[] ours = Prompt(20);
        int[] reference = LlamaCppReference.Tokenize(TestPaths.Stories260K, PromptText, addSpecial: true, parseSpecial: false);
        Assert.Equal(reference[..20], ours);
    }

    [Theory]
    [InlineData(KvCacheType.F32)]
    [InlineData(KvCacheType.F16)]
    public void Logits_TwentyTokenPrompt_NativeRunnerAgreesAtEveryPosition(KvCacheType cache)
    {
        int[] prompt = Prompt(20);
        var options = F32Cache with { KvCacheType = cache };
        float[] reference;
        int vocab;
        lock (LlamaCppReference.Gate)
        {
            using var llama = Load(options);
            vocab = llama.VocabSize;
            reference = AllLogits(llama, prompt);
        }
        using var file = GgufFile.Open(TestPaths.Stories260K);
        using var native = new LlamaCpuRunner(file, options);
        Assert.Equal(vocab, native.VocabSize);
        AssertRowsClose(AllLogits(native, prompt), reference, vocab, EngineTolerance, $"native vs llama.cpp, {cache} KV cache");
    }

    [Fact]
    public void Forward_TwoSequencesInOneBatch_MatchEachSequenceAlone()
    {
        int[] a = Prompt(12);
        int[] b = [1, .. Prompt(20)[9..]];   // BOS + a different stretch of text, 12 tokens
        lock (LlamaCppReference.Gate)
        {
            using var runner = Load(F32Cache with { MaxSequences = 2 });
            Assert.Equal(2, runner.MaxSequences);
            float[] aloneA = AllLogits(runner, a, sequence: 0);
            float[] aloneB = AllLogits(runner, b, sequence: 1);
            runner.TruncateSequence(0, 0);
            runner.TruncateSequence(1, 0);

            // Interleaved: a0 b0 a1 b1 ..., every token wants logits, rows come back in batch order.
            var batch = new ForwardBatch();
            for (int i = 0; i < a.Length; i++)
            {
                batch.Add(a[i], i, 0, wantLogits: true);
                batch.Add(b[i], i, 1, wantLogits: true);
            }
            int v = runner.VocabSize;
            var both = new float[batch.OutputCount * v];
            runner.Forward(batch, both);
            var gotA = new float[a.Length * v];
            var gotB = new float[b.Length * v];
            for (int i = 0; i < a.Length; i++)
            {
                both.AsSpan((2 * i) * v, v).CopyTo(gotA.AsSpan(i * v));
                both.AsSpan((2 * i + 1) * v, v).CopyTo(gotB.AsSpan(i * v));
            }
            // Same arithmetic up to the batch shape, so much tighter than between engines.
            AssertRowsClose(gotA, aloneA, v, 1e-4, "sequence 0 batched with sequence 1");
            AssertRowsClose(gotB, aloneB, v, 1e-4, "sequence 1 batched with sequence 0");
        }
    }

    [Fact]
    public void TruncateSequence_ThenRedecoding_ReproducesTheLogits()
    {
        int[] prompt = Prompt(16);
        lock (LlamaCppReference.Gate)
        {
            using var runner = Load(F32Cache);
            int v = runner.VocabSize;
            float[] first = AllLogits(runner, prompt);

            // Forget positions 10..15 and evaluate them again on top of the kept 0..9.
            runner.TruncateSequence(0, 10);
            float[] again = AllLogits(runner, prompt[10..], startPosition: 10);
            AssertRowsClose(again, first.AsSpan(10 * v).ToArray(), v, 1e-4, "positions 10..15 after truncating at 10");

            // Clearing the sequence and evaluating the same batch reproduces it exactly.
            runner.TruncateSequence(0, 0);
            Assert.Equal(first, AllLogits(runner, prompt));
        }
    }

    [Fact]
    public void Forward_BatchLongerThanLlamaCppsBatchSize_IsSplitInOrder()
    {
        int[] prompt = Prompt(20);
        lock (LlamaCppReference.Gate)
        {
            using var whole = Load(F32Cache);
            float[] reference = AllLogits(whole, prompt);
            using var chunked = LlamaCppRunner.Load(TestPaths.Stories260K, F32Cache, new LlamaCppOptions { BatchSize = 8, MicroBatchSize = 8 });
            AssertRowsClose(AllLogits(chunked, prompt), reference, whole.VocabSize, 1e-4, "20 tokens through n_batch = 8");
        }
    }

    [Fact]
    public void Forward_PositionPastTheContext_ThrowsNamingIt()
    {
        lock (LlamaCppReference.Gate)
        {
            using var runner = Load(new RunnerOptions { ContextLength = 16 });
            var batch = new ForwardBatch();
            batch.Add(1, 16, 0, wantLogits: true);
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => runner.Forward(batch, new float[runner.VocabSize]));
            Assert.Contains("position 16 is past the context length 16", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Load_ContextBeyondTraining_ThrowsTheSameMessageAsTheNativeEngine()
    {
        lock (LlamaCppReference.Gate)
        {
            var e = Assert.Throws<ArgumentException>(() => Load(new RunnerOptions { ContextLength = 100_000 }));
            Assert.Contains("exceeds the model's training context of 2048", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Load_VocabOnlyFile_IsAOneLineModelErrorQuotingLlamaCpp()
    {
        string path = TestPaths.Vocab("llama-spm");
        lock (LlamaCppReference.Gate)
        {
            var vocabOnly = Assert.Throws<LlamaCppException>(() => LlamaCppRunner.Load(path, new RunnerOptions(), new LlamaCppOptions()));
            Assert.Equal(LlamaCppFailure.Model, vocabOnly.Failure);
            Assert.StartsWith($"{path}: llama.cpp could not load the model (llama.cpp: ", vocabOnly.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', vocabOnly.Message);
        }
    }

    [Fact]
    public void Load_MissingModel_ThrowsFileNotFoundNamingIt()
    {
        var e = Assert.Throws<FileNotFoundException>(() => LlamaCppRunner.Load("/no/such/model.gguf", new RunnerOptions(), new LlamaCppOptions()));
        Assert.Contains("/no/such/model.gguf", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadLibrary_MissingUserLibrary_NamesThePathAndWhatToBuild()
    {
        var e = Assert.Throws<LlamaCppException>(() => LlamaCppLibrary.Load("/no/such/libllama.so", "--llamacpp-lib"));
        Assert.Equal(LlamaCppFailure.Library, e.Failure);
        Assert.StartsWith("--llamacpp-lib=/no/such/libllama.so: no such file", e.Message, StringComparison.Ordinal);
        Assert.Contains("-DBUILD_SHARED_LIBS=ON", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadLibrary_TheLoadedLibraryByPath_IsAcceptedAndAnotherIsRefused()
    {
        lock (LlamaCppReference.Gate)
        {
            var loaded = LlamaCppLibrary.Load(null);
            Assert.True(File.Exists(loaded.Path), loaded.Path);
            Assert.Contains("CPU", loaded.Devices);
            Assert.Same(loaded, LlamaCppLibrary.Load(loaded.Path));

            // A second, different libllama cannot join a process that has one.
            string other = Directory.EnumerateFiles(LlamaCppLibrary.BundledDirectory, "libllama.so", SearchOption.AllDirectories)
                .First(p => Path.GetDirectoryName(p) != Path.GetDirectoryName(loaded.Path));
            var e = Assert.Throws<LlamaCppException>(() => LlamaCppLibrary.Load(other, "--llamacpp-lib"));
            Assert.Contains($"already loaded llama.cpp from {loaded.Path}", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Options_OutOfRange_NameTheOption()
    {
        Assert.Contains("--gpu-layers -2", Assert.Throws<ArgumentException>(() => new LlamaCppOptions { GpuLayerCount = -2 }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("micro-batch size 600", Assert.Throws<ArgumentException>(() => new LlamaCppOptions { MicroBatchSize = 600 }.Validate()).Message, StringComparison.Ordinal);
    }
}
