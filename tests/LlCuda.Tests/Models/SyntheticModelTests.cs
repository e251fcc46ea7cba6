using System.Runtime.InteropServices;
using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Models;
using LlCuda.Models.Llama;
using LlCuda.Models.Quantization;
using LlCuda.Models.Synthesis;
using LlCuda.Tensors;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Models;

public class SyntheticModelTests
{
    static readonly SyntheticModelShape Tiny = SyntheticModelShape.Preset("tiny");

    static string Write(string dir, string name, SyntheticModelShape shape, string type, ulong seed = 1, int threads = 2, float std = SyntheticModel.DefaultStd, string? vocab = null)
    {
        string path = Path.Combine(dir, name);
        SyntheticModel.Write(path, new SyntheticModelOptions
        {
            Shape = shape,
            Target = QuantizationTarget.Parse(type),
            VocabularyPath = vocab,
            VocabularySize = vocab is null ? 300 : 0,
            Seed = seed,
            Threads = threads,
            Std = std,
        });
        return path;
    }

    [Fact]
    public void Write_TinyWithVocabulary_HasLlamaHyperparametersVocabularyAndShapes()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string path = Write(dir, "tiny.gguf", Tiny, "F32", vocab: TestPaths.Vocab("llama-spm"));
        using var f = GgufFile.Open(path);
        var hp = ModelHyperparameters.FromGguf(f);
        Assert.Equal(("llama", 64, 2, 4, 2, 192, 512, 16, 32000), (hp.Architecture, hp.EmbeddingLength, hp.BlockCount, hp.HeadCount, hp.HeadCountKv, hp.FeedForwardLength, hp.ContextLength, hp.RopeDimensionCount, hp.VocabSize));
        Assert.Equal(10000f, hp.RopeFreqBase);
        Assert.Equal(1e-5f, hp.RmsEpsilon);
        Assert.Equal(0, f.Metadata.GetInt64("general.file_type"));
        Assert.False(f.Metadata.ContainsKey("general.quantization_version"));

