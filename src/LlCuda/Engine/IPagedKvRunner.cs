namespace LlCuda.Engine;

/// <summary>
/// A runner whose KV cache is a pool of fixed-size blocks (vLLM's paged attention): a batch may
/// give each sequence a block table (<see cref="ForwardBatch.SetBlocks"/>), so sequences take
/// only the blocks they fill and can share the blocks of a common prompt prefix. Without a
/// table a sequence uses the fixed layout: sequence s owns blocks
/// s * BlocksPerSequence .. (s + 1) * BlocksPerSequence - 1, which exist only when the pool was
/// sized for it (<see cref="RunnerOptions.KvBlocks"/> = 0).
/// </summary>
public interface IPagedKvRunner : IModelRunner
{
    /// <summary>Positions per block.</summary>
    int KvBlockSize { get; }

    /// <summary>Blocks in the pool.</summary>
    int KvBlockCount { get; }

    /// <summary>Bytes of KV cache one block holds over all layers (keys and values).</summary>
    long KvBlockBytes { get; }
}
