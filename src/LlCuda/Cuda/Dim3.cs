namespace LlCuda.Cuda;

/// <summary>A grid or block shape in CUDA's x, y, z (each at least 1).</summary>
public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <summary>A one-dimensional shape.</summary>
    public static implicit operator Dim3(uint x) => new(x);

    /// <summary>X * Y * Z.</summary>
    public ulong Count => (ulong)X * Y * Z;

    public override string ToString() => $"{X}x{Y}x{Z}";
}
