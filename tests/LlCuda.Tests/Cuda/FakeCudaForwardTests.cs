using System.Runtime.InteropServices;
using System.Text.Json;
using LlCuda.Engine;
using LlCuda.Models.Llama;
using LlCuda.Tests.Models;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cuda;

/// <summary>
/// The CUDA forward pass end to end on the fake GPU (FakeCuda/fake_forward.c emulates its
/// kernels from their .cu headers): greedy text, logits against the CPU engine (decode steps
/// captured as CUDA graphs with their copies, and prefill through cuBLAS), and nothing leaked;
/// plus the fake's own C checks (fake_check.c) of its emulations and graph replay.
/// </summary>
public class FakeCudaForwardTests(FakeCudaLibraries fake) : IClassFixture<FakeCudaLibraries>
{
    // First 40 greedy tokens of stories260K from BOS (../shared/models/README.md; InferCommandTests).
    const string KnownText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

    // LlamaCudaRunner replays batches of up to 64 tokens as CUDA graphs and runs longer ones as
    // cuBLAS GEMMs (MaxGraphTokens, GemmThreshold).
    const int GraphTokens = LlamaCudaRunner.MaxGraphTokens;
    const string LongPrompt = "Once upon a time there was a little girl who loved to play in the park. Every day she went to the park with her mother "
        + "and her little brother, and they played on the swings and ran on the grass until the sun went down and the birds flew home to their "
        + "nests in the tall trees by the river where the old man fished all day long.";

    static void AssertNothingLeaked(CliResult r) =>
        Assert.False(r.Stderr.Contains("leaked", StringComparison.Ordinal), $"the fake reported leaks: {r.Stderr}");

