using LlCuda.Cpu;
using LlCuda.Engine;

namespace LlCuda.Models.Llama;

/// <summary>
/// Keys and values of every layer for up to MaxSequences sequences of ContextLength positions,
/// on the CPU. Layout per layer: [sequence][position][kv_dim] with kv_dim = n_head_kv * head_dim,
/// so the keys of one head at consecutive positions are kv_dim elements apart. Memory is
/// 2 * layers * sequences * context * kv_dim * (2 bytes F16 | 4 bytes F32).
/// </summary>
internal sealed class KvCache
{
    readonly Half[][]? _k16, _v16;     // [layer] -> [seq * ctx * kvDim]
    readonly float[][]? _k32, _v32;
    readonly int _ctx, _kvDim;
    readonly int[] _lengths;           // [seq] positions held

    public KvCache(int layers, int sequences, int contextLength, int kvDim, KvCacheType type)
    {
        _ctx = contextLength;
        _kvDim = kvDim;
        _lengths = new int[sequences];
        long perLayer = (long)sequences * contextLength * kvDim;
        if (perLayer > Array.MaxLength)
            throw new NotSupportedException($"KV cache of {sequences} sequences x {contextLength} positions x {kvDim} is too large for one layer; use a smaller --ctx");
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
    }

    /// <summary>Positions held for <paramref name="seq"/>.</summary>
    public int Length(int seq) => _lengths[seq];

    public void Truncate(int seq, int fromPosition)
    {
        if ((uint)seq >= (uint)_lengths.Length) throw new ArgumentOutOfRangeException(nameof(seq));
        _lengths[seq] = Math.Min(_lengths[seq], Math.Max(0, fromPosition));
    }

    long Offset(int seq, int pos) => ((long)seq * _ctx + pos) * _kvDim;

    /// <summary>Stores the key and value rows [kv_dim] of one token.</summary>
    public void Write(int layer, int seq, int pos, ReadOnlySpan<float> k, ReadOnlySpan<float> v)
    {
        long at = Offset(seq, pos);
        if (_k16 is not null)
        {
            CpuOps.ConvertToF16(k, _k16[layer].AsSpan((int)at, _kvDim));
            CpuOps.ConvertToF16(v, _v16![layer].AsSpan((int)at, _kvDim));
        }
        else
        {
            k.CopyTo(_k32![layer].AsSpan((int)at, _kvDim));
            v.CopyTo(_v32![layer].AsSpan((int)at, _kvDim));
        }
        if (layer == 0 && pos >= _lengths[seq]) _lengths[seq] = pos + 1;
    }

    /// <summary>q . K[pos] for key head <paramref name="head"/>.</summary>
    public float DotKey(int layer, int seq, int pos, int head, int headDim, ReadOnlySpan<float> q)
    {
        int at = (int)Offset(seq, pos) + head * headDim;
        return _k16 is not null
            ? CpuOps.DotF16(_k16[layer].AsSpan(at, headDim), q)
            : CpuOps.Dot(_k32![layer].AsSpan(at, headDim), q);
    }

    /// <summary>output += weight * V[pos] for value head <paramref name="head"/>.</summary>
    public void AccumulateValue(int layer, int seq, int pos, int head, int headDim, float weight, Span<float> output)
    {
        int at = (int)Offset(seq, pos) + head * headDim;
        if (_v16 is not null) CpuOps.AxpyF16(weight, _v16[layer].AsSpan(at, headDim), output);
        else
        {
            // The F32 cache is the exactness option, not the fast path: a plain loop suffices.
            var v = _v32![layer].AsSpan(at, headDim);
            for (int i = 0; i < headDim; i++) output[i] += weight * v[i];
        }
    }
}
