using LLama.Native;
using LlCuda.Gguf;
using LlCuda.Models.Quantization;
using LlCuda.Models.Synthesis;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Models;

/// <summary>Two synthetic F32 models (one with rows of 256 and more, one with rows of 64 and 192) that llama.cpp and llcuda both quantize.</summary>
public sealed class QuantizeComparisonModels : IDisposable
{
    public string Directory { get; } = TestPaths.NewTempDir();

    /// <summary>8 layers, so the layer-dependent rules pick different layers; GQA 4, so Q2_K's attn_v rule shows.</summary>
    public static readonly SyntheticModelShape Wide = new() { EmbeddingLength = 256, BlockCount = 8, HeadCount = 4, HeadCountKv = 1, FeedForwardLength = 256, ContextLength = 256 };
    /// <summary>Rows of 64 and 192: every K-quant falls back.</summary>
    public static readonly SyntheticModelShape Narrow = new() { EmbeddingLength = 64, BlockCount = 2, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 192, ContextLength = 256 };

    public const int Vocab = 512;
    public const ulong Seed = 7;

    public string WidePath { get; }
    public string NarrowPath { get; }

    public QuantizeComparisonModels()
    {
        WidePath = Write("wide-f32.gguf", Wide, "F32");
        NarrowPath = Write("narrow-f32.gguf", Narrow, "F32");
    }

    /// <summary>The synthetic model of <paramref name="shape"/> with the fixture's seed, in <paramref name="type"/>.</summary>
    public string Write(string name, SyntheticModelShape shape, string type)
    {
        string path = Path.Combine(Directory, name);
        SyntheticModel.Write(path, new SyntheticModelOptions { Shape = shape, Target = QuantizationTarget.Parse(type), VocabularySize = Vocab, Seed = Seed, Threads = 2 });
        return path;
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }
}

/// <summary>
/// llcuda's quantizer against llama.cpp's own llama_model_quantize (LLamaSharp 0.30.0), no
/// imatrix: the same type for every tensor, the same bytes, and in fact the same file.
/// </summary>
public class LlamaCppQuantizeComparisonTests(QuantizeComparisonModels models) : IClassFixture<QuantizeComparisonModels>
{
    [Theory]
    [InlineData("Q4_0")]
    [InlineData("Q4_K_M")]
    [InlineData("Q5_K_M")]
    [InlineData("Q6_K")]
    [InlineData("Q3_K_M")]
    [InlineData("Q2_K")]
    [InlineData("Q4_K_S")]
    [InlineData("Q8_0")]
    [InlineData("F16")]
    public void QuantizeF32_WideModel_IsByteIdenticalToLlamaCpp(string type) =>
        CompareWithLlamaCpp(models.WidePath, $"wide-{type}", type);

    [Theory]
    [InlineData("Q4_K_M")]
    [InlineData("Q2_K")]
    [InlineData("Q3_K_M")]
    [InlineData("Q5_K_S")]
    [InlineData("Q6_K")]
    public void QuantizeF32_NarrowModelWithFallbacks_IsByteIdenticalToLlamaCpp(string type) =>
        CompareWithLlamaCpp(models.NarrowPath, $"narrow-{type}", type);

    [Theory]
    [InlineData("Q8_0", "Q4_K_M")]
    [InlineData("F16", "Q4_0")]
    public void Requantize_QuantizedOrF16Model_IsByteIdenticalToLlamaCpp(string from, string to)
    {
        string input = models.Write($"wide-src-{from}-{to}.gguf", QuantizeComparisonModels.Wide, from);
        CompareWithLlamaCpp(input, $"wide-{from}-to-{to}", to, allowRequantize: true);
    }

    [Theory]
    [InlineData("Q4_K_M")]
    [InlineData("Q4_0")]
    [InlineData("Q6_K")]
    public void Synthesize_DirectlyInAType_HasLlamaCppsBytesForTheF32Model(string type)
    {
        string theirs = Path.Combine(models.Directory, $"synth-theirs-{type}.gguf");
        LlamaCppQuantizer.Quantize(models.WidePath, theirs, LlamaCppQuantizer.FileType(type));
        string ours = models.Write($"synth-ours-{type}.gguf", QuantizeComparisonModels.Wide, type);
        using var a = GgufFile.Open(theirs);
        using var b = GgufFile.Open(ours);
        Assert.Equal(a.Tensors.Count, b.Tensors.Count);
        foreach (var t in a.Tensors)
        {
            var u = b.GetTensor(t.Name);
            Assert.True(t.Type == u.Type, $"{t.Name}: llama.cpp chose {t.Type}, synth wrote {u.Type}");
            Assert.True(a.GetTensorData(t).SequenceEqual(b.GetTensorData(u)), $"{t.Name} ({t.Type}): synth's bytes differ from llama.cpp's quantization of the F32 model");
        }
    }

    void CompareWithLlamaCpp(string input, string name, string type, bool allowRequantize = false)
    {
        string theirs = Path.Combine(models.Directory, name + "-llamacpp.gguf");
        string ours = Path.Combine(models.Directory, name + "-llcuda.gguf");
        LlamaCppQuantizer.Quantize(input, theirs, LlamaCppQuantizer.FileType(type), allowRequantize: allowRequantize);
        ModelQuantizer.Quantize(input, ours, new ModelQuantizeOptions { Target = QuantizationTarget.Parse(type), Threads = 2 });

        using (var a = GgufFile.Open(theirs))
        using (var b = GgufFile.Open(ours))
        {
            Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
            for (int i = 0; i < a.Tensors.Count; i++)
            {
                var (t, u) = (a.Tensors[i], b.Tensors[i]);
                Assert.True(t.Type == u.Type, $"{type}: {t.Name}: llama.cpp chose {t.Type}, llcuda {u.Type}");
                ReadOnlySpan<byte> x = a.GetTensorData(t), y = b.GetTensorData(u);
                int same = x.CommonPrefixLength(y);
                Assert.True(same == x.Length && x.Length == y.Length, $"{type}: {t.Name} ({t.Type}): bytes differ at {same} of {x.Length}");
            }
            Assert.Equal(a.Metadata.Keys, b.Metadata.Keys);
        }
        byte[] x2 = File.ReadAllBytes(theirs), y2 = File.ReadAllBytes(ours);
        int prefix = x2.AsSpan().CommonPrefixLength(y2);
        Assert.True(prefix == x2.Length && x2.Length == y2.Length, $"{type}: files differ at byte {prefix} (llama.cpp {x2.Length} bytes, llcuda {y2.Length})");
    }
}
