using System.Text.Json;
using LlCuda.Gguf;
using LlCuda.Tests.Gguf;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class ModelInfoCommandTests
{
    [Fact]
    public void ModelInfoJson_Stories260K_ReportsHyperparametersTensorsAndTotals()
    {
        var r = CliRunner.InProcess("model", "info", "-m", TestPaths.Stories260K, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("llama", root.GetProperty("architecture").GetString());
        var hp = root.GetProperty("hyperparameters");
        Assert.Equal(64, hp.GetProperty("embedding_length").GetInt32());
        Assert.Equal(5, hp.GetProperty("block_count").GetInt32());
        Assert.Equal(4, hp.GetProperty("head_count_kv").GetInt32());
        Assert.Equal(512, root.GetProperty("vocab").GetProperty("tokens").GetInt32());

        using var f = GgufFile.Open(TestPaths.Stories260K);
        var tensors = root.GetProperty("tensors");
        Assert.Equal(f.Tensors.Count, tensors.GetArrayLength());
        var first = tensors[0];
        Assert.Equal(f.Tensors[0].Name, first.GetProperty("name").GetString());
        Assert.Equal(f.Tensors[0].ByteSize, first.GetProperty("bytes").GetInt64());
        var totals = root.GetProperty("totals");
        Assert.Equal(f.Tensors.Sum(t => t.ElementCount), totals.GetProperty("parameters").GetInt64());
        Assert.Equal(32.0, totals.GetProperty("bits_per_weight").GetDouble()); // all F32
        // The 512-token vocabulary is summarized, not dumped.
        Assert.Equal(512, root.GetProperty("metadata").GetProperty("tokenizer.ggml.tokens").GetProperty("count").GetInt32());
    }

    [Fact]
    public void ModelInfoText_Stories260K_ListsEveryTensor()
    {
        var r = CliRunner.InProcess("model", "info", "-m", TestPaths.Stories260K);
        Assert.Equal(0, r.ExitCode);
        using var f = GgufFile.Open(TestPaths.Stories260K);
        foreach (var t in f.Tensors) Assert.Contains(t.Name, r.Stdout, StringComparison.Ordinal);
        Assert.Contains("32.00 bits per weight", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelInfo_MissingFile_PrintsOneLineAndExits66()
    {
        var r = CliRunner.InProcess("model", "info", "-m", "/nonexistent/model.gguf");
        Assert.Equal(66, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("/nonexistent/model.gguf", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelInfo_TruncatedFile_PrintsTheFieldAndOffsetOnOneLine()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "cut.gguf");
        File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.Stories260K)[..5000]);
        var r = CliRunner.InProcess("model", "info", "-m", path);
        Assert.Equal(65, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Matches(@"^llcuda: error: .*cut\.gguf: .* at byte [\d,]+: ", r.Stderr);
    }

    [Fact]
    public void ModelInfo_MissingModelOption_IsAUsageError()
    {
        var r = CliRunner.InProcess("model", "info");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--model", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_ModelInfoOnAMalformedFile_FailsCleanlyWithoutAStackTrace()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "bad.gguf");
        File.WriteAllBytes(path, RawGguf.Header(3, 1UL << 60, 0).ToArray());
        var r = CliRunner.Published(["model", "info", "-m", path]);
        Assert.Equal(65, r.ExitCode);
        Assert.Equal($"llcuda: error: {path}: tensor_count at byte 8: 1,152,921,504,606,846,976 entries cannot fit in the 0 bytes left in the file (corrupt header)\n", r.Stderr);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_ModelInfoJson_MatchesTheInProcessOutput()
    {
        var published = CliRunner.Published(["model", "info", "-m", TestPaths.Stories260K, "--json"]);
        var inProcess = CliRunner.InProcess("model", "info", "-m", TestPaths.Stories260K, "--json");
        Assert.Equal(0, published.ExitCode);
        Assert.Equal(inProcess.Stdout, published.Stdout);
    }
}
