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
    public void Clear()
    {
        _tokens.Clear();
        _positions.Clear();
        _sequences.Clear();
        _logits.Clear();
        OutputCount = 0;
    }
}
