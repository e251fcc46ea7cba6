namespace LlCuda.Engine;

/// <summary>
/// How a paged runner finds a batch sequence's block table: the one the batch gives, else the
/// fixed layout (sequence s owns blocks s * perSeq .. (s + 1) * perSeq - 1), which exists only
/// for the sequences the pool has room for. One place, so every backend refuses alike.
/// </summary>
internal sealed class KvBlockTables
{
    readonly int[][] _fixed; // [seq] -> its fixed-layout blocks, empty when the pool is too small
    readonly int _blockCount;

    public KvBlockTables(int sequences, int blocksPerSequence, int blockCount)
    {
        _blockCount = blockCount;
        _fixed = Enumerable.Range(0, sequences)
            .Select(s => (long)(s + 1) * blocksPerSequence <= blockCount ? Enumerable.Range(s * blocksPerSequence, blocksPerSequence).ToArray() : []).ToArray();
    }

    /// <summary>The block table of <paramref name="seq"/> in <paramref name="batch"/>.</summary>
    /// <exception cref="ArgumentException">No table given and no fixed layout for the sequence.</exception>
    public int[] TableOf(ForwardBatch batch, int seq)
    {
        var table = batch.BlocksOf(seq) ?? _fixed[seq];
        if (table.Length == 0)
            throw new ArgumentException($"sequence {seq} has no block table and the KV cache of {_blockCount} blocks is too small for the fixed layout; give block tables (ForwardBatch.SetBlocks)", nameof(batch));
        return table;
    }
}
