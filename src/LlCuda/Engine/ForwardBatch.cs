namespace LlCuda.Engine;

/// <summary>
/// Tokens evaluated together in one forward pass, possibly from several sequences (continuous
/// batching builds on this). Token i is Tokens[i] at position Positions[i] of sequence
/// SequenceIds[i]; its logits are produced only when WantLogits[i] (the last prompt token, every
/// decoded token), which saves the vocabulary-sized output product for the rest of a prompt.
/// Tokens of one sequence appear in position order.
/// <para>
/// Paged KV cache (<see cref="IPagedKvRunner"/>): <see cref="SetBlocks"/> gives a sequence's block
/// table, the physical cache blocks that hold its positions (position p lives in block
/// table[p / block size], row p % block size); a sequence without one uses the runner's fixed
/// layout (sequence s owns blocks s * blocks-per-sequence onwards). Blocks may be shared
/// between sequences (prefix reuse): the caller guarantees no token of the batch writes a
/// block that another sequence still reads.
/// </para>
/// </summary>
public sealed class ForwardBatch
{
    readonly List<int> _tokens = [];
    readonly List<int> _positions = [];
    readonly List<int> _sequences = [];
    readonly List<bool> _logits = [];
    readonly Dictionary<int, int[]> _blocks = [];

    /// <summary>Number of tokens in the batch.</summary>
    public int Count => _tokens.Count;

    /// <summary>Number of tokens whose logits are wanted (rows of the logits output).</summary>
    public int OutputCount { get; private set; }

    public IReadOnlyList<int> Tokens => _tokens;
    public IReadOnlyList<int> Positions => _positions;
    public IReadOnlyList<int> SequenceIds => _sequences;
    public IReadOnlyList<bool> WantLogits => _logits;

    /// <summary>Appends one token.</summary>
    public void Add(int token, int position, int sequence, bool wantLogits)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        _tokens.Add(token);
        _positions.Add(position);
        _sequences.Add(sequence);
        _logits.Add(wantLogits);
        if (wantLogits) OutputCount++;
    }

    /// <summary>
    /// Sets the block table of <paramref name="sequence"/> for this batch: element i is the
    /// physical KV block holding positions i * block size .. (i + 1) * block size - 1. It must
    /// cover every position the batch's tokens of that sequence write or attend to. The array is
    /// kept, not copied, until <see cref="Clear"/>.
    /// </summary>
    public void SetBlocks(int sequence, int[] blocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentNullException.ThrowIfNull(blocks);
        _blocks[sequence] = blocks;
    }

    /// <summary>The block table given for <paramref name="sequence"/>, or null (the runner's fixed layout).</summary>
    public int[]? BlocksOf(int sequence) => _blocks.GetValueOrDefault(sequence);

    /// <summary>True when some sequence has a block table.</summary>
    public bool HasBlockTables => _blocks.Count > 0;

    /// <summary>
    /// Checks the batch against a runner's limits before any work (every runner calls it, so
    /// the messages are the same whichever backend runs): logits long enough for the tokens that
    /// want them, token ids inside the vocabulary, positions inside the context, sequence ids
    /// inside the KV cache, and, with block tables, tables that cover every position with blocks
    /// that exist. llama.cpp would abort the process on a bad token id.
    /// </summary>
    /// <exception cref="ArgumentException">logits too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token, position, sequence id or block out of range; the message names the limit.</exception>
    public void Validate(int logitsLength, int vocabSize, int contextLength, int maxSequences, int blockSize, int blockCount)
    {
        Validate(logitsLength, vocabSize, contextLength, maxSequences);
        if (_blocks.Count == 0) return;
#pragma warning disable CA2208
        if (blockSize <= 0)
            throw new ArgumentException("the batch has block tables but this runner's KV cache is not paged", "batch");
        for (int i = 0; i < Count; i++)
        {
            if (!_blocks.TryGetValue(_sequences[i], out var table)) continue;
            int need = _positions[i] / blockSize + 1;
            if (table.Length < need)
                throw new ArgumentOutOfRangeException("batch", $"sequence {_sequences[i]}'s block table has {table.Length} blocks but position {_positions[i]} needs {need}");
        }
        foreach (var (seq, table) in _blocks)
            foreach (int block in table)
                if ((uint)block >= (uint)blockCount)
                    throw new ArgumentOutOfRangeException("batch", $"sequence {seq}'s block table names block {block}; the KV cache has {blockCount} blocks");
#pragma warning restore CA2208
    }

    /// <summary>
    /// Checks the batch against a runner's limits before any work (every runner calls it, so
    /// the messages are the same whichever backend runs): logits long enough for the tokens that
    /// want them, token ids inside the vocabulary, positions inside the context, sequence ids
    /// inside the KV cache. llama.cpp would abort the process on a bad token id.
    /// </summary>
    /// <exception cref="ArgumentException">logits too short.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A token, position or sequence id out of range; the message names the limit.</exception>
    public void Validate(int logitsLength, int vocabSize, int contextLength, int maxSequences)
    {
        // The exceptions name the runner's Forward parameters (batch, logits), which is what the caller passed.
#pragma warning disable CA2208
        if (logitsLength < (long)OutputCount * vocabSize)
            throw new ArgumentException($"logits has {logitsLength} floats, the batch needs {OutputCount} x {vocabSize}", "logits");
        for (int i = 0; i < Count; i++)
        {
            if ((uint)_tokens[i] >= (uint)vocabSize)
                throw new ArgumentOutOfRangeException("batch", $"token id {_tokens[i]} is outside the vocabulary of {vocabSize} tokens");
            if (_positions[i] >= contextLength)
                throw new ArgumentOutOfRangeException("batch", $"position {_positions[i]} is past the context length {contextLength} (use a larger --ctx or a shorter prompt)");
            if (_sequences[i] >= maxSequences)
                throw new ArgumentOutOfRangeException("batch", $"sequence {_sequences[i]} is past the {maxSequences} sequences the KV cache holds");
        }
#pragma warning restore CA2208
    }

    /// <summary>Empties the batch (tokens and block tables) for reuse.</summary>
    public void Clear()
    {
        _tokens.Clear();
        _positions.Clear();
        _sequences.Clear();
        _logits.Clear();
        _blocks.Clear();
        OutputCount = 0;
    }
}