        using var vocab = GgufFile.Open(TestPaths.Vocab("llama-spm"));
        foreach (var (key, value) in vocab.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)))
            Assert.Equal(value.ToString(), f.Metadata[key].ToString());

        var tensors = LlamaTensors.From(f);
        Assert.Equal([64L, 32000], tensors.TokenEmbedding.Dimensions);
        Assert.Equal([64L, 32], tensors.Blocks[1].Wv.Dimensions);
        Assert.Equal([192L, 64], tensors.Blocks[1].FfnDown.Dimensions);
        Assert.False(tensors.OutputIsTied);
    }

    [Fact]
    public void Write_WeightsAndNorms_HaveTheRequestedDistribution()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        var shape = Tiny with { EmbeddingLength = 256, FeedForwardLength = 1024 };
        string path = Write(dir, "stats.gguf", shape, "F32", std: 0.05f);
        using var f = GgufFile.Open(path);
        static (double Mean, double Std, double Kurtosis) Stats(ReadOnlySpan<float> x)
        {
            double mean = 0;
            foreach (float v in x) mean += v;
            mean /= x.Length;
            double m2 = 0, m4 = 0;
            foreach (float v in x) { double d = v - mean; m2 += d * d; m4 += d * d * d * d; }
            m2 /= x.Length; m4 /= x.Length;
            return (mean, Math.Sqrt(m2), m4 / (m2 * m2));
        }
        var w = Stats(MemoryMarshal.Cast<byte, float>(f.GetTensorData(f.GetTensor("blk.0.ffn_up.weight"))));   // 262,144 weights
        Assert.InRange(w.Mean, -0.001, 0.001);
        Assert.InRange(w.Std, 0.0495, 0.0505);
        Assert.InRange(w.Kurtosis, 2.95, 3.05);    // a normal's is 3; a uniform's 1.8
        var norm = MemoryMarshal.Cast<byte, float>(f.GetTensorData(f.GetTensor("blk.1.ffn_norm.weight")));
        var n = Stats(norm);
        Assert.InRange(n.Mean, 0.98, 1.02);
        Assert.InRange(n.Std, 0.08, 0.12);
        Assert.NotEqual(norm[0], norm[1]);
    }

    [Fact]
    public void Write_DifferentThreadCounts_GiveTheSameFile()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string one = Write(dir, "t1.gguf", Tiny, "Q4_0", threads: 1);
        string four = Write(dir, "t4.gguf", Tiny, "Q4_0", threads: 4);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(four));
    }

    [Fact]
    public void Write_DifferentSeeds_GiveDifferentWeights_SameSeedTheSame()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        using var a = GgufFile.Open(Write(dir, "a.gguf", Tiny, "F32", seed: 1));
        using var b = GgufFile.Open(Write(dir, "b.gguf", Tiny, "F32", seed: 2));
        using var c = GgufFile.Open(Write(dir, "c.gguf", Tiny with { BlockCount = 3 }, "F32", seed: 1));
        var name = "blk.1.attn_q.weight";
        Assert.False(a.GetTensorData(a.GetTensor(name)).SequenceEqual(b.GetTensorData(b.GetTensor(name))));
        // A tensor's values depend on the seed and its name only, not on the rest of the model.
        Assert.True(a.GetTensorData(a.GetTensor(name)).SequenceEqual(c.GetTensorData(c.GetTensor(name))));
    }

    [Fact]
    public void WriteQuantized_EqualsTheF32ModelQuantizedByModelQuantizer()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string f32 = Write(dir, "f32.gguf", Tiny, "F32");
        string direct = Write(dir, "direct.gguf", Tiny, "Q5_K_M");
        string converted = Path.Combine(dir, "converted.gguf");
        ModelQuantizer.Quantize(f32, converted, new ModelQuantizeOptions { Target = QuantizationTarget.Parse("Q5_K_M") });
        using var a = GgufFile.Open(direct);
        using var b = GgufFile.Open(converted);
        foreach (var t in a.Tensors)
        {
            var u = b.GetTensor(t.Name);
            Assert.Equal(t.Type, u.Type);
            Assert.True(a.GetTensorData(t).SequenceEqual(b.GetTensorData(u)), t.Name);
        }
        Assert.Equal(2u, (uint)a.Metadata.GetInt64("general.quantization_version"));
        Assert.Equal(17, a.Metadata.GetInt64("general.file_type"));
    }

    [Fact]
    public void Write_KQuantOnRowsOf64_FallsBackPerTensorAndReportsIt()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        var result = SyntheticModel.Write(Path.Combine(dir, "k.gguf"), new SyntheticModelOptions
        {
            Shape = Tiny, Target = QuantizationTarget.Parse("Q4_K"), VocabularySize = 300,
        });
        Assert.All(result.Tensors.Where(t => t.Tensor.Dimensions.Length == 2), t => Assert.Equal(GgmlType.Q5_0, t.TargetType));
        Assert.Equal(2 + 7 * 2, result.Fallbacks.Count());
        Assert.Contains("Q5_0 instead", result.Fallbacks.First().Fallback, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_Cancelled_LeavesNothingBehind()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        using var cancel = new CancellationTokenSource();
        var options = new SyntheticModelOptions
        {
            Shape = Tiny, Target = QuantizationTarget.Parse("Q8_0"), VocabularySize = 300,
            Cancellation = cancel.Token,
            Progress = p => { if (p.TensorIndex == 5) cancel.Cancel(); },
        };
        Assert.ThrowsAny<OperationCanceledException>(() => SyntheticModel.Write(Path.Combine(dir, "x.gguf"), options));
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Write_VocabularyFileWithoutTokens_SaysSo()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string noVocab = Write(dir, "novocab.gguf", Tiny, "F32");
        var e = Assert.Throws<GgufFormatException>(() => Write(dir, "x.gguf", Tiny, "F32", vocab: noVocab));
        Assert.Contains("tokenizer.ggml.tokens", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(dir, "x.gguf")));
    }

    [Theory]
    [InlineData(64, 3, 3, 1, "--dim 64 is not divisible by --heads 3")]
    [InlineData(64, 4, 4, 3, "--heads 4 is not a multiple of --kv-heads 3")]
    [InlineData(72, 4, 8, 8, "is odd")]
    [InlineData(0, 4, 4, 4, "--dim 0 is out of range")]
    public void ShapeValidate_InconsistentShape_NamesTheValues(int dim, int layers, int heads, int kvHeads, string message)
    {
        var shape = Tiny with { EmbeddingLength = dim, BlockCount = layers, HeadCount = heads, HeadCountKv = kvHeads };
        var e = Assert.Throws<ArgumentException>(shape.Validate);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sampler_StandardNormal_HasNormalMomentsAndTails()
    {
        var s = new GaussianSampler(42);
        const int n = 2_000_000;
        double sum = 0, sum2 = 0;
        int beyond3 = 0;
        for (int i = 0; i < n; i++)
        {
            double x = s.NextStandard();
            sum += x; sum2 += x * x;
            if (Math.Abs(x) > 3) beyond3++;
        }
        Assert.InRange(sum / n, -0.003, 0.003);
        Assert.InRange(sum2 / n, 0.995, 1.005);
        // P(|x| > 3) = 0.0027 for a normal: 5,400 expected, sd ~73.
        Assert.InRange(beyond3, 5_100, 5_700);
    }
}

