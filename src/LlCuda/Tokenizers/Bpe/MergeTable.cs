using System.Numerics;

namespace LlCuda.Tokenizers;

/// <summary>
/// BPE merges keyed by (left symbol, right symbol): an open-addressing hash table whose slots
/// hold key and value together, so a lookup costs one cache miss where Dictionary costs two
/// (bucket, then entry). Lookups are most of the time of encoding a word not seen before.
/// </summary>
internal sealed class MergeTable
{
    // [capacity] a power of two at least twice the merge count; Rank < 0 marks an empty slot.
    readonly Slot[] _slots;
    readonly int _shift;

    struct Slot
    {
        public ulong Key;       // (left symbol << 32) | right symbol
        public int Rank;        // position in tokenizer.ggml.merges
        public int Result;      // symbol the pair merges into
    }

    public MergeTable(int count)
    {
        uint capacity = BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, 2 * count));
        _slots = new Slot[capacity];
        _shift = 64 - BitOperations.Log2(capacity);
        for (int i = 0; i < _slots.Length; i++) _slots[i].Rank = -1;
    }

    public int Count { get; private set; }

    static ulong Key(int left, int right) => ((ulong)(uint)left << 32) | (uint)right;

    // Fibonacci hashing: the multiply spreads the two ids over the top bits.
    int Home(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);

    /// <summary>Adds the merge unless the pair is already present (the first rank wins, as in llama.cpp).</summary>
    public void TryAdd(int left, int right, int rank, int result)
    {
        if (Count * 2 >= _slots.Length) throw new InvalidOperationException($"MergeTable sized for {_slots.Length / 2} merges is full");
        ulong key = Key(left, right);
        int mask = _slots.Length - 1;
        for (int i = Home(key); ; i = (i + 1) & mask)
        {
            ref var slot = ref _slots[i];
            if (slot.Rank < 0)
            {
                slot = new Slot { Key = key, Rank = rank, Result = result };
                Count++;
                return;
            }
            if (slot.Key == key) return;
        }
    }

    /// <summary>The rank and result of merging <paramref name="left"/> with <paramref name="right"/>, if there is such a merge.</summary>
    public bool TryGet(int left, int right, out int rank, out int result)
    {
        ulong key = Key(left, right);
        int mask = _slots.Length - 1;
        for (int i = Home(key); ; i = (i + 1) & mask)
        {
            ref readonly var slot = ref _slots[i];
            if (slot.Rank < 0) { rank = result = 0; return false; }
            if (slot.Key == key) { rank = slot.Rank; result = slot.Result; return true; }
        }
    }
}
