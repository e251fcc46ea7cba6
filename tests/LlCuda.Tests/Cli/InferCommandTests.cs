using System.Text.Json;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class InferCommandTests
{
    const string KnownText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
    // First 40 greedy tokens from BOS (../shared/models/README.md).
    static readonly int[] KnownTokens = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352];

    [Fact]
    public void Infer_Stories260KGreedyFromBos_PrintsTheKnownText()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(KnownText, r.Stdout, StringComparison.Ordinal);
        Assert.Contains("tok/s", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void InferJson_Stories260K_GivesTheKnownTokensAndTimings()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0", "--json", "--threads", "2");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal([1], root.GetProperty("prompt_tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(KnownTokens, root.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.StartsWith(KnownText, root.GetProperty("text").GetString(), StringComparison.Ordinal);
        var t = root.GetProperty("timings");
        foreach (var key in new[] { "load_ms", "prompt_ms", "ttft_ms", "gen_ms", "prompt_tps", "gen_tps" })
            Assert.True(t.GetProperty(key).GetDouble() > 0, key);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Infer_StopString_EndsBeforeIt()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "60", "--temp", "0", "--stop", "Lily", "--json");
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("Once upon a time, there was a little girl named ", doc.RootElement.GetProperty("text").GetString());
        Assert.Equal("stop", doc.RootElement.GetProperty("finish_reason").GetString());
    }

    [Fact]
    public void Infer_SameSeed_SameText()
    {
        string[] args = ["infer", "-m", TestPaths.Stories260K, "-p", "Once", "-n", "30", "--temp", "1.2", "--seed", "7", "--json"];
        string Text(CliResult c) { using var d = JsonDocument.Parse(c.Stdout); return d.RootElement.GetProperty("text").GetString()!; }
        Assert.Equal(Text(CliRunner.InProcess(args)), Text(CliRunner.InProcess(args)));
    }

    [Theory]
    [InlineData("--temp", "-1", "--temp -1 is out of range")]
    [InlineData("--top-p", "1.5", "--top-p 1.5 is out of range")]
    [InlineData("--min-p", "-0.1", "--min-p -0.1 is out of range")]
    [InlineData("--top-k", "-3", "--top-k -3 is out of range")]
    [InlineData("-n", "-5", "-n -5 is out of range")]
    [InlineData("--ctx", "100000", "exceeds the model's training context of 2048")]
    public void Infer_InvalidValue_IsAOneLineUsageErrorNamingIt(string option, string value, string message)
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "Once", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Infer_PromptLongerThanTheContext_NamesBothLengths()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", string.Join(' ', Enumerable.Repeat("Once upon a time", 40)), "--ctx", "32");
        Assert.Equal(2, r.ExitCode);
        Assert.Matches(@"the prompt has \d+ tokens but the context holds 32", r.Stderr);
    }

    [Fact]
    public void Infer_MissingModel_Exits66()
    {
        var r = CliRunner.InProcess("infer", "-m", "/no/such/model.gguf", "-p", "x");
        Assert.Equal(66, r.ExitCode);
        Assert.Contains("/no/such/model.gguf", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Infer_VocabOnlyFile_SaysTheModelHasNoWeights()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Vocab("llama-spm"), "-p", "x");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("llcuda: error: ", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_InferStories260K_PrintsTheKnownText()
    {
        var r = CliRunner.Published(["infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0"]);
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(KnownText, r.Stdout, StringComparison.Ordinal);
    }
}
