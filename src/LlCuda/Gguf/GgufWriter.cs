using System.Runtime.InteropServices;
using System.Text;
using LlCuda.Tensors;

namespace LlCuda.Gguf;

/// <summary>
/// Writes GGUF v3 files that llama.cpp loads: metadata in the order added, tensor infos, then
/// each tensor's data padded to the alignment, as gguf.cpp lays them out. Files are written
/// to a temporary file beside the target and renamed into place, so a reader never sees a
/// half-written model and a failed write leaves the old file untouched.
/// </summary>
public sealed class GgufWriter
{
    const int MaxNameBytes = 63;

    readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    readonly List<PendingTensor> _tensors = [];
    readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);
    uint _alignment;

    sealed record PendingTensor(string Name, GgmlType Type, long[] Dimensions, long ByteSize, Action<Stream> WriteData);

    /// <param name="alignment">Data alignment; a value other than 32 is recorded as general.alignment.</param>
    public GgufWriter(uint alignment = GgufFile.DefaultAlignment)
    {
        CheckAlignment(alignment);
        _alignment = alignment;
        if (alignment != GgufFile.DefaultAlignment) Add("general.alignment", GgufValue.Of(alignment));
    }

    /// <summary>A writer holding every key and tensor of <paramref name="file"/> (data copied from its map on write).</summary>
    public static GgufWriter CopyOf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var w = new GgufWriter(file.Alignment);
        foreach (var (key, value) in file.Metadata)
            if (!w._keys.Contains(key)) w.Add(key, value);
        foreach (var t in file.Tensors)
            w.AddTensor(t.Name, t.Type, t.Dimensions, t.ByteSize, s => s.Write(file.GetTensorData(t)));
        return w;
    }

    /// <summary>Metadata added so far, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;

    /// <summary>Adds a metadata key. general.alignment, when given, sets the data alignment.</summary>
    public void Add(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_keys.Add(key)) throw new ArgumentException($"metadata key '{key}' was already added", nameof(key));
        if (key == "general.alignment")
        {
            if (value.Type != GgufValueType.UInt32) throw new ArgumentException($"general.alignment must be uint32, got {value.Describe()}", nameof(value));
            CheckAlignment((uint)value.Value);
            _alignment = (uint)value.Value;
        }
        _metadata.Add(new(key, value));
    }

    /// <summary>Adds a tensor whose bytes are in <paramref name="data"/> (already in <paramref name="type"/>'s layout).</summary>
    /// <param name="dims">ggml order: dims[0] is the row length.</param>
    public void AddTensor(string name, GgmlType type, long[] dims, ReadOnlyMemory<byte> data) =>
        AddTensor(name, type, dims, data.Length, s => s.Write(data.Span));

    /// <summary>Adds a tensor whose <paramref name="byteSize"/> bytes are produced by <paramref name="writeData"/> at write time.</summary>
    public void AddTensor(string name, GgmlType type, long[] dims, long byteSize, Action<Stream> writeData)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(dims);
        ArgumentNullException.ThrowIfNull(writeData);
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            throw new ArgumentException($"tensor name '{name}' is longer than ggml's {MaxNameBytes}-byte limit", nameof(name));
        if (dims.Length is 0 or > 4 || dims.Any(d => d < 0))
            throw new ArgumentException($"tensor '{name}': dims [{string.Join(", ", dims)}] must be 1 to 4 non-negative sizes", nameof(dims));
        long rowBytes = GgmlTypeInfo.RowBytes(type, dims[0]);
        if (rowBytes < 0)
            throw new ArgumentException($"tensor '{name}': row length {dims[0]} is not a multiple of {type}'s block size {GgmlTypeInfo.BlockSize(type)}", nameof(dims));
        long rows = 1;
        foreach (var d in dims.AsSpan(1)) rows = checked(rows * d);
        long expected = checked(rows * rowBytes);
        if (byteSize != expected)
            throw new ArgumentException($"tensor '{name}': {byteSize} bytes of data, but {type} [{string.Join(", ", dims)}] takes {expected}", nameof(byteSize));
        if (!_tensorNames.Add(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        _tensors.Add(new PendingTensor(name, type, (long[])dims.Clone(), byteSize, writeData));
    }

    /// <summary>Writes the file atomically: a temporary file beside <paramref name="path"/>, flushed, then renamed over it.</summary>
    public void Write(string path)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Writes the whole file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var output = new CountingStream(stream);
        var header = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        header.Write("GGUF"u8);
        header.Write(3u);
        header.Write((ulong)_tensors.Count);
        header.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(header, key);
            header.Write((uint)value.Type);
            WriteValue(header, value);
        }

        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(header, t.Name);
            header.Write((uint)t.Dimensions.Length);
            foreach (var d in t.Dimensions) header.Write((ulong)d);
            header.Write((uint)t.Type);
            header.Write((ulong)offset);
            offset += Padded(t.ByteSize);
        }
        header.Flush();
        Pad(output);

        foreach (var t in _tensors)
        {
            long start = output.Position;
            t.WriteData(output);
            long written = output.Position - start;
            if (written != t.ByteSize)
                throw new InvalidOperationException($"tensor '{t.Name}': the data source wrote {written} bytes, expected {t.ByteSize}");
            Pad(output);
        }
        output.Flush();
    }

    long Padded(long n) => (n + _alignment - 1) / _alignment * _alignment;

    void Pad(CountingStream s)
    {
        long pad = Padded(s.Position) - s.Position;
        Span<byte> zeros = stackalloc byte[64];
        zeros.Clear();
        while (pad > 0)
        {
            int n = (int)Math.Min(pad, zeros.Length);
            s.Write(zeros[..n]);
            pad -= n;
        }
    }

    static void WriteString(BinaryWriter w, string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        w.Write((ulong)n);
        Span<byte> buffer = n <= 256 ? stackalloc byte[n] : new byte[n];
        Encoding.UTF8.GetBytes(s, buffer);
        w.Write(buffer);
    }

    static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Value)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case float x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case double x: w.Write(x); break;
            default: WriteArray(w, v); break;
        }
    }

    static void WriteArray(BinaryWriter w, GgufValue v)
    {
        w.Write((uint)v.ElementType);
        w.Write((ulong)v.Count);
        switch (v.Value)
        {
            case string[] xs: foreach (var x in xs) WriteString(w, x); break;
            case bool[] xs: foreach (var x in xs) w.Write((byte)(x ? 1 : 0)); break;
            case GgufValue[] xs: foreach (var x in xs) WriteArray(w, x); break;
            case byte[] xs: w.Write(xs); break;
            case sbyte[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case ushort[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case short[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case uint[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case int[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case float[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case ulong[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case long[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            case double[] xs: w.Write(MemoryMarshal.AsBytes(xs.AsSpan())); break;
            default: throw new InvalidOperationException($"unsupported GGUF array value {v.Value.GetType().Name}");
        }
    }

    static void CheckAlignment(uint alignment)
    {
        if (alignment == 0 || (alignment & (alignment - 1)) != 0)
            throw new ArgumentOutOfRangeException(nameof(alignment), alignment, "alignment must be a power of two");
    }

    /// <summary>Counts bytes written so padding does not depend on the target stream being seekable.</summary>
    sealed class CountingStream(Stream inner) : Stream
    {
        long _position;
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _position;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            _position += buffer.Length;
        }
    }
}
