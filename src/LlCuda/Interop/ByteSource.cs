namespace LlCuda.Interop;

/// <summary>
/// Random read access to the bytes of a file, whether memory-mapped or held in an array, with
/// 64-bit offsets (model files pass 4 GiB). Parsers read through this so fuzzing can feed
/// arrays and production code maps files without copying them.
/// </summary>
internal abstract class ByteSource : IDisposable
{
    /// <summary>Total bytes.</summary>
    public abstract long Length { get; }

    /// <summary>
    /// <paramref name="count"/> bytes starting at <paramref name="offset"/>. The caller has
    /// checked that the range lies inside <see cref="Length"/>.
    /// </summary>
    public abstract ReadOnlySpan<byte> Read(long offset, int count);

    public virtual void Dispose() { }
}

/// <summary>Bytes held in a managed array (tests, fuzzing, small files).</summary>
internal sealed class ArrayByteSource(byte[] bytes) : ByteSource
{
    public override long Length => bytes.Length;
    public override ReadOnlySpan<byte> Read(long offset, int count) => bytes.AsSpan(checked((int)offset), count);
}
