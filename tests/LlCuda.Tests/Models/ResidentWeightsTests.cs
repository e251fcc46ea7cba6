using LlCuda.Cpu;
using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Models.Llama;
using LlCuda.Models.Quantization;
using LlCuda.Models.Synthesis;
using LlCuda.Tests.Support;
using LlCuda.Tensors;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Models;

/// <summary>
/// The CPU runner's two ways of holding weights give the same model: resident (read into
/// huge-page memory, Q4_0 and Q4_K repacked into tiles) and mapped (--mmap, ggml rows in
/// place). Same integer sums, different kernels, so the logits agree to fp32 rounding.
/// </summary>
public class ResidentWeightsTests
{
    static readonly SyntheticModelShape Shape = new() { EmbeddingLength = 256, BlockCount = 2, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 512, ContextLength = 128 };

    [Theory]
    [InlineData("Q4_0")]
    [InlineData("Q4_K_M")]
    [InlineData("Q8_0")]
    public void Logits_ResidentAndMapped_Agree(string type)
    {
        using var scratch = new ScratchDirectory();
        string path = Path.Combine(scratch.Path, $"{type}.gguf");
        SyntheticModel.Write(path, new SyntheticModelOptions
        {
            Shape = Shape, Target = QuantizationTarget.Parse(type), VocabularyPath = TestPaths.Stories260K, Std = 0.08f, Seed = 11, Threads = 2,
        });
        using var file = GgufFile.Open(path);
        int[] tokens = PromptLogits.Tokenize(Tokenizer.FromGguf(file), "Once upon a time, in a small town");
        float[] Logits(bool mapWeights)
        {
            using var runner = new LlamaCpuRunner(file, new RunnerOptions { ContextLength = 64, Threads = 2, MapWeights = mapWeights });
            return PromptLogits.Evaluate(runner, tokens);
        }
        float[] mapped = Logits(true), resident = Logits(false);
        double err = PromptLogits.NormalizedRmsError(resident, mapped);
        Assert.True(err < 1e-4, $"{type}: resident vs mapped normalized RMS error {err:E2}");
        Assert.NotEqual(0, mapped.Sum(Math.Abs));
    }

    [Fact]
    public void Load_Q4Types_AreRepackedOthersKeptAsRows()
    {
        using var scratch = new ScratchDirectory();
        string path = Path.Combine(scratch.Path, "mix.gguf");
        SyntheticModel.Write(path, new SyntheticModelOptions
        {
            Shape = Shape, Target = QuantizationTarget.Parse("Q4_K_M"), VocabularyPath = TestPaths.Stories260K, Std = 0.08f, Seed = 1, Threads = 2,
        });
        using var file = GgufFile.Open(path);
        var matrices = file.Tensors.Where(t => t.Dimensions.Length == 2 && t.Name.StartsWith("blk.", StringComparison.Ordinal)).ToList();
        using var resident = ResidentWeights.Load(file, matrices);
        foreach (var t in matrices)
        {
            var w = resident.Bind(t);
            Assert.Equal(t.Type is GgmlType.Q4_0 or GgmlType.Q4_K ? WeightLayout.Tiles16 : WeightLayout.Rows, w.Layout);
            Assert.Equal((int)t.Dimensions[1], w.Rows);
        }
        Assert.Equal(matrices.Count(t => t.Type == GgmlType.Q4_K), resident.PackedCount);
        Assert.True(resident.PackedCount > 0, "a Q4_K_M model has Q4_K matrices to repack");
    }
}
