namespace LlCuda.Engine;

/// <summary>One text generation: the prompt, how much to generate, how to sample, when to stop.</summary>
public sealed record GenerationRequest
{
    /// <summary>Prompt text; "" means BOS only.</summary>
    public string Prompt { get; init; } = "";
    /// <summary>Most tokens to generate; -1 = until the context is full.</summary>
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = new();
    /// <summary>Generation ends when the text contains one of these; the stop text is not returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Parse special-token text in the prompt (e.g. "&lt;|im_start|&gt;") into control tokens.</summary>
    public bool ParseSpecial { get; init; }
    /// <summary>Stop at end-of-generation tokens (EOS, EOT); false generates through them.</summary>
    public bool StopAtEndOfGeneration { get; init; } = true;

    /// <summary>Throws an ArgumentException naming the first invalid value.</summary>
    public void Validate()
    {
        if (MaxTokens < -1) throw new ArgumentException($"-n {MaxTokens} is out of range: expected -1 (until the context is full) or a count >= 0");
        if (Stop.Any(string.IsNullOrEmpty)) throw new ArgumentException("--stop strings must not be empty");
        Sampling.Validate();
    }
}

/// <summary>Why generation ended, as OpenAI's finish_reason names it.</summary>
public static class FinishReasons
{
    /// <summary>An end-of-generation token or a stop string.</summary>
    public const string Stop = "stop";
    /// <summary>MaxTokens reached or the context is full.</summary>
    public const string Length = "length";
    /// <summary>The caller cancelled.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>Wall-clock timings of one generation, in milliseconds and tokens per second.</summary>
public sealed record GenerationTimings(double PromptMs, double TimeToFirstTokenMs, double GenerationMs, int PromptTokens, int GeneratedTokens)
{
    /// <summary>Prompt tokens per second of prompt processing.</summary>
    public double PromptTokensPerSecond => PromptMs > 0 ? PromptTokens / (PromptMs / 1000) : 0;

    /// <summary>Generated tokens per second after the first (each a full decode step).</summary>
    public double GenerationTokensPerSecond => GenerationMs > 0 ? GeneratedTokens / (GenerationMs / 1000) : 0;
}

/// <summary>The outcome of a generation.</summary>
public sealed record GenerationResult(int[] PromptTokens, int[] Tokens, string Text, string FinishReason, GenerationTimings Timings);
