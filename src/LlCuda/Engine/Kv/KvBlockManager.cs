namespace LlCuda.Engine.Kv;

/// <summary>
/// The bookkeeping of a paged KV cache (the memory itself lives in the runner, see
/// <see cref="IPagedKvRunner"/>): which blocks are free, which each sequence holds, and which
/// full blocks hold a known token prefix so later requests with the same prefix reuse them
/// instead of recomputing (vLLM's automatic prefix caching).
/// </summary>
/// <remarks>
/// A full block is registered under (its parent block, its tokens): the parent is the block
/// before it in the sequence, so a key names the whole prefix exactly and a match is checked
/// token by token (no hash collisions can alias two prefixes). Blocks are reference-counted;
/// a registered block nobody holds stays cached in LRU order until its memory is needed, then
/// it and every cached block that descends from it are dropped from the index (a child's key
/// names its parent's block number, which is about to hold other tokens). Only full blocks are
/// shared and a sequence writes only positions past its shared prefix, so shared blocks are
/// never written: no copy-on-write is needed. Not thread-safe: the scheduler's loop owns it.
/// </remarks>
public sealed class KvBlockManager
{
    readonly int[] _refs;                        // [block] sequences holding it
    readonly CacheEntry?[] _entries;             // [block] its registration, if it holds a known prefix
    readonly Stack<int> _free = new();           // unregistered blocks nobody holds
    readonly LinkedList<int> _lru = new();       // registered blocks nobody holds, least recently used first
    readonly LinkedListNode<int>?[] _lruNodes;   // [block]
    readonly Dictionary<(int Parent, ulong Hash), List<int>> _index = [];

    sealed record CacheEntry(int Parent, ulong Hash, int[] Tokens)
    {
        public List<int> Children { get; } = [];
    }

    /// <param name="blockCount">Blocks in the runner's pool.</param>
    /// <param name="blockSize">Positions per block.</param>
    /// <param name="prefixCaching">Register full blocks for reuse by later requests.</param>
    public KvBlockManager(int blockCount, int blockSize, bool prefixCaching = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        BlockCount = blockCount;
        BlockSize = blockSize;
        PrefixCaching = prefixCaching;
        _refs = new int[blockCount];
        _entries = new CacheEntry?[blockCount];
        _lruNodes = new LinkedListNode<int>?[blockCount];
        for (int b = blockCount - 1; b >= 0; b--) _free.Push(b);
    }

    public int BlockCount { get; }
    public int BlockSize { get; }
    public bool PrefixCaching { get; }

    /// <summary>Blocks a sequence can be given now: free ones plus cached ones nobody holds.</summary>
    public int AvailableBlocks => _free.Count + _lru.Count;

    /// <summary>Blocks held by at least one sequence.</summary>
    public int UsedBlocks => BlockCount - AvailableBlocks;

    /// <summary>Blocks nobody holds that still hold a reusable prefix.</summary>
    public int CachedBlocks => _lru.Count;

    /// <summary>Prompt tokens whose keys and values were reused rather than computed, since creation.</summary>
    public long ReusedTokens { get; private set; }

    /// <summary>Blocks <paramref name="positions"/> positions take.</summary>
    public int BlocksFor(int positions) => (positions + BlockSize - 1) / BlockSize;

    /// <summary>
    /// Gives a sequence with no blocks yet the cached blocks of the longest registered prefix of
    /// <paramref name="tokens"/>, leaving at least the last token to compute (its logits are
    /// needed); returns the number of leading tokens whose keys and values are now in place.
    /// </summary>
    public int MatchPrefix(KvSequence sequence, ReadOnlySpan<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (sequence.Blocks.Count != 0) throw new InvalidOperationException("prefix matching is for a sequence that holds no blocks yet");
        if (!PrefixCaching) return 0;
        int parent = -1, matched = 0;
        while ((matched + BlockSize) <= tokens.Length - 1)
        {
            var chunk = tokens.Slice(matched, BlockSize);
            int block = Find(parent, chunk);
            if (block < 0) break;
            Hold(block);
            sequence.Add(block);
            parent = block;
            matched += BlockSize;
        }
        sequence.Registered = sequence.Blocks.Count;
        sequence.Computed = matched;
        ReusedTokens += matched;
        return matched;
    }

