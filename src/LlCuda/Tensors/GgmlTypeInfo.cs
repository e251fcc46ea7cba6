namespace LlCuda.Tensors;

/// <summary>
/// Block geometry of each ggml type: how many elements one block holds and how many bytes it
/// takes. A row of n elements takes n / BlockSize * BlockBytes bytes and n must be a multiple
/// of BlockSize. Values match ggml's type_traits table byte for byte.
/// </summary>
public static class GgmlTypeInfo
{
    /// <summary>Elements per block (1 for plain types, 32 for the legacy quants, 256 for K-quants).</summary>
    public static int BlockSize(GgmlType type) => Geometry(type).BlockSize;

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(GgmlType type) => Geometry(type).BlockBytes;

    /// <summary>Average bits per weight of the type (block bytes * 8 / block size).</summary>
    public static double BitsPerWeight(GgmlType type)
    {
        var (blockSize, blockBytes) = Geometry(type);
        return blockBytes * 8.0 / blockSize;
    }

    /// <summary>True when <paramref name="id"/> is a type id this build knows.</summary>
    public static bool IsKnown(uint id) => Enum.IsDefined(typeof(GgmlType), id);

    /// <summary>Upper-case name as ggml prints it (e.g. "Q4_K").</summary>
    public static string Name(GgmlType type) => type.ToString();

    /// <summary>
    /// Bytes that <paramref name="elements"/> elements of a row take, or -1 when the count is
    /// not a multiple of the block size (such a row cannot be stored in this type).
    /// </summary>
    public static long RowBytes(GgmlType type, long elements)
    {
        var (blockSize, blockBytes) = Geometry(type);
        if (elements % blockSize != 0) return -1;
        return elements / blockSize * blockBytes;
    }

    /// <summary>Parses a type name such as "q4_0", "Q4_K" or "bf16" (case-insensitive).</summary>
    public static bool TryParse(string name, out GgmlType type) =>
        Enum.TryParse(name, ignoreCase: true, out type) && Enum.IsDefined(type);

    static (int BlockSize, int BlockBytes) Geometry(GgmlType type) => type switch
    {
        GgmlType.F32 => (1, 4),
        GgmlType.F16 => (1, 2),
        GgmlType.BF16 => (1, 2),
        GgmlType.F64 => (1, 8),
        GgmlType.I8 => (1, 1),
        GgmlType.I16 => (1, 2),
        GgmlType.I32 => (1, 4),
        GgmlType.I64 => (1, 8),
        GgmlType.Q4_0 => (32, 18),
        GgmlType.Q4_1 => (32, 20),
        GgmlType.Q5_0 => (32, 22),
        GgmlType.Q5_1 => (32, 24),
        GgmlType.Q8_0 => (32, 34),
        GgmlType.Q8_1 => (32, 36),
        GgmlType.IQ4_NL => (32, 18),
        GgmlType.MXFP4 => (32, 17),
        GgmlType.NVFP4 => (64, 36),
        GgmlType.Q1_0 => (128, 18),
        GgmlType.Q2_0 => (64, 18),
        GgmlType.Q2_K => (256, 84),
        GgmlType.Q3_K => (256, 110),
        GgmlType.Q4_K => (256, 144),
        GgmlType.Q5_K => (256, 176),
        GgmlType.Q6_K => (256, 210),
        GgmlType.Q8_K => (256, 292),
        GgmlType.IQ2_XXS => (256, 66),
        GgmlType.IQ2_XS => (256, 74),
        GgmlType.IQ3_XXS => (256, 98),
        GgmlType.IQ1_S => (256, 50),
        GgmlType.IQ3_S => (256, 110),
        GgmlType.IQ2_S => (256, 82),
        GgmlType.IQ4_XS => (256, 136),
        GgmlType.IQ1_M => (256, 56),
        GgmlType.TQ1_0 => (256, 54),
        GgmlType.TQ2_0 => (256, 66),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown ggml type id"),
    };
}
