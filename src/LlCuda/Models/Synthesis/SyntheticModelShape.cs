namespace LlCuda.Models.Synthesis;

/// <summary>
/// The shape of a synthetic Llama-architecture model: what `llcuda model synth` takes from a
/// preset and its overrides. The vocabulary size comes from the vocabulary file.
/// </summary>
public sealed record SyntheticModelShape
{
    /// <summary>Model width (llama.embedding_length).</summary>
    public required int EmbeddingLength { get; init; }
    /// <summary>Transformer blocks (llama.block_count).</summary>
    public required int BlockCount { get; init; }
    /// <summary>Query heads.</summary>
    public required int HeadCount { get; init; }
    /// <summary>Key/value heads (fewer than HeadCount for grouped-query attention).</summary>
    public required int HeadCountKv { get; init; }
    /// <summary>Hidden width of the SwiGLU feed-forward network.</summary>
    public required int FeedForwardLength { get; init; }
    /// <summary>Training context length (tokens).</summary>
    public required int ContextLength { get; init; }

    /// <summary>Elements per head.</summary>
    public int HeadDim => EmbeddingLength / HeadCount;

    /// <summary>Presets by name: a fast test model and two real model shapes.</summary>
    public static IReadOnlyDictionary<string, SyntheticModelShape> Presets { get; } = new Dictionary<string, SyntheticModelShape>(StringComparer.OrdinalIgnoreCase)
    {
        // Small enough for unit tests (4.2M parameters with a 32k vocabulary, nearly all of
        // them embeddings), with GQA 2 and rows that are multiples of 32 but not of 256, so
        // K-quant fallbacks are exercised too.
        ["tiny"] = new() { EmbeddingLength = 64, BlockCount = 2, HeadCount = 4, HeadCountKv = 2, FeedForwardLength = 192, ContextLength = 512 },
        // TinyLlama-1.1B (v1.0): GQA 8.
        ["tinyllama-1.1b"] = new() { EmbeddingLength = 2048, BlockCount = 22, HeadCount = 32, HeadCountKv = 4, FeedForwardLength = 5632, ContextLength = 2048 },
        // Llama-2-7B: plain multi-head attention.
        ["llama2-7b"] = new() { EmbeddingLength = 4096, BlockCount = 32, HeadCount = 32, HeadCountKv = 32, FeedForwardLength = 11008, ContextLength = 4096 },
    };

    /// <summary>The preset called <paramref name="name"/>; throws naming the presets that exist.</summary>
    public static SyntheticModelShape Preset(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Presets.TryGetValue(name, out var shape)
            ? shape
            : throw new ArgumentException($"unknown preset '{name}' (expected one of {string.Join(", ", Presets.Keys)})", nameof(name));
    }

    /// <summary>Throws an ArgumentException naming the first inconsistent value (by its `model synth` option name).</summary>
    public void Validate()
    {
        static void Positive(string name, int v, int max)
        {
            if (v < 1 || v > max) throw new ArgumentException($"{name} {v} is out of range: expected 1 to {max}");
        }
        Positive("--dim", EmbeddingLength, 1 << 16);
        Positive("--layers", BlockCount, 1024);
        Positive("--heads", HeadCount, 1024);
        Positive("--kv-heads", HeadCountKv, 1024);
        Positive("--ffn", FeedForwardLength, 1 << 18);
        Positive("--ctx", ContextLength, 1 << 24);
        if (EmbeddingLength % HeadCount != 0)
            throw new ArgumentException($"--dim {EmbeddingLength} is not divisible by --heads {HeadCount}: every head needs the same width");
        if (HeadCount % HeadCountKv != 0)
            throw new ArgumentException($"--heads {HeadCount} is not a multiple of --kv-heads {HeadCountKv}: each KV head must serve the same number of query heads");
        if (HeadDim % 2 != 0)
            throw new ArgumentException($"head width --dim / --heads = {HeadDim} is odd: RoPE rotates pairs of elements, so it must be even");
    }
}
