using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Engine;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

/// <summary>`llcuda batch` on stories260K (CPU): results against one-at-a-time generation, resume, bad lines, overrides.</summary>
public class BatchCommandTests
{
    const string KnownText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

    static readonly string[] Prompts =
    [
        "Once upon a time",
        "The cat sat on the mat and",
        "",
        "Lily and Tom went to the park. They saw a big",
        "One day, a little bird",
        "Tim had a red ball",
    ];

    static string Quote(string s) => $"\"{JsonEncodedText.Encode(s)}\"";

    // {"id": ID, "prompt": "PROMPT"EXTRA}: a number id stays a number.
    static string Line(object id, string prompt, string extra = "") =>
        $"{{\"id\": {(id is string s ? Quote(s) : Convert.ToString(id, System.Globalization.CultureInfo.InvariantCulture))}, \"prompt\": {Quote(prompt)}{extra}}}";

    static string WriteInput(string dir, params string[] lines)
    {
        string path = Path.Combine(dir, "prompts.jsonl");
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
        return path;
    }

    // Greedy, 32 tokens, unless `extra` gives --temp or -n itself.
    static CliResult Batch(string input, string output, params string[] extra)
    {
        List<string> args = ["batch", "-m", TestPaths.Stories260K, "-i", input, "-o", output, "--device", "cpu", "--ctx", "256", "--threads", "2", .. extra];
        if (!extra.Contains("--temp")) args.AddRange(["--temp", "0"]);
        if (!extra.Contains("-n")) args.AddRange(["-n", "32"]);
        return CliRunner.InProcess([.. args]);
    }

    // The results file: id (its JSON text) -> result object, checking every line is whole JSON and ids are unique.
    static Dictionary<string, JsonElement> Results(string path)
    {
        var results = new Dictionary<string, JsonElement>();
        foreach (string line in File.ReadAllLines(path))
        {
            var e = JsonDocument.Parse(line).RootElement;
            Assert.True(results.TryAdd(e.GetProperty("id").GetRawText(), e), $"id {e.GetProperty("id").GetRawText()} is in the results twice");
        }
        return results;
    }

