using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Models.Llama;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Engine;

/// <summary>The serving engine on the CPU with stories260K: continuous batching, paged KV, prefix reuse, limits.</summary>
public class InferenceEngineTests
{
    static readonly string[] Prompts =
    [
        "Once upon a time",
        "The cat sat on the mat and",
        "Lily and Tom went to the park. They saw a big",
        "One day, a little bird",
        "",
        "Once upon a time, there was a little dog named Max. He liked to run and",
        "The sun was hot and the children",
        "Tim had a red ball",
    ];

    static InferenceEngine Engine(EngineOptions? options = null)
    {
        var engine = new InferenceEngine(options ?? new EngineOptions { Device = Device.Cpu, ContextLength = 256, MaxSequences = 8, Threads = 2 });
        engine.LoadModel(TestPaths.Stories260K);
        return engine;
    }

    // The same request run alone through the one-sequence generator: the reference.
    static string[] OneAtATime(IEnumerable<InferRequest> requests)
    {
        using var model = LoadedModel.LoadNative(TestPaths.Stories260K, new RunnerOptions { ContextLength = 256, Threads = 2 });
        var generator = new TextGenerator(model.Runner, model.Tokenizer);
        return requests.Select(r => generator.Generate(r.ToGeneration()).Text).ToArray();
    }

    static InferRequest Greedy(string prompt, int max = 48) => new() { Prompt = prompt, MaxTokens = max, Temperature = 0 };

    [Fact]
    public async Task InferAsync_ManyConcurrentGreedyRequests_EqualEachRunAlone()
    {
        var requests = Prompts.Select(p => Greedy(p)).ToArray();
        string[] expected = OneAtATime(requests);
        using var engine = Engine();
        var responses = await Task.WhenAll(requests.Select(r => engine.InferAsync(r)));
        for (int i = 0; i < requests.Length; i++) Assert.Equal(expected[i], responses[i].Text);
        Assert.Contains("Lily", responses[4].Text, StringComparison.Ordinal); // "" = BOS: the known story
        var stats = engine.Stats;
        // Batched: far fewer forward passes than tokens generated.
        Assert.True(stats.Steps < stats.GeneratedTokens / 2, $"{stats.Steps} steps for {stats.GeneratedTokens} tokens");
        Assert.Equal(0, stats.KvBlocksUsed);
        Assert.Equal(0, stats.Running);
    }

    [Fact]
    public async Task InferAsync_SampledRequestsWithSeeds_EqualEachRunAlone()
    {
        var requests = Prompts.Take(5).Select((p, i) => new InferRequest { Prompt = p, MaxTokens = 32, Temperature = 0.9f, Seed = (ulong)(100 + i), RepeatPenalty = 1.1f, PenaltyWindow = 8 + i }).ToArray();
        string[] expected = OneAtATime(requests);
        using var engine = Engine();
        var responses = await Task.WhenAll(requests.Select(r => engine.InferAsync(r)));
        Assert.Equal(expected, responses.Select(r => r.Text));
    }

    [Fact]
    public async Task PrefixReuse_SameOutputs_AndFewerPromptTokensComputed()
    {
        string shared = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. One day, she saw a";
        var requests = new[] { " big dog", " little cat", " red ball", " tall tree" }.Select(s => Greedy(shared + s, 24)).ToArray();
        string[] expected = OneAtATime(requests);

        async Task<(string[] Texts, EngineStats Stats, int[] Cached)> Run(bool reuse)
        {
            using var engine = Engine(new EngineOptions { Device = Device.Cpu, ContextLength = 256, MaxSequences = 8, Threads = 2, PrefixCaching = reuse });
            // The first request warms the cache; the rest arrive after it finished.
            var first = await engine.InferAsync(requests[0]);
            var rest = await Task.WhenAll(requests.Skip(1).Select(r => engine.InferAsync(r)));
            var all = rest.Prepend(first).ToArray();
            return (all.Select(r => r.Text).ToArray(), engine.Stats, all.Select(r => r.CachedPromptTokens).ToArray());
        }

        var on = await Run(true);
        var off = await Run(false);
        Assert.Equal(expected, on.Texts);
        Assert.Equal(expected, off.Texts);
        Assert.Equal(0, on.Cached[0]);
        Assert.All(on.Cached.Skip(1), c => Assert.True(c >= 16, $"only {c} prompt tokens reused"));
        Assert.All(off.Cached, c => Assert.Equal(0, c));
        Assert.True(on.Stats.PromptTokensComputed < off.Stats.PromptTokensComputed * 0.6,
            $"prefix reuse computed {on.Stats.PromptTokensComputed} prompt tokens, without it {off.Stats.PromptTokensComputed}");
        Assert.Equal(off.Stats.PromptTokensComputed - on.Stats.PromptTokensComputed, on.Stats.ReusedPromptTokens);
    }