    /// <summary>
    /// Makes <paramref name="sequence"/> hold blocks for positions 0..<paramref name="positions"/>-1;
    /// false (and nothing changed) when the pool cannot supply them even after dropping cached prefixes.
    /// </summary>
    public bool Reserve(KvSequence sequence, int positions)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        int need = BlocksFor(positions) - sequence.Blocks.Count;
        if (need <= 0) return true;
        if (need > AvailableBlocks) return false;
        for (int i = 0; i < need; i++)
        {
            int block = TakeBlock();
            _refs[block] = 1;
            sequence.Add(block);
        }
        return true;
    }

    /// <summary>
    /// Records that positions 0..<paramref name="computed"/>-1 of <paramref name="sequence"/> hold
    /// the keys and values of <paramref name="tokens"/>[0..computed-1]; full blocks among them
    /// become reusable prefixes.
    /// </summary>
    public void Commit(KvSequence sequence, ReadOnlySpan<int> tokens, int computed)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (computed > tokens.Length) throw new ArgumentOutOfRangeException(nameof(computed), $"{computed} positions computed but only {tokens.Length} tokens given");
        sequence.Computed = Math.Max(sequence.Computed, computed);
        if (!PrefixCaching) return;
        while ((sequence.Registered + 1) * BlockSize <= computed)
        {
            int i = sequence.Registered, block = sequence.Blocks[i];
            int parent = i == 0 ? -1 : sequence.Blocks[i - 1];
            var chunk = tokens.Slice(i * BlockSize, BlockSize);
            // The same prefix computed twice at once (two identical prompts in one step): the
            // first registration wins, the other copy stays private and is freed with its sequence.
            // A block whose parent is unregistered (a duplicate) cannot be found by a walk either.
            bool parentKnown = parent < 0 || _entries[parent] is not null;
            if (_entries[block] is null && parentKnown && Find(parent, chunk) < 0)
            {
                var entry = new CacheEntry(parent, Hash(chunk), chunk.ToArray());
                _entries[block] = entry;
                if (!_index.TryGetValue((parent, entry.Hash), out var list)) _index[(parent, entry.Hash)] = list = [];
                list.Add(block);
                if (parent >= 0) _entries[parent]!.Children.Add(block);
            }
            sequence.Registered++;
        }
    }

    /// <summary>Releases every block of <paramref name="sequence"/> (it holds none afterwards).</summary>
    public void Release(KvSequence sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        // Last block first: a prefix's tail is then less recently used than its head and is
        // evicted before it.
        for (int i = sequence.Blocks.Count - 1; i >= 0; i--)
        {
            int block = sequence.Blocks[i];
            if (--_refs[block] > 0) continue;
            if (_refs[block] < 0) throw new InvalidOperationException($"KV block {block} released more often than it was held");
            if (_entries[block] is not null) _lruNodes[block] = _lru.AddLast(block);
            else _free.Push(block);
        }
        sequence.Reset();
    }

    int Find(int parent, ReadOnlySpan<int> chunk)
    {
        if (!_index.TryGetValue((parent, Hash(chunk)), out var list)) return -1;
        foreach (int block in list)
            if (_entries[block]!.Tokens.AsSpan().SequenceEqual(chunk)) return block;
        return -1;
    }

    void Hold(int block)
    {
        if (_refs[block]++ == 0 && _lruNodes[block] is { } node)
        {
            _lru.Remove(node);
            _lruNodes[block] = null;
        }
    }

    int TakeBlock()
    {
        if (_free.Count > 0) return _free.Pop();
        int victim = _lru.First!.Value;
        Unregister(victim);
        // Unregister moved the victim and its cached descendants to the free list.
        return _free.Pop();
    }

    // Drops a cached block nobody holds, and its cached descendants, from the index onto the free list.
    void Unregister(int block)
    {
        var entry = _entries[block]!;
        foreach (int child in entry.Children.ToArray()) Unregister(child);
        var key = (entry.Parent, entry.Hash);
        var list = _index[key];
        list.Remove(block);
        if (list.Count == 0) _index.Remove(key);
        if (entry.Parent >= 0) _entries[entry.Parent]?.Children.Remove(block);
        _entries[block] = null;
        if (_lruNodes[block] is { } node)
        {
            _lru.Remove(node);
            _lruNodes[block] = null;
            _free.Push(block);
        }
        // A descendant still held (impossible while its holders also hold this block) would stay
        // held and simply become a private block.
    }

    // FNV-1a over the token ids: a bucket key only, every match is compared token by token.
    static ulong Hash(ReadOnlySpan<int> tokens)
    {
        ulong h = 14695981039346656037UL;
        foreach (int t in tokens)
        {
            h ^= (uint)t;
            h *= 1099511628211UL;
        }
        return h;
    }
}
