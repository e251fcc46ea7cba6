using System.Text.Json;
using LlCuda.LlamaCpp;
using LlCuda.Tests.Support;
using LlCuda.Tests.Tokenizers;

namespace LlCuda.Tests.Cli;

/// <summary>
/// `llcuda infer --engine llamacpp`, in process (under LlamaCppReference.Gate, since llama.cpp
/// is shared with other test classes) and through the published NativeAOT binary, which must
/// find the bundled libllama beside itself.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class InferLlamaCppTests
{
    const string KnownText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";
    // First 40 greedy tokens from BOS (../shared/models/README.md), as the native engine gives them.
    static readonly int[] KnownTokens = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292, 411, 322, 265, 282, 295, 433, 426, 385, 328, 432, 358, 394, 261, 370, 432, 352];

    static CliResult InProcess(params string[] args)
    {
        lock (LlamaCppReference.Gate) return CliRunner.InProcess(args);
    }

    [Fact]
    public void InferJson_LlamaCppEngine_GivesTheKnownTokens()
    {
        var r = InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0", "--json", "--engine", "llamacpp");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(KnownTokens, doc.RootElement.GetProperty("tokens").EnumerateArray().Select(e => e.GetInt32()));
        Assert.StartsWith(KnownText, doc.RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Infer_LlamaCppEngine_StatsLineNamesTheLibrary()
    {
        var r = InProcess("infer", "-m", TestPaths.Stories260K, "-p", "Once", "-n", "8", "--temp", "0", "--engine", "llamacpp");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith("llcuda: llama.cpp CPU (bundled ", r.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--gpu-layers", "2")]
    [InlineData("--llamacpp-lib", "/x/libllama.so")]
    public void Infer_LlamaCppOptionWithTheNativeEngine_IsAUsageError(string option, string value)
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "x", option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains($"{option} applies to --engine llamacpp only", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Infer_LlamaCppVocabOnlyFile_IsOneLineExit65()
    {
        var r = InProcess("infer", "-m", TestPaths.Vocab("llama-spm"), "-p", "x", "--engine", "llamacpp");
        Assert.Equal(65, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
    }

    [PublishedBinaryFact]
    public void PublishedBinary_InferLlamaCpp_PrintsTheKnownTextOnTheBundledLibrary()
    {
        var r = CliRunner.Published(["infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0", "--engine", "llamacpp"],
            environment: new Dictionary<string, string?> { [LlamaCppOptions.LibraryEnvironmentVariable] = null });
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(KnownText, r.Stdout, StringComparison.Ordinal);
        // One stats line, nothing from llama.cpp's own log, and the library named.
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("llcuda: llama.cpp CPU (bundled ", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_LlamaCppLibFromTheEnvironment_IsTheOneLoadedAndReported()
    {
        string lib = Path.Combine(Path.GetDirectoryName(CliRunner.PublishedBinary)!, "runtimes", "linux-x64", "native", "avx2", "libllama.so");
        var r = CliRunner.Published(["infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0", "--engine", "llamacpp"],
            environment: new Dictionary<string, string?> { [LlamaCppOptions.LibraryEnvironmentVariable] = lib });
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(KnownText, r.Stdout, StringComparison.Ordinal);
        Assert.StartsWith($"llcuda: llama.cpp CPU ({lib})", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_MissingLlamaCppLib_IsOneLineExit69NamingIt()
    {
        var r = CliRunner.Published(["infer", "-m", TestPaths.Stories260K, "-p", "x", "--engine", "llamacpp", "--llamacpp-lib", "/no/such/libllama.so"]);
        Assert.Equal(69, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("--llamacpp-lib=/no/such/libllama.so: no such file", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_UserLibraryWithoutItsGgml_NamesTheMissingDependency()
    {
        // A libllama copied away from its libggml*.so: what a half-installed CUDA build looks like.
        string dir = TestPaths.NewTempDir();
        string lib = Path.Combine(dir, "libllama.so");
        File.Copy(Path.Combine(Path.GetDirectoryName(CliRunner.PublishedBinary)!, "runtimes", "linux-x64", "native", "avx2", "libllama.so"), lib);
        var r = CliRunner.Published(["infer", "-m", TestPaths.Stories260K, "-p", "x", "--engine", "llamacpp"],
            environment: new Dictionary<string, string?> { [LlamaCppOptions.LibraryEnvironmentVariable] = lib });
        Assert.Equal(69, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains($"LLCUDA_LLAMACPP_LIB={lib}: cannot load {lib}: libggml.so: cannot open shared object file", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("unset LLCUDA_LLAMACPP_LIB", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_LlamaCppRejectsTheModel_OneLineAndNoLlamaCppLog()
    {
        var r = CliRunner.Published(["infer", "-m", TestPaths.Vocab("llama-spm"), "-p", "x", "--engine", "llamacpp"]);
        Assert.Equal(65, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("llama.cpp could not load the model (llama.cpp: ", r.Stderr, StringComparison.Ordinal);
    }
}