    [Fact]
    public async Task SmallKvPool_PreemptsAndRecomputes_OutputsUnchanged()
    {
        // 16 blocks of 16 = 256 positions, one context: 8 requests of ~60 positions cannot all fit.
        var requests = Prompts.Select(p => Greedy(p, 48)).ToArray();
        string[] expected = OneAtATime(requests);
        long blockBytes = 2L * 5 * 16 * 4 * 8 * 2; // stories260K: 5 layers, kv_dim 32
        using var engine = Engine(new EngineOptions { Device = Device.Cpu, ContextLength = 256, MaxSequences = 8, Threads = 2, KvCacheBytes = 16 * blockBytes });
        Assert.Equal(16, engine.Stats.KvBlocks);
        var responses = await Task.WhenAll(requests.Select(r => engine.InferAsync(r)));
        Assert.Equal(expected, responses.Select(r => r.Text));
        Assert.True(engine.Stats.Preemptions > 0, "expected the small pool to preempt");
        Assert.Equal(0, engine.Stats.KvBlocksUsed);
    }

    [Fact]
    public async Task StreamAsync_ChunksAddUpToTheFinalText()
    {
        using var engine = Engine();
        var text = new System.Text.StringBuilder();
        var ids = new List<int>();
        InferResponse? final = null;
        await foreach (var chunk in engine.StreamAsync(Greedy("Once upon a time", 40)))
        {
            text.Append(chunk.Text);
            ids.AddRange(chunk.TokenIds);
            final ??= chunk.Final;
        }
        Assert.NotNull(final);
        Assert.Equal(final.Text, text.ToString());
        Assert.Equal(final.TokenIds, ids);
        Assert.Equal(40, final.CompletionTokens);
        Assert.Equal(FinishReasons.Length, final.FinishReason);
        Assert.True(final.TimeToFirstTokenMs <= final.LatencyMs);
    }

    [Fact]
    public async Task StopString_EndsTheRequestWithoutTheStopText()
    {
        using var engine = Engine();
        var r = await engine.InferAsync(new InferRequest { Prompt = "", MaxTokens = 60, Temperature = 0, Stop = ["Lily"] });
        Assert.Equal(FinishReasons.Stop, r.FinishReason);
        Assert.Equal("Once upon a time, there was a little girl named ", r.Text);
    }