    // `llcuda logits --json` on one device: the prompt's tokens and logits [tokens, vocab].
    (int[] Tokens, float[] Logits) Logits(string home, string model, string prompt, string device)
    {
        string output = Path.Combine(home, $"logits-{device}.f32");
        var r = fake.Run(home, ["logits", "-m", model, "-p", prompt, "--out", output, "--device", device, "--json"]);
        Assert.True(r.ExitCode == 0, $"logits --device {device}: {r.Stdout}{r.Stderr}");
        AssertNothingLeaked(r);
        using var doc = JsonDocument.Parse(r.Stdout);
        int[] tokens = [.. doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32())];
        int vocab = doc.RootElement.GetProperty("n_vocab").GetInt32();
        float[] logits = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(output)).ToArray();
        Assert.Equal(tokens.Length * vocab, logits.Length);
        return (tokens, logits);
    }

    void AssertCudaMatchesCpu(string model, string prompt, double limit, Func<int, bool> tokenCount)
    {
        using var home = new ScratchDirectory();
        var (tokens, cuda) = Logits(home.Path, model, prompt, "cuda");
        Assert.True(tokenCount(tokens.Length), $"the prompt has {tokens.Length} tokens, not the count this test needs");
        var (cpuTokens, cpu) = Logits(home.Path, model, prompt, "cpu");
        Assert.Equal(cpuTokens, tokens);
        Assert.All(cuda, v => Assert.True(float.IsFinite(v)));
        double error = PromptLogits.NormalizedRmsError(cuda, cpu);
        Assert.True(error <= limit, $"normalized RMS error {error:E2} of the CUDA logits against the CPU engine's (limit {limit:E0})");
    }

    static string SynthQ4_0(ScratchDirectory dir)
    {
        // The tiny preset (width 64, 2 layers, GQA 2, ffn 192) in Q4_0; output.weight falls back to
        // Q8_0 (rows of 64), so both kernels run.
        string path = dir.File("tiny-q4_0.gguf");
        var r = CliRunner.InProcess("model", "synth", "--preset", "tiny", "--vocab-from", TestPaths.Vocab("llama-spm"), "--type", "q4_0", "--seed", "11", "-o", path);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return path;
    }

    [FakeCudaFact]
    public void InferGreedy_Stories260KOnTheFakeGpu_PrintsTheKnownText()
    {
        using var home = new ScratchDirectory();
        var r = fake.Run(home.Path, ["infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0", "--device", "cuda"]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.StartsWith(KnownText, r.Stdout, StringComparison.Ordinal);
        Assert.Contains("llcuda: CUDA,", r.Stderr, StringComparison.Ordinal);
        AssertNothingLeaked(r);
    }

    [FakeCudaFact]
    public void InferGreedy_DecodeAfterALongPrompt_GraphsCopyOnlyTheirOwnTokensInputs()
    {
        // The prompt (over 8 tokens) grows the input buffers to a prefill chunk (256 positions at
        // --ctx 256); the one-token decode graph must still copy one token's inputs per replay:
        // its embedding row (dim 64, fp32) and its ints (position, output row, and the block
        // table row of ceil(256 / 16) = 16 blocks), not the buffers' capacity.
        using var home = new ScratchDirectory();
        var r = fake.Run(home.Path, ["infer", "-m", TestPaths.Stories260K, "-p", "Once upon a time there was a little girl who loved to play in the park",
            "-n", "6", "--temp", "0", "--ctx", "256", "--device", "cuda"], new() { ["FAKE_CUDA_TRACE_CAPTURE"] = "1" });
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        AssertNothingLeaked(r);
        var sizes = System.Text.RegularExpressions.Regex.Matches(r.Stderr, @"fake-cuda: captured HtoD (\d+) bytes")
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().Order();
        Assert.Equal([4 * (2 + 16), 64 * 4], sizes);
    }

    [FakeCudaFact]
    public void Logits_Stories260KShortPrompt_CudaMatchesCpuWithin1e3() =>
        AssertCudaMatchesCpu(TestPaths.Stories260K, "Once upon a time", 1e-3, n => n <= GraphTokens);

    [FakeCudaFact]
    public void Logits_SyntheticQ4_0LongPrompt_GemmPrefillMatchesCpuWithin2e2()
    {
        using var dir = new ScratchDirectory();
        AssertCudaMatchesCpu(SynthQ4_0(dir), LongPrompt, 2e-2, n => n > GraphTokens);
    }

    [FakeCudaFact]
    public void Logits_SyntheticQ4_0ShortPrompt_GraphDecodeMatchesCpuWithin2e2()
    {
        using var dir = new ScratchDirectory();
        AssertCudaMatchesCpu(SynthQ4_0(dir), "Once upon a time", 2e-2, n => n <= GraphTokens);
    }

    [FakeCudaFact]
    public void BenchJson_OnTheFakeGpu_SaysCudaAndReportsTheVramItHolds()
    {
        using var home = new ScratchDirectory();
        var r = fake.Run(home.Path, ["bench", "-m", TestPaths.Stories260K, "-p", "16", "-n", "8", "-r", "1", "--device", "cuda", "--json"]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        AssertNothingLeaked(r);
        using var doc = JsonDocument.Parse(r.Stdout);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["pp16", "tg8"], rows.Select(x => x.GetProperty("test").GetString()));
        foreach (var row in rows)
        {
            Assert.Equal("CUDA", row.GetProperty("backend").GetString());
            Assert.Equal("llcuda fake GPU", row.GetProperty("gpu").GetString());
            // The weights (the model's 1.1 MiB of F32 tensors, less the 128 KiB of token embeddings
            // kept on the host), the KV cache of 16 positions and the activation buffers: about
            // 1.2 MiB, and nothing near a default-context allocation.
            long vram = row.GetProperty("vram_bytes").GetInt64();
            Assert.InRange(vram, 900L << 10, 64L << 20);
            Assert.True(row.GetProperty("tps_mean").GetDouble() > 0);
        }
    }

    [FakeCudaFact]
    public void FakeChecks_EmulationsAndGraphReplay_AllPassAndNothingLeaks()
    {
        using var dir = new ScratchDirectory();
        string program = dir.File("fake_check");
        FakeCudaLibraries.Compile(["-o", program, Path.Combine(FakeCudaLibraries.SourceFolder, "fake_check.c"), .. FakeCudaLibraries.LibrarySources]);
        var psi = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "fake_check did not finish in 60 s");
        Assert.True(p.ExitCode == 0, stdout + stderr.Result);
        Assert.EndsWith("fake-check: 0 failures\n", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("leaked", stderr.Result, StringComparison.Ordinal);
    }

    [FakeCudaFact]
    public void Batch_ConcurrentGreedyRequestsOnCuda_EqualTheCpuEngine()
    {
        // The serving engine on the CUDA runner: several sequences per decode graph, paged KV
        // blocks from the engine's block tables, prefix reuse of the shared opening.
        using var dir = new ScratchDirectory();
        string[] prompts = ["Once upon a time", "Once upon a time, there was a little", "The cat sat", "Lily went to the park", "", "Tim had a big red ball and"];
        string input = dir.File("prompts.jsonl");
        File.WriteAllLines(input, prompts.Select((p, i) => $"{{\"id\": {i}, \"prompt\": \"{JsonEncodedText.Encode(p)}\"}}"));
        var texts = new Dictionary<string, string[]>();
        foreach (var device in new[] { "cpu", "cuda" })
        {
            string output = dir.File($"results-{device}.jsonl");
            var r = fake.Run(dir.Path, ["batch", "-m", TestPaths.Stories260K, "-i", input, "-o", output, "--concurrency", "4", "-n", "24", "--temp", "0", "--ctx", "128", "--device", device]);
            Assert.True(r.ExitCode == 0, $"batch --device {device}: {r.Stdout}{r.Stderr}");
            AssertNothingLeaked(r);
            texts[device] = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement)
                .OrderBy(e => e.GetProperty("id").GetInt32()).Select(e => e.GetProperty("text").GetString()!).ToArray();
        }
        // The cuda run compiled (and cached) the forward kernels: it ran on the (fake) GPU.
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir.Path, "cache", "kernels")));
        Assert.Equal(prompts.Length, texts["cuda"].Length);
        Assert.Equal(texts["cpu"], texts["cuda"]);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily", texts["cuda"][4], StringComparison.Ordinal);
    }
}