/// <summary>
/// Synthetic models must run in llama.cpp (through LLamaSharp) and in llcuda's own engine, and
/// agree. Logits are compared position by position on llama.cpp's own greedy continuation with
/// the tolerances (normalized RMS error 5e-3 for F32, 5e-2 for quantized weights). With
/// random weights, a quantized model is chaotic: llama.cpp's own logits move by ~0.08 between
/// its flash-attention and plain paths, because a tiny change flips the 8-bit rounding of later
/// activations. So the chosen tokens must agree wherever llama.cpp's top two logits are more
/// than <see cref="TieMargin"/> times the RMS difference between the two engines' logits at
/// that position apart, and at least a few steps must be such clear ones.
/// </summary>
public class SyntheticModelRunsTests
{
    const double TieMargin = 4;
    const int Steps = 12;

    // Shapes of the matrix: GQA ratios 1, 2, 3, 4 and 8; model widths 96 and 160 (head
    // dims 16 and 32), whose rows are not multiples of 256, so K-quant mixes fall back per
    // tensor as llama.cpp's do. "wide" keeps K-quants without fallback (rows of 256 and 512) and
    // stories260K's 512-token vocabulary; the others use the 32,000-token llama SPM vocabulary.
    static readonly Dictionary<string, SyntheticModelShape> Shapes = new()
    {
        ["tiny"] = SyntheticModelShape.Preset("tiny"), // GQA 2, width 64
        ["gqa1"] = new() { EmbeddingLength = 128, BlockCount = 2, HeadCount = 4, HeadCountKv = 4, FeedForwardLength = 256, ContextLength = 256 },
        ["gqa3-w96"] = new() { EmbeddingLength = 96, BlockCount = 2, HeadCount = 6, HeadCountKv = 2, FeedForwardLength = 256, ContextLength = 256 },
        ["wide"] = new() { EmbeddingLength = 256, BlockCount = 2, HeadCount = 4, HeadCountKv = 1, FeedForwardLength = 512, ContextLength = 256 }, // GQA 4
        ["gqa8"] = new() { EmbeddingLength = 256, BlockCount = 2, HeadCount = 8, HeadCountKv = 1, FeedForwardLength = 512, ContextLength = 256 },
        ["w160"] = new() { EmbeddingLength = 160, BlockCount = 2, HeadCount = 5, HeadCountKv = 5, FeedForwardLength = 320, ContextLength = 256 },
    };

