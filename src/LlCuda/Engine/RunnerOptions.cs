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
    /// <summary>Positions per sequence; 0 = the model's training context.</summary>
    public int ContextLength { get; init; }
    /// <summary>Sequences the KV cache holds at once.</summary>
    public int MaxSequences { get; init; } = 1;
    /// <summary>CPU threads; 0 = one per core.</summary>
    public int Threads { get; init; }
    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;
}