    [Fact]
    public async Task Cancellation_EndsTheRequestAndFreesItsBlocks()
    {
        using var engine = Engine();
        using var cts = new CancellationTokenSource();
        int chunks = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in engine.StreamAsync(Greedy("Once upon a time", -1), cts.Token))
                if (++chunks == 5) cts.Cancel();
        });
        // The loop frees the blocks at its next step.
        for (int i = 0; i < 200 && (engine.Stats.KvBlocksUsed > 0 || engine.Stats.Running > 0); i++) await Task.Delay(10);
        Assert.Equal(0, engine.Stats.KvBlocksUsed);
        Assert.Equal(0, engine.Stats.Running);
        // The engine still serves.
        Assert.Equal(8, (await engine.InferAsync(Greedy("Tim", 8))).CompletionTokens);
    }

    [Fact]
    public async Task FullQueue_RefusesAtOnceWithBusy()
    {
        using var engine = Engine(new EngineOptions { Device = Device.Cpu, ContextLength = 256, MaxSequences = 1, MaxTokensPerStep = 64, MaxQueuedRequests = 2, Threads = 1 });
        using var cts = new CancellationTokenSource();
        var running = new List<Task<InferResponse>>();
        var busy = 0;
        for (int i = 0; i < 12; i++)
        {
            // Refused at once: the task is already faulted when InferAsync returns.
            var t = engine.InferAsync(Greedy("Once upon a time", 200), cts.Token);
            if (!t.IsFaulted) { running.Add(t); continue; }
            var e = await Assert.ThrowsAsync<EngineBusyException>(() => t);
            Assert.Contains("busy", e.Message, StringComparison.Ordinal);
            busy++;
        }
        Assert.True(busy >= 12 - 3 - 1, $"only {busy} of 12 refused with one slot and a queue of 2");
        cts.Cancel();
        foreach (var t in running) await Assert.ThrowsAnyAsync<OperationCanceledException>(() => t);
    }

    [Fact]
    public async Task Timeout_FailsTheRequestWithTimeoutException()
    {
        using var engine = Engine();
        var e = await Assert.ThrowsAsync<TimeoutException>(() => engine.InferAsync(Greedy("Once upon a time", -1) with { Timeout = TimeSpan.FromMilliseconds(1) }));
        Assert.Contains("timed out", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadRequests_GetClearErrors_AndTheEngineGoesOn()
    {
        using var engine = Engine();
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => engine.InferAsync(new InferRequest { PromptTokens = Enumerable.Repeat(5, 300).ToArray() }));
        Assert.Contains("context holds 256", tooLong.Message, StringComparison.Ordinal);
        var badToken = await Assert.ThrowsAsync<ArgumentException>(() => engine.InferAsync(new InferRequest { PromptTokens = [1, 9999] }));
        Assert.Contains("outside the vocabulary", badToken.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => engine.InferAsync(new InferRequest { Prompt = "x", MaxTokens = -5 }));
        Assert.Equal(4, (await engine.InferAsync(Greedy("Tim", 4))).CompletionTokens);
        var zero = await engine.InferAsync(Greedy("Tim", 0));
        Assert.Equal(0, zero.CompletionTokens);
    }

    [Fact]
    public void Options_InvalidValues_AreRejectedNamingTheValue()
    {
        Assert.Contains("max sequences 0", Assert.Throws<ArgumentException>(() => new InferenceEngine(new EngineOptions { MaxSequences = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("below max sequences", Assert.Throws<ArgumentException>(() => new InferenceEngine(new EngineOptions { MaxSequences = 64, MaxTokensPerStep = 8 })).Message, StringComparison.Ordinal);
        using var engine = new InferenceEngine(new EngineOptions { Device = Device.Cpu });
        Assert.Contains("LoadModel", Assert.Throws<InvalidOperationException>(() => engine.Stats).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RandomLoad_300Requests_WithCancellations_EndWithEveryBlockFreeAndNoneLost()
    {
        var rng = new Random(11);
        long blockBytes = 2L * 5 * 16 * 4 * 8 * 2;
        using var engine = Engine(new EngineOptions { Device = Device.Cpu, ContextLength = 256, MaxSequences = 16, MaxTokensPerStep = 96, Threads = 2, KvCacheBytes = 40 * blockBytes, MaxQueuedRequests = 400 });
        var words = "once upon a time there was a little girl named Lily she loved to play in the park with her dog".Split(' ');
        var tasks = new List<Task<string>>();
        for (int i = 0; i < 300; i++)
        {
            string prompt = string.Join(' ', Enumerable.Range(0, rng.Next(0, 30)).Select(_ => words[rng.Next(words.Length)]));
            var request = new InferRequest { Prompt = prompt, MaxTokens = rng.Next(1, 40), Temperature = rng.Next(2) == 0 ? 0 : 0.8f, Seed = (ulong)i };
            var cts = rng.Next(4) == 0 ? new CancellationTokenSource(TimeSpan.FromMilliseconds(rng.Next(1, 200))) : null;
            tasks.Add(Outcome(engine.InferAsync(request, cts?.Token ?? default), request.MaxTokens));
        }
        string[] outcomes = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(5));
        Assert.All(outcomes, o => Assert.True(o is "done" or "cancelled", o));
        Assert.Contains("done", outcomes);
        var stats = engine.Stats;
        Assert.Equal(0, stats.KvBlocksUsed);
        Assert.Equal(0, stats.Running);
        Assert.Equal(0, stats.Waiting);

        static async Task<string> Outcome(Task<InferResponse> t, int max)
        {
            try
            {
                var r = await t;
                return r.CompletionTokens <= max && (r.FinishReason == FinishReasons.Length ? r.CompletionTokens == max : true) ? "done" : $"bad response {r}";
            }
            catch (OperationCanceledException) { return "cancelled"; }
            catch (Exception e) { return $"failed: {e.Message}"; }
        }
    }
}
