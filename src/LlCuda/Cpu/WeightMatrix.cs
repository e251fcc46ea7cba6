using System.Diagnostics.CodeAnalysis;
using LlCuda.Tensors;

namespace LlCuda.Cpu;

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
    /// <summary>Bytes per row (Cols / block size * block bytes).</summary>
    public int RowBytes { get; }

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

    /// <summary>Total bytes the matrix occupies (Rows * RowBytes).</summary>
    public long ByteSize => (long)Rows * RowBytes;

    /// <summary>Byte 0 of row <paramref name="row"/> (unchecked).</summary>
    internal byte* Row(int row) => Data + (long)row * RowBytes;

    /// <summary>The matrix's bytes as a span (for tests and dequantizing).</summary>
    public ReadOnlySpan<byte> Bytes => new(Data, checked((int)ByteSize));

    public override string ToString() => $"WeightMatrix({Type}, {Rows} x {Cols})";

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
