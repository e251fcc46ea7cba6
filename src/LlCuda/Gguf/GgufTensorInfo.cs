using LlCuda.Tensors;

namespace LlCuda.Gguf;

/// <summary>
/// One tensor's entry in the GGUF header. Dimensions are in ggml order: Dimensions[0] is the
/// row length (contiguous elements), Dimensions[1] the number of rows, and so on; a weight
/// matrix W of a layer y = W x with x of length n and y of length m is [n, m].
/// </summary>
public sealed class GgufTensorInfo
{
    internal GgufTensorInfo(string name, GgmlType type, long[] dimensions, long offset, long elementCount, long byteSize)
    {
        Name = name;
        Type = type;
        Dimensions = dimensions;
        Offset = offset;
        ElementCount = elementCount;
        ByteSize = byteSize;
    }

    /// <summary>Tensor name, e.g. "blk.3.attn_q.weight".</summary>
    public string Name { get; }

    /// <summary>Element type of the stored data.</summary>
    public GgmlType Type { get; }

    /// <summary>Sizes per dimension, ggml order (row length first); 1 to 4 entries.</summary>
    public long[] Dimensions { get; }

    /// <summary>Start of the data, in bytes from the start of the file's data section.</summary>
    public long Offset { get; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Bytes of the stored data (rows times the row's bytes in this type).</summary>
    public long ByteSize { get; }

    /// <summary>Elements per row (Dimensions[0]).</summary>
    public long RowLength => Dimensions[0];

    /// <summary>Number of rows (product of all dimensions but the first).</summary>
    public long RowCount => RowLength == 0 ? 0 : ElementCount / RowLength;

    /// <summary>Shape as "[4096, 32000]".</summary>
    public string ShapeText => "[" + string.Join(", ", Dimensions) + "]";
}