    /// <summary>
    /// Weight types F32, F16, Q8_0, Q4_0, Q4_K_M, Q6_K, each on several shapes. Quantized by
    /// llcuda's quantizer, which LlamaCppQuantizeComparisonTests proves byte-identical to
    /// llama.cpp's llama_model_quantize, so these are the files llama.cpp itself would write.
    /// </summary>
    [Theory]
    [InlineData("tiny", "F32")]
    [InlineData("tiny", "Q8_0")]
    [InlineData("tiny", "Q4_0")]
    [InlineData("gqa1", "F32")]
    [InlineData("gqa1", "Q4_0")]
    [InlineData("gqa1", "F16")]
    [InlineData("gqa3-w96", "F16")]
    [InlineData("gqa3-w96", "Q4_K_M")]
    [InlineData("gqa3-w96", "Q8_0")]
    [InlineData("wide", "Q4_K_M")]
    [InlineData("wide", "Q6_K")]
    [InlineData("gqa8", "F32")]
    [InlineData("gqa8", "Q4_0")]
    [InlineData("gqa8", "Q4_K_M")]
    [InlineData("w160", "F32")]
    [InlineData("w160", "Q6_K")]
    [InlineData("w160", "Q4_0")]
    public void Synthesized_LogitsAndGreedyTokens_AgreeWithLlamaCpp(string shapeName, string type)
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string path = Path.Combine(dir, $"{shapeName}-{type}.gguf");
        SyntheticModel.Write(path, new SyntheticModelOptions
        {
            Shape = Shapes[shapeName], Target = QuantizationTarget.Parse(type),
            VocabularyPath = shapeName == "wide" ? TestPaths.Stories260K : TestPaths.Vocab("llama-spm"), Std = 0.08f, Seed = 3, Threads = 2,
        });

        using var model = LoadedModel.LoadNative(path, new RunnerOptions { ContextLength = 64, Threads = 2 });
        int[] prompt = new TextGenerator(model.Runner, model.Tokenizer).TokenizePrompt(new GenerationRequest { Prompt = "Once upon a time" });
        int[] generated = LlamaCppReference.GreedyTokens(path, prompt, Steps);
        int[] sequence = [.. prompt, .. generated[..^1]];
        int vocab = model.Runner.VocabSize;
        float[] reference = LlamaCppReference.Logits(path, sequence);
        var batch = new ForwardBatch();
        for (int i = 0; i < sequence.Length; i++) batch.Add(sequence[i], i, 0, wantLogits: true);
        var ours = new float[sequence.Length * vocab];
        model.Runner.Forward(batch, ours);

        double tolerance = type is "F32" or "F16" ? 5e-3 : 5e-2;
        int clear = 0;
        for (int i = 0; i < sequence.Length; i++)
        {
            var r = reference.AsSpan(i * vocab, vocab);
            var o = ours.AsSpan(i * vocab, vocab);
            double err = 0, norm = 0;
            for (int v = 0; v < vocab; v++) { err += (o[v] - r[v]) * (double)(o[v] - r[v]); norm += r[v] * (double)r[v]; }
            Assert.True(Math.Sqrt(err / norm) <= tolerance, $"{shapeName} {type}: position {i}: normalized RMS error {Math.Sqrt(err / norm):E2} > {tolerance:E0}");
            if (i < prompt.Length - 1) continue;
            int step = i - (prompt.Length - 1);
            var (best, margin) = TopWithMargin(r);
            Assert.Equal(generated[step], best); // batch and one-by-one decoding agree in llama.cpp itself
            if (margin < TieMargin * Math.Sqrt(err / vocab)) continue;
            clear++;
            Assert.True(TopWithMargin(o).Best == best, $"{shapeName} {type}: step {step}: llcuda chose {TopWithMargin(o).Best}, llama.cpp {best} (ahead by {margin:F3})");
        }
        Assert.True(clear >= Steps / 4, $"{shapeName} {type}: only {clear} of {Steps} steps had a clear winner; the comparison says too little");
    }

    static (int Best, float Margin) TopWithMargin(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int v = 1; v < logits.Length; v++) if (logits[v] > logits[best]) best = v;
        float second = float.NegativeInfinity;
        for (int v = 0; v < logits.Length; v++) if (v != best && logits[v] > second) second = logits[v];
        return (best, logits[best] - second);
    }
}
