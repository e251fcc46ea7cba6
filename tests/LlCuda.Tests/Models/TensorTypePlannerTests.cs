using LlCuda.Models.Quantization;
using LlCuda.Models.Synthesis;
using LlCuda.Tensors;

namespace LlCuda.Tests.Models;

/// <summary>
/// The per-tensor type rules, checked against the type counts llama.cpp reports when it loads
/// the published Llama-2-7B quantizations (e.g. "llama_model_loader: - type q4_K: 193 tensors").
/// The byte-level comparison with llama.cpp's quantizer is in <see cref="LlamaCppQuantizeComparisonTests"/>.
/// </summary>
public class TensorTypePlannerTests
{
    static IReadOnlyList<TensorPlan> Plan(string preset, string type, bool pure = false)
    {
        var shape = SyntheticModelShape.Preset(preset);
        var model = new QuantizationModelInfo("llama", shape.BlockCount, shape.HeadCount, shape.HeadCountKv, 0);
        return TensorTypePlanner.Plan(model, SyntheticModel.Tensors(shape, 32000), QuantizationTarget.Parse(type), pure);
    }

    static Dictionary<GgmlType, int> Counts(IEnumerable<TensorPlan> plans) => plans.GroupBy(p => p.TargetType).ToDictionary(g => g.Key, g => g.Count());

