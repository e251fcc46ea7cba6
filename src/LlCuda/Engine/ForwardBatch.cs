namespace LlCuda.Engine;

/// <summary>
/// Tokens evaluated together in one forward pass, possibly from several sequences (continuous
/// batching builds on this). Token i is Tokens[i] at position Positions[i] of sequence
/// SequenceIds[i]; its logits are produced only when WantLogits[i] (the last prompt token, every
/// decoded token), which saves the vocabulary-sized output product for the rest of a prompt.
/// Tokens of one sequence appear in position order.
/// </summary>
public sealed class ForwardBatch
{
    readonly List<int> _tokens = [];
    readonly List<int> _positions = [];
    readonly List<int> _sequences = [];
    readonly List<bool> _logits = [];

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

    /// <summary>Empties the batch for reuse.</summary>
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

    public void Clear()
    {
        _tokens.Clear();
        _positions.Clear();
        _sequences.Clear();
        _logits.Clear();
        OutputCount = 0;
    }
}
