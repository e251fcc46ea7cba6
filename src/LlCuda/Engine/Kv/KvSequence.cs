namespace LlCuda.Engine.Kv;

/// <summary>
/// One sequence's block table in a paged KV cache: the physical blocks holding its positions
/// in order (position p in Blocks[p / block size]), how many leading positions hold computed
/// keys and values, and how many leading blocks are registered as reusable prefixes.
/// <see cref="KvBlockManager"/> changes it; the scheduler reads it.
/// </summary>
public sealed class KvSequence
{
    readonly List<int> _blocks = [];
    int[]? _array;

    /// <summary>The blocks, in position order.</summary>
    public IReadOnlyList<int> Blocks => _blocks;

    /// <summary>Leading positions whose keys and values are in the blocks.</summary>
    public int Computed { get; internal set; }

    /// <summary>Leading blocks already offered to the prefix cache.</summary>
    internal int Registered { get; set; }

    /// <summary>The blocks as an array for <see cref="ForwardBatch.SetBlocks"/> (rebuilt only when they change).</summary>
    public int[] ToArray() => _array ??= [.. _blocks];

    internal void Add(int block)
    {
        _blocks.Add(block);
        _array = null;
    }

    internal void Reset()
    {
        _blocks.Clear();
        _array = null;
        Computed = 0;
        Registered = 0;
    }
}
