using LlCuda.Tensors;

namespace LlCuda.Cpu;

/// <summary>Which weight types have a 16-row repacked layout, and its sizes (see <see cref="PackedQ4_0"/>, <see cref="PackedQ4_K"/>).</summary>
internal static unsafe class PackedTiles
{
    public static bool CanPack(GgmlType type) => type is GgmlType.Q4_0 or GgmlType.Q4_K;

    /// <summary>Bytes of one 16-row tile of a row of <paramref name="cols"/> weights.</summary>
    public static long TileBytes(GgmlType type, int cols) => type switch
    {
        GgmlType.Q4_0 => (long)(cols / 32) * PackedQ4_0.BlockBytes,
        GgmlType.Q4_K => (long)(cols / 256) * PackedQ4_K.BlockBytes,
        _ => throw new NotSupportedException($"no repacked layout for {type}"),
    };

    /// <summary>Bytes of a packed [rows, cols] matrix (whole tiles).</summary>
    public static long Bytes(GgmlType type, int rows, int cols) => (rows + 15L) / 16 * TileBytes(type, cols);

    /// <summary>Repacks <paramref name="src"/> (ggml rows) into <see cref="Bytes"/> bytes at <paramref name="dst"/>.</summary>
    public static void Pack(in WeightMatrix src, byte* dst)
    {
        switch (src.Type)
        {
            case GgmlType.Q4_0: PackedQ4_0.Pack(src, dst); break;
            case GgmlType.Q4_K: PackedQ4_K.Pack(src, dst); break;
            default: throw new NotSupportedException($"no repacked layout for {src.Type}");
        }
    }
}
