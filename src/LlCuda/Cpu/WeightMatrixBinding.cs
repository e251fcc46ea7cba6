using LlCuda.Gguf;

namespace LlCuda.Cpu;

/// <summary>Views a 2-D GGUF tensor in its memory map as a <see cref="WeightMatrix"/> (no copy).</summary>
public static unsafe class WeightMatrixBinding
{
    /// <summary>The tensor [cols, rows] of <paramref name="file"/> as Rows x Cols weights.</summary>
    public static WeightMatrix FromTensor(GgufFile file, GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(tensor);
        byte* basePtr = file.MappedPointer;
        if (basePtr is null)
            throw new NotSupportedException($"{file.Source}: weights can only be bound from a memory-mapped file (open it with GgufFile.Open)");
        return At(basePtr + file.DataOffset + tensor.Offset, tensor);
    }

    /// <summary>The tensor's bytes at <paramref name="data"/> (its GGUF layout) as Rows x Cols weights.</summary>
    internal static WeightMatrix At(byte* data, GgufTensorInfo tensor)
    {
        var (rows, cols) = Shape(tensor);
        return new WeightMatrix(data, tensor.Type, rows, cols);
    }

    /// <summary>(Rows, Cols) of a 2-D tensor [cols, rows].</summary>
    /// <exception cref="ArgumentException">Not a matrix of int-sized dimensions.</exception>
    internal static (int Rows, int Cols) Shape(GgufTensorInfo tensor)
    {
        if (tensor.Dimensions.Length != 2 || tensor.Dimensions[0] > int.MaxValue || tensor.Dimensions[1] > int.MaxValue)
            throw new ArgumentException($"tensor '{tensor.Name}' {tensor.ShapeText} is not a matrix of int-sized dimensions", nameof(tensor));
        return ((int)tensor.Dimensions[1], (int)tensor.Dimensions[0]);
    }
}
