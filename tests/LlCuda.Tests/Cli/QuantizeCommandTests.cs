using System.Text.Json;
using LlCuda.Gguf;
using LlCuda.Models.Quantization;
using LlCuda.Models.Synthesis;
using LlCuda.Tensors;
using LlCuda.Tests.Models;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class QuantizeCommandTests
{
    // Rows of 256 so the K-quant mixes apply without fallbacks; 4 layers so the ffn_down and
    // attn_v rules of Q4_K_M pick layers 2 and 3 (use_more_bits(i, 4)).
    static string WriteF32Model(string dir)
    {
        string path = Path.Combine(dir, "f32.gguf");
        SyntheticModel.Write(path, new SyntheticModelOptions
        {
            Shape = new SyntheticModelShape { EmbeddingLength = 256, BlockCount = 4, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 256, ContextLength = 128 },
            Target = QuantizationTarget.Parse("F32"), VocabularyPath = TestPaths.Stories260K, Seed = 11,
        });
        return path;
    }

    [Fact]
    public void QuantizeJson_Q4KM_ReportsEveryTensorAndWritesThem()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string input = WriteF32Model(dir), output = Path.Combine(dir, "q4km.gguf");
        var r = CliRunner.InProcess("quantize", input, output, "q4_k_m", "--threads", "2", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("Q4_K_M", root.GetProperty("file_type_name").GetString());
        Assert.Equal(0, root.GetProperty("fallbacks").GetInt32());
        var types = root.GetProperty("tensors").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("type").GetString());
        Assert.Equal("Q6_K", types["output.weight"]);
        Assert.Equal("Q4_K", types["blk.1.ffn_down.weight"]);
        Assert.Equal("Q6_K", types["blk.2.ffn_down.weight"]);
        Assert.Equal("Q6_K", types["blk.3.attn_v.weight"]);
        Assert.Equal("F32", types["blk.0.attn_norm.weight"]);

        using var f = GgufFile.Open(output);
        Assert.Equal(15, f.Metadata.GetInt64("general.file_type"));
        Assert.Equal(2, f.Metadata.GetInt64("general.quantization_version"));
        Assert.Equal(512, f.Metadata.GetArrayOrNull<string>("tokenizer.ggml.tokens")!.Length);
        Assert.All(f.Tensors, t => Assert.Equal(types[t.Name], t.Type.ToString()));
        Assert.Equal(f.Tensors.Sum(t => t.ByteSize), root.GetProperty("output_bytes").GetInt64());
    }

    [Fact]
    public void QuantizePure_Q4KM_GivesQ4KEverywhere()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string input = WriteF32Model(dir), output = Path.Combine(dir, "pure.gguf");
        var r = CliRunner.InProcess("quantize", input, output, "Q4_K_M", "--pure");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Q4_K 30, F32 9", r.Stdout, StringComparison.Ordinal);
        using var f = GgufFile.Open(output);
        Assert.All(f.Tensors, t => Assert.Equal(t.Dimensions.Length == 1 ? GgmlType.F32 : GgmlType.Q4_K, t.Type));
    }

    [Fact]
    public void Quantize_DifferentThreadCounts_GiveTheSameFile()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string input = WriteF32Model(dir);
        Assert.Equal(0, CliRunner.InProcess("quantize", input, Path.Combine(dir, "a.gguf"), "q6_k", "-t", "1").ExitCode);
        Assert.Equal(0, CliRunner.InProcess("quantize", input, Path.Combine(dir, "b.gguf"), "q6_k", "-t", "3").ExitCode);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "a.gguf")), File.ReadAllBytes(Path.Combine(dir, "b.gguf")));
    }

    [Theory]
    [InlineData("/no/such/model.gguf", "q4_0", 66, "/no/such/model.gguf")]
    [InlineData(null, "q9_9", 2, "unknown type 'q9_9'")]
    [InlineData(null, "q2_k_s", 69, "needs an importance matrix")]
    public void Quantize_BadInput_IsAOneLineErrorAndWritesNothing(string? input, string type, int exitCode, string message)
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        input ??= TestPaths.Stories260K;
        var r = CliRunner.InProcess("quantize", input, Path.Combine(dir, "out.gguf"), type);
        Assert.Equal(exitCode, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Quantize_VocabOnlyFile_SaysItHasNoTensors()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        var r = CliRunner.InProcess("quantize", TestPaths.Vocab("llama-spm"), Path.Combine(dir, "out.gguf"), "q8_0");
        Assert.Equal(65, r.ExitCode);
        Assert.Contains("the file has no tensors (a vocabulary-only file?)", r.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void Quantize_Stories260K_ToF16_StillGeneratesTheKnownStart()
    {
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        string output = Path.Combine(dir, "stories-f16.gguf");
        Assert.Equal(0, CliRunner.InProcess("quantize", TestPaths.Stories260K, output, "f16").ExitCode);
        var r = CliRunner.InProcess("infer", "-m", output, "-p", "", "-n", "12", "--temp", "0");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("Once upon a time", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Quantize_Stories260KToQ8_0_NamesTheTensorWhoseRowsDoNotFit()
    {
        // ffn_down rows are 172 wide: no 32-element type fits, and llama.cpp refuses this too.
        using var scratch = new ScratchDirectory();
        string dir = scratch.Path;
        var r = CliRunner.InProcess("quantize", TestPaths.Stories260K, Path.Combine(dir, "out.gguf"), "q8_0");
        Assert.Equal(69, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("ffn_down.weight': row length 172 is not a multiple of Q8_0's block size 32", r.Stderr, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir));
    }
}