    [Theory]
    [InlineData("Q4_0", "Q4_0:225 Q6_K:1 F32:65")]
    [InlineData("Q8_0", "Q8_0:226 F32:65")]
    [InlineData("Q4_K_M", "Q4_K:193 Q6_K:33 F32:65")]
    [InlineData("Q5_K_M", "Q5_K:193 Q6_K:33 F32:65")]
    [InlineData("Q4_K_S", "Q4_K:217 Q5_K:8 Q6_K:1 F32:65")]
    [InlineData("Q3_K_M", "Q3_K:129 Q4_K:92 Q5_K:4 Q6_K:1 F32:65")]
    [InlineData("Q2_K", "Q2_K:129 Q3_K:96 Q6_K:1 F32:65")] // current rules (TheBloke's 2023 files predate them)
    [InlineData("Q6_K", "Q6_K:226 F32:65")]
    [InlineData("F16", "F16:226 F32:65")]
    public void Plan_Llama2_7B_GivesLlamaCppsTypeCounts(string type, string expected)
    {
        var counts = Counts(Plan("llama2-7b", type));
        string actual = string.Join(' ', counts.OrderByDescending(kv => kv.Key == GgmlType.F32 ? -1 : kv.Value).ThenBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"));
        var want = expected.Split(' ').Select(s => s.Split(':')).ToDictionary(a => Enum.Parse<GgmlType>(a[0]), a => int.Parse(a[1], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(want.Count == counts.Count && want.All(kv => counts.GetValueOrDefault(kv.Key) == kv.Value), $"{type}: got {actual}, expected {expected}");
    }

    [Fact]
    public void PlanQ4KM_Llama2_7B_GivesAttnVAndFfnDownQ6KInLlamaCppsLayers()
    {
        var plans = Plan("llama2-7b", "Q4_K_M");
        // use_more_bits(i, 32): the first and last 4 layers and every third one between.
        int[] expected = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];
        foreach (var kind in new[] { "attn_v", "ffn_down" })
        {
            var layers = plans.Where(p => p.Name.EndsWith($".{kind}.weight", StringComparison.Ordinal) && p.TargetType == GgmlType.Q6_K)
                .Select(p => int.Parse(p.Name.Split('.')[1], System.Globalization.CultureInfo.InvariantCulture)).Order();
            Assert.Equal(expected, layers);
        }
    }

    [Fact]
    public void PlanQ2K_TinyLlamaGqa8_GivesAttnVQ4K()
    {
        // Q2_K gives attn_v Q4_K instead of Q3_K when 4 or more query heads share a KV head.
        var plans = Plan("tinyllama-1.1b", "Q2_K");
        Assert.All(plans.Where(p => p.Name.EndsWith("attn_v.weight", StringComparison.Ordinal)), p => Assert.Equal(GgmlType.Q4_K, p.TargetType));
    }

    [Fact]
    public void Plan_IsInLlamaCppsOrder_NonBlockTensorsFirstThenBlocksByNumber()
    {
        var names = Plan("tiny", "Q4_0").Select(p => p.Name).ToList();
        Assert.Equal(["output.weight", "output_norm.weight", "token_embd.weight", "blk.0.attn_k.weight"], names.Take(4));
        Assert.Equal("blk.1.ffn_up.weight", names[^1]);
    }

    [Fact]
    public void PlanPure_EveryMatrixGetsTheBaseTypeAndVectorsStayF32()
    {
        var plans = Plan("tinyllama-1.1b", "Q4_K_M", pure: true);
        Assert.All(plans, p => Assert.Equal(p.Tensor.Dimensions.Length == 1 ? GgmlType.F32 : GgmlType.Q4_K, p.TargetType));
    }

    [Theory]
    [InlineData("Q4_K_M", GgmlType.Q5_0, GgmlType.Q8_0)]   // output: Q8_0 outright (its row is not a multiple of Q4_K's block)
    [InlineData("Q5_K_S", GgmlType.Q5_1, GgmlType.Q8_0)]
    [InlineData("Q3_K_S", GgmlType.Q4_0, GgmlType.Q8_0)]
    [InlineData("Q6_K", GgmlType.Q8_0, GgmlType.Q8_0)]
    public void Plan_RowsNotMultipleOf256_FallBackLikeLlamaCppAndSaySo(string type, GgmlType matrices, GgmlType output)
    {
        var plans = Plan("tiny", type).ToDictionary(p => p.Name);
        Assert.Equal(matrices, plans["blk.0.attn_q.weight"].TargetType);
        Assert.Contains("row length 64 is not a multiple of 256", plans["blk.0.attn_q.weight"].Fallback, StringComparison.Ordinal);
        Assert.Equal(output, plans["output.weight"].TargetType);
    }

    // ffn_down has rows of 40: no 32-element block fits either.
    static readonly SyntheticModelShape OddFfn = new() { EmbeddingLength = 64, BlockCount = 1, HeadCount = 4, HeadCountKv = 4, FeedForwardLength = 40, ContextLength = 64 };

    [Fact]
    public void Plan_RowNotMultipleOf32_FallsBackToF16()
    {
        var model = new QuantizationModelInfo("llama", 1, 4, 4, 0);
        var plans = TensorTypePlanner.Plan(model, SyntheticModel.Tensors(OddFfn, 100), QuantizationTarget.Parse("Q4_K_S"), pure: false).ToDictionary(p => p.Name);
        Assert.Equal(GgmlType.F16, plans["blk.0.ffn_down.weight"].TargetType);
        Assert.Equal(GgmlType.Q5_0, plans["blk.0.ffn_up.weight"].TargetType); // rows of 64
    }

    [Fact]
    public void Plan_LegacyTypeOnRowNotMultipleOf32_SaysThereIsNoFallback()
    {
        // llama.cpp throws "no tensor type fallback is defined for type q4_0" here too.
        var model = new QuantizationModelInfo("llama", 1, 4, 4, 0);
        var e = Assert.Throws<NotSupportedException>(() => TensorTypePlanner.Plan(model, SyntheticModel.Tensors(OddFfn, 100), QuantizationTarget.Parse("Q4_0"), pure: false));
        Assert.Contains("'blk.0.ffn_down.weight': row length 40 is not a multiple of Q4_0's block size 32", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("q4_k_m", "Q4_K_M", 15, GgmlType.Q4_K, false)]
    [InlineData("Q4_0", "Q4_0", 2, GgmlType.Q4_0, false)]
    [InlineData("bf16", "BF16", 32, GgmlType.BF16, false)]
    [InlineData("q4_k", "Q4_K", 14, GgmlType.Q4_K, true)]
    public void TargetParse_KnownNames_GiveFileTypeAndDefault(string text, string name, int fileType, GgmlType type, bool pure)
    {
        var t = QuantizationTarget.Parse(text);
        Assert.Equal((name, fileType, type, pure), (t.Name, t.FileType, t.DefaultType, t.AlwaysPure));
    }

    [Fact]
    public void TargetParse_UnknownName_ListsTheNames()
    {
        var e = Assert.Throws<ArgumentException>(() => QuantizationTarget.Parse("q4_x"));
        Assert.Contains("unknown type 'q4_x'", e.Message, StringComparison.Ordinal);
        Assert.Contains("Q4_K_M", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("IQ2_XXS")]
    [InlineData("Q2_K_S")]
    [InlineData("IQ4_NL")]
    public void TargetParse_TypesWithoutQuantizer_AreNotSupported(string text) =>
        Assert.Throws<NotSupportedException>(() => QuantizationTarget.Parse(text));
}
