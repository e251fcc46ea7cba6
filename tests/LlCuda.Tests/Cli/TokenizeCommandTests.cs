using System.Text.Json;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class TokenizeCommandTests
{
    static string Spm => TestPaths.Vocab("llama-spm");

    static int[] JsonIds(string stdout)
    {
        using var doc = JsonDocument.Parse(stdout);
        Assert.Single(doc.RootElement.EnumerateObject());
        return doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    }

    [Fact]
    public void TokenizeJson_MatchesLlamaCpp_WithBos()
    {
        var r = CliRunner.InProcess("tokenize", "-m", Spm, "-p", "Hello world", "--json");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(LlamaCppReference.Tokenize(Spm, "Hello world", addSpecial: true, parseSpecial: false), JsonIds(r.Stdout));
    }

    [Fact]
    public void Tokenize_NoBos_DropsTheBosToken()
    {
        var r = CliRunner.InProcess("tokenize", "-m", Spm, "-p", "Hello world", "--no-bos");
        Assert.Equal("15043 3186\n", r.Stdout);
    }

    [Fact]
    public void Tokenize_Special_ParsesControlTokenTextOnlyWhenAsked()
    {
        var plain = JsonIds(CliRunner.InProcess("tokenize", "-m", Spm, "-p", "<s>hi", "--no-bos", "--json").Stdout);
        var special = JsonIds(CliRunner.InProcess("tokenize", "-m", Spm, "-p", "<s>hi", "--no-bos", "--special", "--json").Stdout);
        Assert.Equal(1, special[0]);
        Assert.DoesNotContain(1, plain);
        Assert.Equal(LlamaCppReference.Tokenize(Spm, "<s>hi", addSpecial: false, parseSpecial: true), special);
        Assert.Equal(LlamaCppReference.Tokenize(Spm, "<s>hi", addSpecial: false, parseSpecial: false), plain);
    }

    [Fact]
    public void Tokenize_FromFile_EqualsFromPrompt()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "text.txt");
        File.WriteAllText(path, "Once upon a time, ünïcode 🦙\nand a new line");
        var fromFile = CliRunner.InProcess("tokenize", "-m", Spm, "-f", path, "--json");
        var fromPrompt = CliRunner.InProcess("tokenize", "-m", Spm, "-p", "Once upon a time, ünïcode 🦙\nand a new line", "--json");
        Assert.Equal(0, fromFile.ExitCode);
        Assert.Equal(fromPrompt.Stdout, fromFile.Stdout);
    }

    [Fact]
    public void Tokenize_BothPromptAndFile_IsAUsageError()
    {
        var r = CliRunner.InProcess("tokenize", "-m", Spm, "-p", "a", "-f", "b");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("exactly one of --prompt", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenize_InvalidUtf8File_SaysWhereAndWhatToDo()
    {
        string path = Path.Combine(TestPaths.NewTempDir(), "latin1.txt");
        File.WriteAllBytes(path, [(byte)'c', (byte)'a', (byte)'f', 0xE9]);
        var r = CliRunner.InProcess("tokenize", "-m", Spm, "-f", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("not valid UTF-8 at byte 3", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Detokenize_RoundTripsTokenize()
    {
        string text = "The quick brown fox, 1234 ünïcode 🦙";
        var ids = JsonIds(CliRunner.InProcess("tokenize", "-m", Spm, "-p", text, "--json").Stdout);
        var r = CliRunner.InProcess(["detokenize", "-m", Spm, .. ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(text + "\n", r.Stdout);
    }

    [Fact]
    public void Detokenize_AcceptsABracketedCommaList()
    {
        var r = CliRunner.InProcess("detokenize", "-m", TestPaths.Stories260K, "[1, 403, 407, 261]", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("Once upon a", doc.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public void Detokenize_IdOutsideTheVocabulary_NamesTheIdAndTheRange()
    {
        var r = CliRunner.InProcess("detokenize", "-m", TestPaths.Stories260K, "1", "512");
        Assert.Equal(65, r.ExitCode);
        Assert.Contains("token id 512 is outside the vocabulary of 512 tokens", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Detokenize_NotANumber_IsAUsageError()
    {
        var r = CliRunner.InProcess("detokenize", "-m", TestPaths.Stories260K, "12x");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'12x' is not a token id", r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_TokenizeBpeText_MatchesInProcess()
    {
        var published = CliRunner.Published(["tokenize", "-m", TestPaths.Vocab("gpt-2"), "-p", "Hello world, it's 2026!", "--json"]);
        var inProcess = CliRunner.InProcess("tokenize", "-m", TestPaths.Vocab("gpt-2"), "-p", "Hello world, it's 2026!", "--json");
        Assert.Equal(0, published.ExitCode);
        Assert.Equal(inProcess.Stdout, published.Stdout);
    }
}
