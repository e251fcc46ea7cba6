using System.Diagnostics.CodeAnalysis;
using LlCuda.Tensors;

namespace LlCuda.Cpu;

/// <summary>Byte arrangement of a <see cref="WeightMatrix"/>.</summary>
public enum WeightLayout
{
    /// <summary>ggml's: rows back to back, each a run of the type's blocks.</summary>
    Rows,
    /// <summary>Q4_0 or Q4_K repacked into 16-row tiles (see PackedQ4_0, PackedQ4_K), made at load time.</summary>
    Tiles16,
}

/// <summary>
/// A weight matrix as ggml stores it, used in place (typically straight from a GGUF memory map):
/// <see cref="Rows"/> output features, each row <see cref="Cols"/> input features packed in
/// <see cref="Type"/>'s block layout, rows back to back with no padding. In ggml terms this is a
/// tensor of dimensions [Cols, Rows] (ne0 = Cols is the row length).
/// </summary>
/// <remarks>
/// The struct holds a raw pointer and owns nothing: the memory must stay valid (the map open,
/// a managed array pinned) for as long as the matrix is used.
/// </remarks>
public readonly unsafe struct WeightMatrix
{
    /// <summary>Byte 0 of row 0.</summary>
    public byte* Data { get; }
    /// <summary>Element type of the rows.</summary>
    public GgmlType Type { get; }
    /// <summary>Output features (number of rows).</summary>
    public int Rows { get; }
    /// <summary>Input features (elements per row); a multiple of the type's block size.</summary>
    public int Cols { get; }
    /// <summary>Bytes per row (Cols / block size * block bytes) in ggml's row layout.</summary>
    public int RowBytes { get; }
    /// <summary>How the bytes at <see cref="Data"/> are arranged (ggml rows, or repacked tiles).</summary>
    public WeightLayout Layout { get; }

    /// <param name="data">Byte 0 of row 0; Rows * RowBytes bytes must be readable.</param>
    /// <param name="type">Block type of every row; must be one <see cref="CpuMatMul.Supports"/> accepts.</param>
    /// <param name="rows">Output features.</param>
    /// <param name="cols">Input features; a multiple of the type's block size.</param>
    /// <exception cref="ArgumentException">Null data, negative sizes, or cols not a whole number of blocks.</exception>
    /// <exception cref="NotSupportedException">The type has no CPU matmul kernel.</exception>
    public WeightMatrix(byte* data, GgmlType type, int rows, int cols)
    {
        if (data == null && (long)rows * cols != 0) ThrowNull();
        if (rows < 0 || cols < 0) ThrowNegative(rows, cols);
        if (!CpuMatMul.Supports(type)) ThrowUnsupported(type);
        long rowBytes = GgmlTypeInfo.RowBytes(type, cols);
        if (rowBytes < 0) ThrowBlocks(type, cols);
        Data = data;
        Type = type;
        Rows = rows;
        Cols = cols;
        RowBytes = (int)rowBytes;
    }

    /// <summary>The same matrix repacked at <paramref name="data"/> (see <see cref="PackedTiles"/>).</summary>
    internal WeightMatrix(byte* data, in WeightMatrix rows, WeightLayout layout)
    {
        Data = data;
        Type = rows.Type;
        Rows = rows.Rows;
        Cols = rows.Cols;
        RowBytes = rows.RowBytes;
        Layout = layout;
    }

    /// <summary>Total bytes the matrix occupies (Rows * RowBytes for ggml rows; whole tiles when repacked).</summary>
    public long ByteSize => Layout == WeightLayout.Rows ? (long)Rows * RowBytes : PackedTiles.Bytes(Type, Rows, Cols);

    /// <summary>Byte 0 of row <paramref name="row"/> (unchecked; ggml row layout only).</summary>
    internal byte* Row(int row) => Data + (long)row * RowBytes;

    /// <summary>Byte 0 of 16-row tile <paramref name="tile"/> (unchecked; repacked layout only).</summary>
    internal byte* Tile(int tile) => Data + tile * PackedTiles.TileBytes(Type, Cols);

    /// <summary>The matrix's bytes as a span (for tests and dequantizing).</summary>
    public ReadOnlySpan<byte> Bytes => new(Data, checked((int)ByteSize));

    public override string ToString() => Layout == WeightLayout.Rows ? $"WeightMatrix({Type}, {Rows} x {Cols})" : $"WeightMatrix({Type} {Layout}, {Rows} x {Cols})";

    [DoesNotReturn]
    static void ThrowNull() => throw new ArgumentException("WeightMatrix: data is null but the matrix is not empty", "data");

    [DoesNotReturn]
    static void ThrowNegative(int rows, int cols) =>
        throw new ArgumentException($"WeightMatrix: rows ({rows}) and cols ({cols}) must not be negative", rows < 0 ? "rows" : "cols");

    [DoesNotReturn]
    static void ThrowBlocks(GgmlType type, int cols) => throw new ArgumentException(
        $"WeightMatrix: a {type} row holds whole blocks of {GgmlTypeInfo.BlockSize(type)} elements, but cols is {cols}", nameof(cols));

    [DoesNotReturn]
    static void ThrowUnsupported(GgmlType type) => throw new NotSupportedException(
        $"WeightMatrix: no CPU matmul kernel for {type} weights (supported: {CpuMatMul.SupportedTypesText})");
}
