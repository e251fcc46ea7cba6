using System.Text.Json;
using LlCuda.Gguf;
using LlCuda.Models.Llama;
using LlCuda.Tests.Models;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class ModelSynthCommandTests
{
    static readonly string Vocab = TestPaths.Vocab("llama-spm");

    static void AssertOneLineError(CliResult r, int exitCode, string message)
    {
        Assert.Equal(exitCode, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("llcuda: error: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SynthJson_TinyQ4_0_WritesALoadableModelAndReportsIt()
    {
        using var scratch = new ScratchDirectory();
        string output = scratch.File("tiny.gguf");
        var r = CliRunner.InProcess("model", "synth", "--preset", "tiny", "--vocab-from", Vocab, "--type", "q4_0", "--seed", "5", "-o", output, "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("Q4_0", root.GetProperty("type").GetString());
        Assert.Equal(2, root.GetProperty("file_type").GetInt32());
        Assert.Equal(32000, root.GetProperty("shape").GetProperty("vocab_size").GetInt32());
        Assert.Equal(1, root.GetProperty("fallbacks").GetInt32()); // output.weight: Q6_K -> Q8_0 on rows of 64

        using var f = GgufFile.Open(output);
        Assert.Equal(f.Tensors.Count, root.GetProperty("tensors").GetArrayLength());
        Assert.Equal(f.Tensors.Sum(t => t.ByteSize), root.GetProperty("data_bytes").GetInt64());
        var tensors = LlamaTensors.From(f);
        Assert.Equal(LlCuda.Tensors.GgmlType.Q4_0, tensors.Blocks[0].Wq.Type);
        Assert.Equal(LlCuda.Tensors.GgmlType.Q8_0, tensors.Output.Type);
    }

    [Fact]
    public void Synth_Overrides_ChangeTheShape()
    {
        using var scratch = new ScratchDirectory();
        string output = scratch.File("custom.gguf");
        var r = CliRunner.InProcess("model", "synth", "--vocab-from", Vocab, "--type", "f16", "--dim", "96", "--layers", "3",
            "--heads", "6", "--kv-heads", "2", "--ffn", "160", "--ctx", "128", "-o", output);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("96x3 llama", r.Stdout, StringComparison.Ordinal);
        using var f = GgufFile.Open(output);
        var t = LlamaTensors.From(f);
        Assert.Equal((96, 3, 6, 2, 160, 128), (t.Hyperparameters.EmbeddingLength, t.Hyperparameters.BlockCount, t.Hyperparameters.HeadCount,
            t.Hyperparameters.HeadCountKv, t.Hyperparameters.FeedForwardLength, t.Hyperparameters.ContextLength));
        Assert.Equal([96L, 32], t.Blocks[2].Wk.Dimensions);
        Assert.Equal(LlCuda.Tensors.GgmlType.F16, t.Blocks[2].Wk.Type);
    }

    [Fact]
    public void Synth_KQuantOnTinyRows_NotesEachFallbackOnStderr()
    {
        using var scratch = new ScratchDirectory();
        string output = scratch.File("k.gguf");
        var r = CliRunner.InProcess("model", "synth", "--vocab-from", Vocab, "--type", "q4_k_m", "-o", output);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("llcuda: note: blk.0.attn_q.weight: row length 64 is not a multiple of 256 (required by Q4_K): Q5_0 instead", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("Q4_K_M (Q5_0 13, F32 5, Q8_0 3)", r.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "--type", "q4_x" }, 2, "unknown type 'q4_x'")]
    [InlineData(new[] { "--type", "iq2_xxs" }, 69, "type IQ2_XXS is not supported")]
    [InlineData(new[] { "--type", "q4_0", "--dim", "66" }, 2, "--dim 66 is not divisible by --heads 4")]
    [InlineData(new[] { "--type", "q4_0", "--kv-heads", "3" }, 2, "--heads 4 is not a multiple of --kv-heads 3")]
    [InlineData(new[] { "--type", "q4_0", "--std", "-1" }, 2, "--std -1 is out of range")]
    [InlineData(new[] { "--type", "q4_0", "--ffn", "40" }, 69, "'blk.0.ffn_down.weight': row length 40 is not a multiple of Q4_0's block size 32")]
    public void Synth_BadValue_IsAOneLineErrorAndWritesNothing(string[] extra, int exitCode, string message)
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        var r = CliRunner.InProcess(["model", "synth", "--vocab-from", Vocab, "-o", Path.Combine(dir, "x.gguf"), .. extra]);
        AssertOneLineError(r, exitCode, message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Synth_MissingVocabFile_Exits66NamingTheOption()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        var r = CliRunner.InProcess("model", "synth", "--vocab-from", "/no/such/vocab.gguf", "--type", "q8_0", "-o", Path.Combine(dir, "x.gguf"));
        AssertOneLineError(r, 66, "--vocab-from /no/such/vocab.gguf: no such file");
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Synth_UnknownPreset_IsAUsageError()
    {
        var r = CliRunner.InProcess("model", "synth", "--preset", "gpt5", "--vocab-from", Vocab, "--type", "q8_0", "-o", "/tmp/never.gguf");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("gpt5", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_SynthThenInfer_Runs()
    {
        using var scratch = new ScratchDirectory();
        string output = scratch.File("tiny.gguf");
        var r = CliRunner.Published(["model", "synth", "--vocab-from", Vocab, "--type", "q4_0", "-o", output]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("wrote", r.Stdout, StringComparison.Ordinal);
        var infer = CliRunner.Published(["infer", "-m", output, "-p", "Hello", "-n", "4", "--temp", "0", "--json"]);
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        using var doc = JsonDocument.Parse(infer.Stdout);
        Assert.Equal(4, doc.RootElement.GetProperty("tokens").GetArrayLength());
    }
}
