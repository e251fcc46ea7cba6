using LlCuda.Engine;

namespace LlCuda.Tests.Engine;

public class SamplerTests
{
    static float[] RandomLogits(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 10 - 5)).ToArray();
    }

    [Fact]
    public void Greedy_PicksTheArgMax_AndTheLowestIdOnTies()
    {
        var s = new Sampler(SamplingOptions.Greedy);
        Assert.Equal(2, s.Sample([0.1f, 0.5f, 3f, -1f]));
        Assert.Equal(1, s.Sample([0f, 7f, 7f]));
    }

    [Fact]
    public void SameSeed_GivesTheSameTokens_DifferentSeed_Differs()
    {
        var logits = RandomLogits(32000, 1);
        var o = new SamplingOptions { Temperature = 1.5f, TopK = 0, TopP = 1, MinP = 0, Seed = 42 };
        int[] Run(SamplingOptions opts) { var s = new Sampler(opts); return Enumerable.Range(0, 50).Select(_ => s.Sample(logits)).ToArray(); }
        Assert.Equal(Run(o), Run(o));
        Assert.NotEqual(Run(o), Run(o with { Seed = 43 }));
    }

    [Fact]
    public void TopK1_IsGreedy()
    {
        var logits = RandomLogits(5000, 2);
        var s = new Sampler(new SamplingOptions { Temperature = 2, TopK = 1 });
        for (int i = 0; i < 20; i++) Assert.Equal(Sampler.ArgMax(logits), s.Sample(logits));
    }

    [Fact]
    public void TopK_OnlyEverReturnsTheKMostLikely()
    {
        var logits = RandomLogits(1000, 3);
        var top = logits.Select((v, i) => (v, i)).OrderByDescending(x => x.v).Take(5).Select(x => x.i).ToHashSet();
        var s = new Sampler(new SamplingOptions { Temperature = 5, TopK = 5, TopP = 1, MinP = 0 });
        var seen = Enumerable.Range(0, 500).Select(_ => s.Sample(logits)).ToHashSet();
        Assert.Subset(top, seen);
        Assert.True(seen.Count >= 4, "high temperature over 5 candidates should reach most of them");
    }

    [Fact]
    public void MinP_DropsTokensFarBelowTheBest()
    {
        // p ~ [0.88, 0.12, ~0]: min-p 0.2 keeps only token 0.
        float[] logits = [2f, 0f, -10f];
        var s = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0.2f });
        Assert.All(Enumerable.Range(0, 200).Select(_ => s.Sample(logits)), t => Assert.Equal(0, t));
    }

    [Fact]
    public void TopP_KeepsTheSmallestSetReachingP()
    {
        float[] logits = [3f, 2.9f, 0f, -1f];   // p ~ [0.50, 0.45, 0.03, 0.01]
        var s = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 0.9f, MinP = 0 });
        var seen = Enumerable.Range(0, 400).Select(_ => s.Sample(logits)).ToHashSet();
        Assert.Equal(new HashSet<int> { 0, 1 }, seen);
    }

    [Fact]
    public void Temperature1_SamplesInProportionToSoftmax()
    {
        float[] logits = [1f, 2f, 3f, 0f];
        var expected = logits.Select(MathF.Exp).ToArray();
        float sum = expected.Sum();
        var s = new Sampler(new SamplingOptions { Temperature = 1, TopK = 0, TopP = 1, MinP = 0, Seed = 7 });
        var counts = new int[4];
        const int draws = 20000;
        for (int i = 0; i < draws; i++) counts[s.Sample(logits)]++;
        for (int i = 0; i < 4; i++)
            Assert.InRange(counts[i] / (double)draws, expected[i] / sum - 0.015, expected[i] / sum + 0.015);
    }

    [Fact]
    public void RepeatPenalty_MovesGreedyAwayFromRecentTokens()
    {
        float[] logits = [2.0f, 1.9f, 0f];
        var s = new Sampler(SamplingOptions.Greedy with { RepeatPenalty = 1.5f });
        Assert.Equal(0, s.Sample(logits));
        s.Accept(0);
        Assert.Equal(1, s.Sample(logits)); // 2.0 / 1.5 < 1.9
    }

    [Fact]
    public void FrequencyAndPresencePenalties_SubtractPerOccurrence()
    {
        float[] logits = [2.0f, 1.0f];
        var s = new Sampler(SamplingOptions.Greedy with { FrequencyPenalty = 0.4f, PresencePenalty = 0.3f });
        s.Accept(0);
        Assert.Equal(0, s.Sample(logits)); // 2.0 - 0.4 - 0.3 = 1.3 > 1.0
        s.Accept(0);
        Assert.Equal(1, s.Sample(logits)); // 2.0 - 0.8 - 0.3 = 0.9 < 1.0
    }

    [Theory]
    [InlineData(-0.5f, 40, 0.95f, 0.05f, 1f, "--temp")]
    [InlineData(0.8f, -1, 0.95f, 0.05f, 1f, "--top-k")]
    [InlineData(0.8f, 40, 0f, 0.05f, 1f, "--top-p")]
    [InlineData(0.8f, 40, 0.95f, 1.5f, 1f, "--min-p")]
    [InlineData(0.8f, 40, 0.95f, 0.05f, 0f, "--repeat-penalty")]
    public void InvalidOptions_AreRejectedNamingTheOption(float temp, int topK, float topP, float minP, float repeat, string name)
    {
        var o = new SamplingOptions { Temperature = temp, TopK = topK, TopP = topP, MinP = minP, RepeatPenalty = repeat };
        var e = Assert.Throws<ArgumentException>(() => new Sampler(o));
        Assert.StartsWith(name, e.Message, StringComparison.Ordinal);
    }
}
