using LlCuda.Gguf;

namespace LlCuda.Models;

/// <summary>
/// The architecture hyperparameters of a GGUF model ("{arch}.embedding_length" and so on),
/// typed and checked for consistency once, so the forward pass can trust them. Defaults follow
/// llama.cpp where a key is optional.
/// </summary>
public sealed record ModelHyperparameters
{
    /// <summary>general.architecture, e.g. "llama".</summary>
    public required string Architecture { get; init; }
    /// <summary>Training context length (tokens).</summary>
    public required int ContextLength { get; init; }
    /// <summary>Model width: elements of the residual stream per token.</summary>
    public required int EmbeddingLength { get; init; }
    /// <summary>Number of transformer blocks.</summary>
    public required int BlockCount { get; init; }
    /// <summary>Hidden width of the feed-forward network (0 for architectures without one).</summary>
    public required int FeedForwardLength { get; init; }
    /// <summary>Query heads.</summary>
    public required int HeadCount { get; init; }
    /// <summary>Key/value heads (equal to HeadCount without grouped-query attention).</summary>
    public required int HeadCountKv { get; init; }
    /// <summary>Elements per key head.</summary>
    public required int KeyLength { get; init; }
    /// <summary>Elements per value head.</summary>
    public required int ValueLength { get; init; }
    /// <summary>RMSNorm epsilon.</summary>
    public required float RmsEpsilon { get; init; }
    /// <summary>Elements of each head that RoPE rotates.</summary>
    public required int RopeDimensionCount { get; init; }
    /// <summary>RoPE frequency base (theta).</summary>
    public required float RopeFreqBase { get; init; }
    /// <summary>"none", "linear", "yarn" ...</summary>
    public required string RopeScalingType { get; init; }
    /// <summary>Context scaling factor of RoPE scaling (1 when none).</summary>
    public required float RopeScalingFactor { get; init; }
    /// <summary>Vocabulary size ({arch}.vocab_size, else the token list's length, else 0).</summary>
    public required int VocabSize { get; init; }
    /// <summary>Experts per MoE layer (0 for dense models).</summary>
    public required int ExpertCount { get; init; }
    /// <summary>Experts used per token.</summary>
    public required int ExpertUsedCount { get; init; }

    /// <summary>Query heads per key/value head.</summary>
    public int GqaRatio => HeadCount / HeadCountKv;

    // Sizes past these are no real model's; they catch corrupt headers before anything is allocated from them.
    const long MaxWidth = 1 << 20;
    const long MaxBlocks = 4096;
    const long MaxContext = 1L << 27;

    /// <summary>Reads and validates the hyperparameters of <paramref name="file"/>.</summary>
    /// <exception cref="GgufFormatException">A key is missing, mistyped or inconsistent.</exception>
    public static ModelHyperparameters FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var m = file.Metadata;
        string src = file.Source;
        string arch = file.Architecture ?? throw new GgufFormatException($"{src}: metadata key 'general.architecture' is missing (not a model file? vocab-only files have no hyperparameters)");
        string P(string key) => $"{arch}.{key}";

        int Required(string key, long max) => Check(key, m.GetInt64OrNull(P(key)) ?? throw new GgufFormatException($"{src}: metadata key '{P(key)}' is missing (re-convert the model with a current llama.cpp)"), 1, max);
        int Optional(string key, long fallback, long min, long max) => Check(key, m.GetInt64OrNull(P(key)) ?? fallback, min, max);
        int Check(string key, long v, long min, long max) =>
            v >= min && v <= max ? (int)v : throw new GgufFormatException($"{src}: metadata key '{P(key)}' is {v}, expected {min} to {max}");

        int width = Required("embedding_length", MaxWidth);
        int heads = Required("attention.head_count", MaxWidth);
        int kvHeads = Optional("attention.head_count_kv", heads, 1, heads);
        if (heads % kvHeads != 0)
            throw new GgufFormatException($"{src}: {P("attention.head_count")} = {heads} is not a multiple of {P("attention.head_count_kv")} = {kvHeads}");
        long defaultHead = width % heads == 0 ? width / heads : 0;
        int keyLength = Optional("attention.key_length", defaultHead, 1, MaxWidth);
        int valueLength = Optional("attention.value_length", defaultHead, 1, MaxWidth);
        int ropeDims = Optional("rope.dimension_count", keyLength, 0, keyLength);
        double eps = m.GetDoubleOrNull(P("attention.layer_norm_rms_epsilon")) ?? 1e-5;
        if (!(eps > 0 && eps < 1))
            throw new GgufFormatException($"{src}: metadata key '{P("attention.layer_norm_rms_epsilon")}' is {eps}, expected a small positive number");
        double ropeBase = m.GetDoubleOrNull(P("rope.freq_base")) ?? 10000.0;
        if (!(ropeBase > 0) || double.IsInfinity(ropeBase))
            throw new GgufFormatException($"{src}: metadata key '{P("rope.freq_base")}' is {ropeBase}, expected a positive number");
        double scale = m.GetDoubleOrNull(P("rope.scaling.factor")) ?? 1.0;
        if (!(scale > 0) || double.IsInfinity(scale))
            throw new GgufFormatException($"{src}: metadata key '{P("rope.scaling.factor")}' is {scale}, expected a positive number");
        long vocab = m.GetInt64OrNull(P("vocab_size")) ?? m.GetArrayOrNull<string>("tokenizer.ggml.tokens")?.Length ?? 0;

        return new ModelHyperparameters
        {
            Architecture = arch,
            ContextLength = Required("context_length", MaxContext),
            EmbeddingLength = width,
            BlockCount = Required("block_count", MaxBlocks),
            FeedForwardLength = Optional("feed_forward_length", 0, 0, MaxWidth * 8),
            HeadCount = heads,
            HeadCountKv = kvHeads,
            KeyLength = keyLength,
            ValueLength = valueLength,
            RmsEpsilon = (float)eps,
            RopeDimensionCount = ropeDims,
            RopeFreqBase = (float)ropeBase,
            RopeScalingType = m.GetStringOrNull(P("rope.scaling.type")) ?? "none",
            RopeScalingFactor = (float)scale,
            VocabSize = Check("vocab_size", vocab, 0, int.MaxValue),
            ExpertCount = Optional("expert_count", 0, 0, 4096),
            ExpertUsedCount = Optional("expert_used_count", 0, 0, 4096),
        };
    }

    /// <summary>
    /// The RoPE angle per position of each rotated pair, [n_rot / 2]: theta_i = base^(-2i / n_rot),
    /// divided by the factor under linear scaling; every backend rotates with these same values.
    /// </summary>
    /// <exception cref="NotSupportedException">A RoPE scaling other than none or linear (named with <paramref name="source"/>).</exception>
    public float[] RopeFrequencies(string source)
    {
        if (RopeScalingType is not ("none" or "linear"))
            throw new NotSupportedException($"{source}: RoPE scaling '{RopeScalingType}' is not supported yet (supported: none, linear)");
        var freqs = new float[RopeDimensionCount / 2];
        float f = RopeScalingType == "linear" ? 1.0f / RopeScalingFactor : 1.0f;
        float thetaScale = MathF.Pow(RopeFreqBase, -2.0f / RopeDimensionCount);
        for (int i = 0; i < freqs.Length; i++) { freqs[i] = f; f *= thetaScale; }
        return freqs;
    }
}
