using System.Diagnostics.CodeAnalysis;

namespace LlCuda.Tensors;

/// <summary>Argument checks shared by <see cref="Dequantize"/> and <see cref="Quantize"/>, kept out of the loops.</summary>
static class RowChecks
{
    /// <summary>
    /// Checks that <paramref name="elements"/> is a whole number of <paramref name="type"/>
    /// blocks and that the packed side holds exactly their bytes.
    /// </summary>
    public static void Check(string op, GgmlType type, int packedBytes, int elements, string packedName)
    {
        int blockSize = GgmlTypeInfo.BlockSize(type);
        if (elements % blockSize != 0) ThrowNotWholeBlocks(op, type, elements, blockSize);
        long expected = GgmlTypeInfo.RowBytes(type, elements);
        if (packedBytes != expected) ThrowWrongBytes(op, type, packedName, packedBytes, elements, expected);
    }

    /// <summary>Checks a per-type call: <paramref name="blocks"/> blocks of <paramref name="blockSize"/> must fill <paramref name="elements"/>.</summary>
    public static void CheckCount(int blocks, int blockSize, int elements, string typeName)
    {
        if ((long)blocks * blockSize != elements) ThrowCountMismatch(blocks, blockSize, elements, typeName);
    }

    [DoesNotReturn]
    static void ThrowNotWholeBlocks(string op, GgmlType type, int elements, int blockSize) =>
        throw new ArgumentException(
            $"{op}.Row: {elements} elements is not a multiple of the {type} block size {blockSize} " +
            $"(pass whole blocks: the row length of a {type} tensor must be a multiple of {blockSize})");

    [DoesNotReturn]
    static void ThrowWrongBytes(string op, GgmlType type, string name, int actual, int elements, long expected) =>
        throw new ArgumentException(
            $"{op}.Row: {name} has {actual} bytes but {elements} {type} elements take {expected} bytes " +
            "(slice the tensor data to exactly the row(s) being converted)", name);

    [DoesNotReturn]
    static void ThrowCountMismatch(int blocks, int blockSize, int elements, string typeName) =>
        throw new ArgumentException(
            $"{typeName}: {blocks} blocks of {blockSize} hold {(long)blocks * blockSize} elements but the " +
            $"float span has {elements} (size the float span as blocks * {blockSize})");
}
