namespace LlCuda.Engine;

/// <summary>One request to <see cref="InferenceEngine"/>: a prompt, how much to generate, how to sample, when to stop.</summary>
public sealed record InferRequest
{
    /// <summary>Caller's id, echoed in the response (the engine gives one when null).</summary>
    public string? Id { get; init; }
    /// <summary>Prompt text; "" means BOS only. Ignored when <see cref="PromptTokens"/> is given.</summary>
    public string Prompt { get; init; } = "";
    /// <summary>The prompt as token ids (BOS included if wanted), instead of text.</summary>
    public IReadOnlyList<int>? PromptTokens { get; init; }
    /// <summary>Most tokens to generate; -1 = until the context is full.</summary>
    public int MaxTokens { get; init; } = 128;
    /// <summary>Sampling temperature; 0 = greedy.</summary>
    public float Temperature { get; init; } = new SamplingOptions().Temperature;
    public int TopK { get; init; } = new SamplingOptions().TopK;
    public float TopP { get; init; } = new SamplingOptions().TopP;
    public float MinP { get; init; } = new SamplingOptions().MinP;
    public float RepeatPenalty { get; init; } = 1.0f;
    public float FrequencyPenalty { get; init; }
    public float PresencePenalty { get; init; }
    /// <summary>Tokens the penalties look back over (0 turns them off).</summary>
    public int PenaltyWindow { get; init; } = new SamplingOptions().PenaltyWindow;
    /// <summary>Sampling seed (null: the default seed, so a request repeats exactly).</summary>
    public ulong? Seed { get; init; }
    /// <summary>Generation ends when the text contains one of these; the stop text is not returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Parse special-token text in the prompt into control tokens.</summary>
    public bool ParseSpecial { get; init; }
    /// <summary>Stop at end-of-generation tokens (EOS, EOT).</summary>
    public bool StopAtEndOfGeneration { get; init; } = true;
    /// <summary>Longest this request may take (overrides <see cref="EngineOptions.RequestTimeout"/>).</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The request as the generation layer sees it (validated).</summary>
    public GenerationRequest ToGeneration()
    {
        var defaults = new SamplingOptions();
        var r = new GenerationRequest
        {
            Prompt = Prompt ?? "",
            MaxTokens = MaxTokens,
            Stop = Stop ?? [],
            ParseSpecial = ParseSpecial,
            StopAtEndOfGeneration = StopAtEndOfGeneration,
            Sampling = new SamplingOptions
            {
                Temperature = Temperature, TopK = TopK, TopP = TopP, MinP = MinP, RepeatPenalty = RepeatPenalty,
                FrequencyPenalty = FrequencyPenalty, PresencePenalty = PresencePenalty, PenaltyWindow = PenaltyWindow, Seed = Seed ?? defaults.Seed,
            },
        };
        r.Validate();
        if (Timeout is { } t && t <= TimeSpan.Zero) throw new ArgumentException($"timeout {t} is out of range: expected a positive time");
        return r;
    }
}

/// <summary>The outcome of a request.</summary>
/// <param name="Id">The request's id.</param>
/// <param name="Text">Generated text (cut before a stop string).</param>
/// <param name="TokenIds">Generated token ids.</param>
/// <param name="PromptTokens">Prompt length in tokens.</param>
/// <param name="CachedPromptTokens">Prompt tokens whose keys and values came from the prefix cache (not computed).</param>
/// <param name="FinishReason">stop, length (see <see cref="FinishReasons"/>).</param>
/// <param name="QueueMs">Time from submission to the first forward pass that included it.</param>
/// <param name="TimeToFirstTokenMs">Time from submission to the first generated token.</param>
/// <param name="LatencyMs">Time from submission to the last token.</param>
public sealed record InferResponse(string Id, string Text, int[] TokenIds, int PromptTokens, int CachedPromptTokens,
    string FinishReason, double QueueMs, double TimeToFirstTokenMs, double LatencyMs)
{
    public int CompletionTokens => TokenIds.Length;

    /// <summary>Generated tokens per second after the first.</summary>
    public double DecodeTokensPerSecond => TokenIds.Length > 1 && LatencyMs > TimeToFirstTokenMs ? (TokenIds.Length - 1) / ((LatencyMs - TimeToFirstTokenMs) / 1000) : 0;
}

/// <summary>
/// A piece of a streamed response: the text that became final with these tokens (may be "" while
/// a UTF-8 character or a possible stop string is held back) and their ids; the last chunk has
/// <see cref="Final"/> set.
/// </summary>
public sealed record InferChunk(string Text, int[] TokenIds, double ElapsedMs, InferResponse? Final = null);
