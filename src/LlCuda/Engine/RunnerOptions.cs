namespace LlCuda.Engine;

/// <summary>Element type of the KV cache.</summary>
public enum KvCacheType
{
    /// <summary>float16, llama.cpp's default: half the memory of F32.</summary>
    F16,
    F32,
}

/// <summary>How a model runner is set up: context, sequences, threads, KV cache.</summary>
public sealed record RunnerOptions
{
    /// <summary>
    /// Positions per sequence: N > 0 exactly N (at most the model's training context); 0 = the
    /// model's training context; -N = the model's, capped at N.
    /// </summary>
    public int ContextLength { get; init; }
    /// <summary>Sequences the KV cache holds at once.</summary>
    public int MaxSequences { get; init; } = 1;
    /// <summary>CPU threads; 0 = one per core.</summary>
    public int Threads { get; init; }
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
    /// <summary>
    /// True: the CPU kernels read the weights in place from the file's memory map (instant load,
    /// pages shared with other processes). False (default): the weight matrices are read into
    /// huge-page backed memory first, which decodes markedly faster (see ResidentWeights).
    /// </summary>
    public bool MapWeights { get; init; }

    /// <summary>The context length to allocate for a model trained on <paramref name="trained"/> positions.</summary>
    public int ResolveContextLength(int trained)
    {
        if (ContextLength > trained)
            throw new ArgumentException($"--ctx {ContextLength} exceeds the model's training context of {trained} tokens; use at most {trained}");
        return ContextLength switch
        {
            > 0 => ContextLength,
            0 => trained,
            _ => Math.Min(trained, -ContextLength),
        };
    }
}
