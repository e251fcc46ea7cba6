namespace LlCuda.Cuda.Layouts;

/// <summary>
/// Device layouts of Q4_K, Q6_K and Q8_0 weights that matvec_q4_k.cu, matvec_q6_k.cu and matvec_q8_0.cu read: each
/// GGUF super-block's byte ranges moved into one array per field ("planes"), so the quants of
/// consecutive super-blocks are contiguous and 16-byte aligned for vector loads. Pure byte
/// moves, the same bytes in total.
/// Q4_K (144 bytes: d, dmin, 12 scale bytes, 128 quant bytes): planes meta [16] and quants [128].
/// Q6_K (210 bytes: ql 128, qh 64, scales 16, d 2): planes ql [128], qh [64], scales [16], d [2].
/// Q8_0 (34 bytes: d 2, codes 32): planes codes [32], d [2].
/// </summary>
public static class GpuKQuantLayout
{
    /// <summary>(GGUF offset, length) of each plane of a Q4_K super-block, in plane order.</summary>
    public static readonly (int Offset, int Length)[] Q4_KPlanes = [(0, 16), (16, 128)];

    /// <summary>(GGUF offset, length) of each plane of a Q6_K super-block: ql, qh, scales, d.</summary>
    public static readonly (int Offset, int Length)[] Q6_KPlanes = [(0, 128), (128, 64), (192, 16), (208, 2)];

    /// <summary>(GGUF offset, length) of each plane of a Q8_0 block: codes, d.</summary>
    public static readonly (int Offset, int Length)[] Q8_0Planes = [(2, 32), (0, 2)];

    /// <summary>
    /// Moves every super-block's byte ranges into <paramref name="planes"/> (one array per range,
    /// each superBlocks * length bytes).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not match.</exception>
    public static void Split(ReadOnlySpan<byte> gguf, (int Offset, int Length)[] layout, IReadOnlyList<byte[]> planes)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(planes);
        int blockBytes = layout.Sum(p => p.Length);
        if (gguf.Length % blockBytes != 0)
            throw new ArgumentException($"{gguf.Length} bytes are not whole {blockBytes}-byte super-blocks", nameof(gguf));
        int blocks = gguf.Length / blockBytes;
        if (planes.Count != layout.Length) throw new ArgumentException($"expected {layout.Length} planes, got {planes.Count}", nameof(planes));
        for (int i = 0; i < layout.Length; i++)
            if (planes[i].Length != (long)blocks * layout[i].Length)
                throw new ArgumentException($"plane {i} must hold {(long)blocks * layout[i].Length} bytes, has {planes[i].Length}", nameof(planes));
        for (int b = 0; b < blocks; b++)
        {
            var block = gguf.Slice(b * blockBytes, blockBytes);
            for (int i = 0; i < layout.Length; i++)
                block.Slice(layout[i].Offset, layout[i].Length).CopyTo(planes[i].AsSpan(b * layout[i].Length, layout[i].Length));
        }
    }
}
