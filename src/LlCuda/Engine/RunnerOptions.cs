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
    /// <summary>Positions per KV-cache block (paged runners; vLLM's default is 16).</summary>
    public int KvBlockSize { get; init; } = 16;
    /// <summary>
    /// KV-cache blocks in the pool; 0 = enough for every sequence's whole context
    /// (MaxSequences x ceil(context / KvBlockSize)), the fixed layout that batches without
    /// block tables use.
    /// </summary>
    public int KvBlocks { get; init; }
    /// <summary>
    /// True: the CPU kernels read the weights in place from the file's memory map (instant load,
    /// pages shared with other processes). False (default): the weight matrices are read into
    /// huge-page backed memory first, which decodes markedly faster (see ResidentWeights).
    /// </summary>
    public bool MapWeights { get; init; }

    /// <summary>Blocks one sequence's whole context takes.</summary>
    public int BlocksPerSequence(int contextLength) => (contextLength + KvBlockSize - 1) / KvBlockSize;

    /// <summary>The pool size in blocks for a resolved context length (checks KvBlockSize and KvBlocks).</summary>
    public int ResolveKvBlocks(int contextLength)
    {
        if (KvBlockSize is < 1 or > 4096)
            throw new ArgumentException($"KV block size {KvBlockSize} is out of range: expected 1..4096 positions (16 is usual)");
        if (KvBlocks < 0)
            throw new ArgumentException($"KV blocks {KvBlocks} is out of range: expected 0 (sized for every sequence's context) or a positive count");
        long blocks = KvBlocks > 0 ? KvBlocks : (long)Math.Max(1, MaxSequences) * BlocksPerSequence(contextLength);
        if (blocks > int.MaxValue / 2)
            throw new ArgumentException($"a KV cache of {blocks} blocks is too large; use a smaller --ctx or fewer sequences");
        return (int)blocks;
    }

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
