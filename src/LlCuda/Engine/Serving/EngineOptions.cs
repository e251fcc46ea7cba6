namespace LlCuda.Engine;

/// <summary>Where <see cref="InferenceEngine"/> runs a model.</summary>
public enum Device
{
    /// <summary>CUDA when the NVIDIA driver sees a GPU, else the CPU.</summary>
    Auto,
    Cpu,
    Cuda,
}

/// <summary>
/// How an <see cref="InferenceEngine"/> serves: device, context, how many sequences run at once,
/// the per-step token budget, the queue limit and the KV cache. Validated in one place
/// (<see cref="Validate"/>); the CLI's help text says the same.
/// </summary>
public sealed record EngineOptions
{
    public Device Device { get; init; } = Device.Auto;
    /// <summary>GPU ordinal for Device.Cuda / Auto.</summary>
    public int Gpu { get; init; }
    /// <summary>Positions per sequence: as <see cref="RunnerOptions.ContextLength"/> (default: the model's, capped at 4096).</summary>
    public int ContextLength { get; init; } = -4096;
    /// <summary>Sequences decoded together in one forward pass, at most.</summary>
    public int MaxSequences { get; init; } = 16;
    /// <summary>
    /// Tokens one forward pass evaluates, at most: every running sequence's next token first,
    /// then prompt chunks (chunked prefill), so a long prompt delays the others by one step of
    /// this budget, never by its whole length.
    /// </summary>
    public int MaxTokensPerStep { get; init; } = 512;
    /// <summary>Requests waiting for a sequence slot, at most; one more is refused at once with <see cref="EngineBusyException"/>.</summary>
    public int MaxQueuedRequests { get; init; } = 256;
    /// <summary>Positions per KV-cache block.</summary>
    public int KvBlockSize { get; init; } = 16;
    /// <summary>
    /// Bytes of KV cache (keys and values, all layers) to allocate; 0 = MaxSequences whole
    /// contexts. Never less than one whole context, so every request that fits the context runs.
    /// </summary>
    public long KvCacheBytes { get; init; }
    /// <summary>Reuse the KV blocks of identical prompt prefixes between requests.</summary>
    public bool PrefixCaching { get; init; } = true;
    /// <summary>CPU threads (0 = one per core).</summary>
    public int Threads { get; init; }
    /// <summary>Longest a request may take from submission to its last token (null: no limit); past it the request fails with TimeoutException.</summary>
    public TimeSpan? RequestTimeout { get; init; }

    /// <summary>Throws an ArgumentException naming the first invalid value and what is expected.</summary>
    public void Validate()
    {
        if (MaxSequences < 1) throw new ArgumentException($"max sequences {MaxSequences} is out of range: expected 1 or more");
        if (MaxTokensPerStep < 1) throw new ArgumentException($"max tokens per step {MaxTokensPerStep} is out of range: expected 1 or more (512 is usual)");
        if (MaxTokensPerStep < MaxSequences) throw new ArgumentException($"max tokens per step {MaxTokensPerStep} is below max sequences {MaxSequences}: every running sequence needs a token per step");
        if (MaxQueuedRequests < 0) throw new ArgumentException($"max queued requests {MaxQueuedRequests} is out of range: expected 0 or more");
        if (KvBlockSize is < 1 or > 4096) throw new ArgumentException($"KV block size {KvBlockSize} is out of range: expected 1..4096 positions (16 is usual)");
        if (KvCacheBytes < 0) throw new ArgumentException($"KV cache bytes {KvCacheBytes} is out of range: expected 0 (max sequences x context) or a byte count");
        if (Threads < 0) throw new ArgumentException($"threads {Threads} is out of range: expected 0 (one per core) or a positive count");
        if (Gpu < 0) throw new ArgumentException($"GPU {Gpu} is out of range: expected a GPU ordinal, 0 or more");
        if (RequestTimeout is { } t && t <= TimeSpan.Zero) throw new ArgumentException($"request timeout {t} is out of range: expected a positive time or none");
    }
}
