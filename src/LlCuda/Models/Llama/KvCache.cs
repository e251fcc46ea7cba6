using LlCuda.Cpu;
using LlCuda.Engine;

namespace LlCuda.Models.Llama;

/// <summary>
/// Keys and values of every layer on the CPU, as a pool of blocks of BlockSize positions (paged,
/// vLLM-style; see <see cref="IPagedKvRunner"/>). Layout per layer: [block][row][kv_dim] with
/// kv_dim = n_head_kv * head_dim; a position is addressed by its cache row, block * BlockSize +
/// row, which the caller finds from the sequence's block table (<see cref="RowOf"/>). Memory is
/// 2 * layers * blocks * BlockSize * kv_dim * (2 bytes F16 | 4 bytes F32).
/// </summary>
internal sealed class KvCache
{
    readonly Half[][]? _k16, _v16;     // [layer] -> [blocks * block_size * kv_dim]
    readonly float[][]? _k32, _v32;
    readonly int _kvDim;

    public KvCache(int layers, int blocks, int blockSize, int kvDim, KvCacheType type)
    {
        BlockSize = blockSize;
        BlockCount = blocks;
        _kvDim = kvDim;
        long perLayer = (long)blocks * blockSize * kvDim;
        if (perLayer > Array.MaxLength)
            throw new NotSupportedException($"a KV cache of {blocks} blocks x {blockSize} positions x {kvDim} is too large for one layer on the CPU; use a smaller --ctx or fewer sequences");
        if (type == KvCacheType.F16)
        {
            _k16 = Enumerable.Range(0, layers).Select(_ => new Half[perLayer]).ToArray();
            _v16 = Enumerable.Range(0, layers).Select(_ => new Half[perLayer]).ToArray();
        }
        else
        {
            _k32 = Enumerable.Range(0, layers).Select(_ => new float[perLayer]).ToArray();
            _v32 = Enumerable.Range(0, layers).Select(_ => new float[perLayer]).ToArray();
        }
        BlockBytes = 2L * layers * blockSize * kvDim * (type == KvCacheType.F16 ? 2 : 4);
    }

    public int BlockSize { get; }
    public int BlockCount { get; }
    /// <summary>Bytes of one block over all layers, keys and values.</summary>
    public long BlockBytes { get; }

    /// <summary>The cache row of position <paramref name="pos"/> through a block table.</summary>
    public int RowOf(ReadOnlySpan<int> table, int pos) => table[pos / BlockSize] * BlockSize + pos % BlockSize;

    /// <summary>Stores the key and value rows [kv_dim] of one token at cache row <paramref name="row"/>.</summary>
    public void Write(int layer, int row, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        int at = row * _kvDim;
        if (_k16 is not null)
        {
            CpuOps.ConvertToF16(k, _k16[layer].AsSpan(at, _kvDim));
            CpuOps.ConvertToF16(v, _v16![layer].AsSpan(at, _kvDim));
        }
        else
        {
            k.CopyTo(_k32![layer].AsSpan(at, _kvDim));
            v.CopyTo(_v32![layer].AsSpan(at, _kvDim));
        }
    }

    /// <summary>q . K[row] for key head <paramref name="head"/>.</summary>
    public float DotKey(int layer, int row, int head, int headDim, ReadOnlySpan<float> q)
    {
        int at = row * _kvDim + head * headDim;
        return _k16 is not null
            ? CpuOps.DotF16(_k16[layer].AsSpan(at, headDim), q)
            : CpuOps.Dot(_k32![layer].AsSpan(at, headDim), q);
    }

    /// <summary>output += weight * V[row] for value head <paramref name="head"/>.</summary>
    public void AccumulateValue(int layer, int row, int head, int headDim, float weight, Span<float> output)
    {
        int at = row * _kvDim + head * headDim;
        if (_v16 is not null) CpuOps.AxpyF16(weight, _v16[layer].AsSpan(at, headDim), output);
        else
        {
            // The F32 cache is the exactness option, not the fast path: a plain loop suffices.
            var v = _v32![layer].AsSpan(at, headDim);
            for (int i = 0; i < headDim; i++) output[i] += weight * v[i];
        }
    }
}
