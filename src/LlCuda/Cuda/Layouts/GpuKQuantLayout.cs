using LlCuda.Tensors;

namespace LlCuda.Cuda.Layouts;

/// <summary>
/// Device layouts of the block-quantized weights that the matvec_*.cu kernels read (all but
/// Q4_0, which has <see cref="GpuQ4_0Layout"/>): each GGUF block's byte ranges moved into one
/// array per field ("planes"), so the quants of consecutive blocks are contiguous and 16-byte
/// aligned for vector loads. Pure byte moves, the same bytes in total. Planes are listed in the
/// order the kernels take them as arguments.
/// Q4_1 (20 bytes: d, m, 16 quant bytes): planes quants [16], d and m [4].
/// Q5_0 (22 bytes: d, qh 4, quants 16): planes quants [16], qh [4], d [2].
/// Q5_1 (24 bytes: d, m, qh 4, quants 16): planes quants [16], qh [4], d and m [4].
/// Q8_0 (34 bytes: d 2, codes 32): planes codes [32], d [2].
/// Q4_K (144 bytes: d, dmin, 12 scale bytes, 128 quant bytes): planes quants [128], meta [16].
/// Q5_K (176 bytes: d, dmin, 12 scale bytes, qh 32, quants 128): planes quants [128], qh [32], meta [16].
/// Q6_K (210 bytes: ql 128, qh 64, scales 16, d 2): planes ql [128], qh [64], scales [16], d [2].
/// </summary>
public static class GpuKQuantLayout
{
    /// <summary>(GGUF offset, length) of each plane of a Q4_1 block: quants, (d, m).</summary>
    public static readonly (int Offset, int Length)[] Q4_1Planes = [(4, 16), (0, 4)];

    /// <summary>(GGUF offset, length) of each plane of a Q5_0 block: quants, qh, d.</summary>
    public static readonly (int Offset, int Length)[] Q5_0Planes = [(6, 16), (2, 4), (0, 2)];

    /// <summary>(GGUF offset, length) of each plane of a Q5_1 block: quants, qh, (d, m).</summary>
    public static readonly (int Offset, int Length)[] Q5_1Planes = [(8, 16), (4, 4), (0, 4)];

    /// <summary>(GGUF offset, length) of each plane of a Q8_0 block: codes, d.</summary>
    public static readonly (int Offset, int Length)[] Q8_0Planes = [(2, 32), (0, 2)];

    /// <summary>(GGUF offset, length) of each plane of a Q4_K super-block: quants, meta (d, dmin, scales).</summary>
    public static readonly (int Offset, int Length)[] Q4_KPlanes = [(16, 128), (0, 16)];

    /// <summary>(GGUF offset, length) of each plane of a Q5_K super-block: quants, qh, meta (d, dmin, scales).</summary>
    public static readonly (int Offset, int Length)[] Q5_KPlanes = [(48, 128), (16, 32), (0, 16)];

    /// <summary>(GGUF offset, length) of each plane of a Q6_K super-block: ql, qh, scales, d.</summary>
    public static readonly (int Offset, int Length)[] Q6_KPlanes = [(0, 128), (128, 64), (192, 16), (208, 2)];

    /// <summary>The planes of <paramref name="type"/>, or null for a type this class does not split.</summary>
    public static (int Offset, int Length)[]? PlanesOf(GgmlType type) => type switch
    {
        GgmlType.Q4_1 => Q4_1Planes,
        GgmlType.Q5_0 => Q5_0Planes,
        GgmlType.Q5_1 => Q5_1Planes,
        GgmlType.Q8_0 => Q8_0Planes,
        GgmlType.Q4_K => Q4_KPlanes,
        GgmlType.Q5_K => Q5_KPlanes,
        GgmlType.Q6_K => Q6_KPlanes,
        _ => null,
    };

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