    static string[] OneAtATime(IEnumerable<string> prompts, int maxTokens)
    {
        using var model = LoadedModel.LoadNative(TestPaths.Stories260K, new RunnerOptions { ContextLength = 256, Threads = 2 });
        var generator = new TextGenerator(model.Runner, model.Tokenizer);
        return prompts.Select(p => generator.Generate(new GenerationRequest { Prompt = p, MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy }).Text).ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Batch_GreedyPrompts_EqualOneAtATimeGenerationAtAnyConcurrency(int concurrency)
    {
        string dir = TestPaths.NewTempDir();
        string input = WriteInput(dir, Prompts.Select((p, i) => Line(i, p)).ToArray());
        string output = Path.Combine(dir, "results.jsonl");

        var r = Batch(input, output, "--concurrency", concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(ExitCodes.Success, r.ExitCode);
        Assert.Contains($"{Prompts.Length} done, 0 skipped (already in output), 0 bad lines, 0 failed", r.Stderr, StringComparison.Ordinal);
        var results = Results(output);
        string[] expected = OneAtATime(Prompts, 32);
        Assert.Equal(Prompts.Length, results.Count);
        for (int i = 0; i < Prompts.Length; i++)
        {
            var e = results[i.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            Assert.Equal(expected[i], e.GetProperty("text").GetString());
            Assert.True(e.GetProperty("prompt_tokens").GetInt32() >= 1);
            Assert.True(e.GetProperty("ttft_ms").GetDouble() <= e.GetProperty("latency_ms").GetDouble());
            Assert.Contains(e.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
            if (e.GetProperty("finish_reason").GetString() == "length") Assert.Equal(32, e.GetProperty("tokens").GetInt32());
        }
        Assert.StartsWith(KnownText[..40], results["2"].GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_RerunWithTwoMoreLines_RunsOnlyTheNewIds()
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "results.jsonl");
        string[] lines = Prompts.Take(5).Select((p, i) => Line($"r{i}", p)).ToArray();
        Assert.Equal(ExitCodes.Success, Batch(WriteInput(dir, lines[..3]), output).ExitCode);
        string firstRun = File.ReadAllText(output);

        var r = Batch(WriteInput(dir, lines), output, "--concurrency", "2");

        Assert.Equal(ExitCodes.Success, r.ExitCode);
        Assert.Contains("already holds 3 results", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("2 done, 3 skipped (already in output), 0 bad lines, 0 failed", r.Stderr, StringComparison.Ordinal);
        Assert.StartsWith(firstRun, File.ReadAllText(output), StringComparison.Ordinal);
        Assert.Equal(["\"r0\"", "\"r1\"", "\"r2\"", "\"r3\"", "\"r4\""], Results(output).Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.02)] // torn inside the line's first bytes ({"i)
    public void Batch_TornLastLineInOutput_IsRemovedSaidOnStderrAndItsRequestRunsAgain(double keep)
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "results.jsonl");
        string input = WriteInput(dir, Prompts.Take(3).Select((p, i) => Line(i, p)).ToArray());
        Assert.Equal(ExitCodes.Success, Batch(input, output, "--concurrency", "1").ExitCode);
        string[] whole = File.ReadAllLines(output);
        // A crash in the middle of the last write.
        File.WriteAllText(output, string.Join('\n', whole[..2]) + "\n" + whole[2][..(int)(whole[2].Length * keep)]);

        var r = Batch(input, output);

        Assert.Equal(ExitCodes.Success, r.ExitCode);
        Assert.Contains("results.jsonl:3: removed an incomplete last line", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("1 done, 2 skipped (already in output)", r.Stderr, StringComparison.Ordinal);
        var results = Results(output);
        Assert.Equal(3, results.Count);
        Assert.Equal(JsonDocument.Parse(whole[2]).RootElement.GetProperty("text").GetString(),
            results[JsonDocument.Parse(whole[2]).RootElement.GetProperty("id").GetRawText()].GetProperty("text").GetString());
    }

    [Fact]
    public void Batch_OutputWithALineItDidNotWrite_RefusesAndLeavesTheFileUnchanged()
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "notes.txt");
        const string Foreign = "my notes\nmore notes";
        File.WriteAllText(output, Foreign);

        var r = Batch(WriteInput(dir, Line(1, "Once")), output);

        Assert.Equal(ExitCodes.DataError, r.ExitCode);
        Assert.Contains("notes.txt:", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("not a result line", r.Stderr, StringComparison.Ordinal);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Equal(Foreign, File.ReadAllText(output));
    }

    [Fact]
    public void Batch_BadLines_AreReportedWithLineNumbersAndTheRestRun()
    {
        string dir = TestPaths.NewTempDir();
        string input = WriteInput(dir,
            Line(1, "Once upon a time"),                                   // 1 good
            "this is not json",                                            // 2
            "",                                                            // 3 blank: skipped silently
            "{\"id\": 3}",                                                 // 4 no prompt
            Line(4, "Tim", ", \"temperature\": -1"),                       // 5 bad value
            Line(5, "Tim", ", \"max_tokens\": \"ten\""),                   // 6 wrong type
            Line(1, "duplicate"),                                          // 7 duplicate id
            "{\"id\": [1], \"prompt\": \"x\"}",                           // 8 id of the wrong kind
            "[1, 2]",                                                      // 9 not an object
            Line("last", "The cat"));                                      // 10 good
        string output = Path.Combine(dir, "results.jsonl");

        var r = Batch(input, output);

        Assert.Equal(ExitCodes.PartialFailure, r.ExitCode);
        string prefix = $"{input}:";
        Assert.Contains(prefix + "2: not valid JSON", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(prefix + "4: \"prompt\" is missing", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(prefix + "5: \"temperature\" must be a number >= 0", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(prefix + "6: \"max_tokens\" must be an integer >= -1", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(prefix + "7: id 1 repeats the id of line 1", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(prefix + "8: \"id\" must be a string or a number", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(prefix + "9: expected a JSON object", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(prefix + "3:", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("2 done, 0 skipped (already in output), 7 bad lines, 0 failed", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(["\"last\"", "1"], Results(output).Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Batch_PromptLongerThanTheContext_CountsAsFailedAndTheRestRun()
    {
        string dir = TestPaths.NewTempDir();
        string input = WriteInput(dir, Line("long", string.Join(' ', Enumerable.Repeat("Once upon a time", 100))), Line("short", "Tim"));
        string output = Path.Combine(dir, "results.jsonl");

        var r = Batch(input, output);

        Assert.Equal(ExitCodes.PartialFailure, r.ExitCode);
        Assert.Matches(@"prompts\.jsonl:1: id ""long"" failed: the prompt has \d+ tokens but the context holds 256", r.Stderr);
        Assert.Contains("1 done, 0 skipped (already in output), 0 bad lines, 1 failed", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(["\"short\""], Results(output).Keys);
    }

    [Fact]
    public async Task Batch_PerLineOverrides_TakeEffectOverTheCommandLine()
    {
        string dir = TestPaths.NewTempDir();
        string input = WriteInput(dir,
            Line("three", "", ", \"max_tokens\": 3"),
            Line("stop", "", ", \"max_tokens\": 60, \"stop\": \"Lily\""),
            Line("stops", "", ", \"max_tokens\": 60, \"stop\": [\"park\", \"girl\"]"),
            Line("default", ""),
            Line("sampled", "Once", ", \"temperature\": 1.5, \"seed\": 7, \"top_k\": 0, \"top_p\": 1, \"min_p\": 0"));
        string output = Path.Combine(dir, "results.jsonl");

        var r = Batch(input, output, "-n", "10", "--stop", "never-appears");

        Assert.Equal(ExitCodes.Success, r.ExitCode);
        var results = Results(output);
        Assert.Equal(3, results["\"three\""].GetProperty("tokens").GetInt32());
        Assert.Equal("length", results["\"three\""].GetProperty("finish_reason").GetString());
        Assert.Equal("Once upon a time, there was a little girl named ", results["\"stop\""].GetProperty("text").GetString());
        Assert.Equal("stop", results["\"stop\""].GetProperty("finish_reason").GetString());
        Assert.Equal("Once upon a time, there was a little ", results["\"stops\""].GetProperty("text").GetString());
        Assert.Equal(10, results["\"default\""].GetProperty("tokens").GetInt32());
        // The same seed at temperature 1.5 samples the same text as the engine does alone, and not the greedy one.
        using var engine = new InferenceEngine(new EngineOptions { Device = Device.Cpu, ContextLength = 256, MaxSequences = 1, Threads = 2 });
        engine.LoadModel(TestPaths.Stories260K);
        var alone = await engine.InferAsync(new InferRequest { Prompt = "Once", MaxTokens = 10, Temperature = 1.5f, Seed = 7, TopK = 0, TopP = 1, MinP = 0, Stop = ["never-appears"] });
        Assert.Equal(alone.Text, results["\"sampled\""].GetProperty("text").GetString());
        Assert.NotEqual(OneAtATime(["Once"], 10)[0], alone.Text);
    }

    [Fact]
    public void Batch_NumberAndStringIds_KeepTheirJsonTypeAndStayDistinct()
    {
        string dir = TestPaths.NewTempDir();
        string input = WriteInput(dir, Line(7, "Tim", ", \"max_tokens\": 2"), Line("7", "Tim", ", \"max_tokens\": 2"), "{\"id\": 7.0, \"prompt\": \"x\"}");
        string output = Path.Combine(dir, "results.jsonl");

        var r = Batch(input, output);

        // 7.0 is the number 7 again: a duplicate.
        Assert.Equal(ExitCodes.PartialFailure, r.ExitCode);
        Assert.Contains("prompts.jsonl:3: id 7.0 repeats the id of line 1", r.Stderr, StringComparison.Ordinal);
        var kinds = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").ValueKind).Order().ToArray();
        Assert.Equal([JsonValueKind.String, JsonValueKind.Number], kinds);
    }

    [Fact]
    public void BatchJson_PrintsOneSummaryObjectOnStdout()
    {
        string dir = TestPaths.NewTempDir();
        string input = WriteInput(dir, Line(1, "Once", ", \"max_tokens\": 5"), Line(2, "Tim", ", \"max_tokens\": 5"), "{oops");
        string output = Path.Combine(dir, "results.jsonl");

        var r = Batch(input, output, "--json");

        Assert.Equal(ExitCodes.PartialFailure, r.ExitCode);
        var s = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(2, s.GetProperty("done").GetInt32());
        Assert.Equal(0, s.GetProperty("skipped").GetInt32());
        Assert.Equal(1, s.GetProperty("bad_lines").GetInt32());
        Assert.Equal(0, s.GetProperty("failed").GetInt32());
        Assert.Equal(10, s.GetProperty("tokens").GetInt64());
        Assert.Equal(Path.GetFullPath(output), s.GetProperty("output").GetString());
        Assert.Contains("prompts.jsonl:3: not valid JSON", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("done,", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_MissingInput_ExitsNoInputWithOneLineSayingWhatToGive()
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "results.jsonl");

        var r = Batch(Path.Combine(dir, "nope.jsonl"), output);

        Assert.Equal(ExitCodes.NoInput, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("nope.jsonl: no such file; give -i a JSON Lines file", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void Batch_OutputInAMissingDirectory_ExitsCannotWriteWithOneLine()
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "no-such-dir", "results.jsonl");

        var r = Batch(WriteInput(dir, Line(1, "Once")), output);

        Assert.Equal(ExitCodes.CannotWrite, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains("does not exist; create it", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Batch_OutputSameAsInput_IsAUsageErrorAndTheInputIsUntouched()
    {
        string dir = TestPaths.NewTempDir();
        string input = WriteInput(dir, Line(1, "Once"));
        string before = File.ReadAllText(input);

        var r = Batch(input, input);

        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Contains("-i and -o are the same file", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(input));
    }

    [Fact]
    public void Batch_ModelThatDoesNotLoad_LeavesNoEmptyResultsFile()
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "results.jsonl");

        var r = CliRunner.InProcess("batch", "-m", Path.Combine(dir, "missing.gguf"), "-i", WriteInput(dir, Line(1, "Once")), "-o", output, "--device", "cpu");

        Assert.Equal(ExitCodes.NoInput, r.ExitCode);
        Assert.Contains("missing.gguf", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData("--concurrency", "0", "--concurrency 0 is out of range")]
    [InlineData("--temp", "-1", "--temp -1 is out of range")]
    [InlineData("--repeat-last-n", "-2", "--repeat-last-n -2 is out of range")]
    public void Batch_InvalidOption_IsAOneLineUsageError(string option, string value, string message)
    {
        string dir = TestPaths.NewTempDir();
        var r = Batch(WriteInput(dir, Line(1, "Once")), Path.Combine(dir, "results.jsonl"), option, value);
        Assert.Equal(ExitCodes.Usage, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_Batch_WritesResultsResumesAndPrintsJson()
    {
        string dir = TestPaths.NewTempDir();
        string output = Path.Combine(dir, "results.jsonl");
        string input = WriteInput(dir, Line(1, "", ", \"max_tokens\": 40"), Line("b", "Tim", ", \"max_tokens\": 3, \"stop\": [\"zzz\"]"), "not json");
        string[] args = ["batch", "-m", TestPaths.Stories260K, "-i", input, "-o", output, "--device", "cpu", "--ctx", "256", "--temp", "0", "--concurrency", "2", "--json"];

        var r = CliRunner.Published(args);

        Assert.Equal(ExitCodes.PartialFailure, r.ExitCode);
        Assert.Contains("prompts.jsonl:3: not valid JSON", r.Stderr, StringComparison.Ordinal);
        var summary = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(2, summary.GetProperty("done").GetInt32());
        Assert.Equal(1, summary.GetProperty("bad_lines").GetInt32());
        var results = Results(output);
        Assert.StartsWith(KnownText, results["1"].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Number, results["1"].GetProperty("id").ValueKind);
        Assert.Equal(3, results["\"b\""].GetProperty("tokens").GetInt32());

        var again = CliRunner.Published(args);
        Assert.Equal(2, JsonDocument.Parse(again.Stdout).RootElement.GetProperty("skipped").GetInt32());
        Assert.Equal(2, File.ReadAllLines(output).Length);
    }
}
