using LlCuda.Interop;
using LlCuda.Tensors;

namespace LlCuda.Gguf;

/// <summary>
/// A GGUF model file (v2 or v3): metadata, tensor directory, and tensor data read in place
/// from a memory map. Opening validates the whole header and every tensor's extent, so a file
/// that opens can be used without further bounds checks.
/// </summary>
/// <remarks>
/// Layout: magic "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv_count key/value pairs,
/// tensor_count tensor infos (name, u32 n_dims, u64 dims[n_dims], u32 type, u64 offset), padding
/// to general.alignment (default 32), then the data section. All little-endian.
/// </remarks>
public sealed class GgufFile : IDisposable
{
    /// <summary>Alignment of the data section and of every tensor when general.alignment is absent.</summary>
    public const uint DefaultAlignment = 32;

    readonly ByteSource _bytes;

    internal GgufFile(string source, ByteSource bytes, uint version, GgufMetadata metadata,
        IReadOnlyList<GgufTensorInfo> tensors, uint alignment, long dataOffset)
    {
        Source = source;
        _bytes = bytes;
        Version = version;
        Metadata = metadata;
        Tensors = tensors;
        Alignment = alignment;
        DataOffset = dataOffset;
        TensorsByName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Opens and validates <paramref name="path"/> through a read-only memory map.</summary>
    /// <exception cref="GgufFormatException">The file is not a valid GGUF file.</exception>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public static GgufFile Open(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such model file (check the path, or list stored models with 'llcuda storage list')", path);
        var mapped = MappedFile.Open(path);
        try
        {
            return GgufParser.Parse(path, mapped);
        }
        catch
        {
            mapped.Dispose();
            throw;
        }
    }

    /// <summary>Parses a GGUF image held in memory (tests, fuzzing, small vocab files).</summary>
    public static GgufFile Parse(byte[] bytes, string name = "<memory>") =>
        GgufParser.Parse(name, new ArrayByteSource(bytes));

    /// <summary>Path (or name) the file was opened from; used in error messages.</summary>
    public string Source { get; }

    /// <summary>GGUF format version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Key/value metadata in file order.</summary>
    public GgufMetadata Metadata { get; }

    /// <summary>Tensor directory in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, GgufTensorInfo> TensorsByName { get; }

    /// <summary>general.alignment, or 32.</summary>
    public uint Alignment { get; }

    /// <summary>Byte offset of the data section in the file.</summary>
    public long DataOffset { get; }

    /// <summary>Total size of the file in bytes.</summary>
    public long FileSize => _bytes.Length;

    /// <summary>general.architecture, or null when the file has none (vocab-only files may not).</summary>
    public string? Architecture => Metadata.GetStringOrNull("general.architecture");

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    public GgufTensorInfo GetTensor(string name) =>
        TensorsByName.TryGetValue(name, out var t)
            ? t
            : throw new KeyNotFoundException($"{Source}: no tensor named '{name}' (the file has {Tensors.Count} tensors; list them with 'llcuda model info')");

    /// <summary>The stored bytes of <paramref name="tensor"/>, straight from the map (no copy).</summary>
    public ReadOnlySpan<byte> GetTensorData(GgufTensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.ByteSize > int.MaxValue)
            throw new NotSupportedException($"{Source}: tensor '{tensor.Name}' has {tensor.ByteSize:N0} bytes, more than one span can address; read it in rows");
        return _bytes.Read(DataOffset + tensor.Offset, (int)tensor.ByteSize);
    }

    /// <summary>Bytes of rows [firstRow, firstRow + rowCount) of <paramref name="tensor"/>.</summary>
    public ReadOnlySpan<byte> GetTensorRows(GgufTensorInfo tensor, long firstRow, int rowCount)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long rowBytes = GgmlTypeInfo.RowBytes(tensor.Type, tensor.RowLength);
        if (firstRow < 0 || rowCount < 0 || firstRow + rowCount > tensor.RowCount)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"rows [{firstRow}, {firstRow + rowCount}) outside tensor '{tensor.Name}' of {tensor.RowCount} rows");
        return _bytes.Read(DataOffset + tensor.Offset + firstRow * rowBytes, checked((int)(rowCount * rowBytes)));
    }

    /// <summary>Base address of the mapped file for kernels, or null when not memory-mapped.</summary>
    internal unsafe byte* MappedPointer => _bytes is MappedFile m ? m.Pointer : null;

    public void Dispose() => _bytes.Dispose();
}
