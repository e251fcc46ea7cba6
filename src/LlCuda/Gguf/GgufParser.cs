using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using LlCuda.Interop;
using LlCuda.Tensors;

namespace LlCuda.Gguf;

/// <summary>
/// Reads and validates a GGUF header. Every count and length the file states is checked
/// against the bytes that remain before anything is allocated for it, so a 100-byte file
/// cannot make us allocate gigabytes; every failure is a <see cref="GgufFormatException"/>
/// naming the field and its byte offset.
/// </summary>
internal sealed class GgufParser
{
    const uint Magic = 0x46554747; // "GGUF" read as a little-endian u32
    const int MaxDimensions = 4;    // GGML_MAX_DIMS
    const int MaxNameBytes = 63;    // GGML_MAX_NAME (64) less the terminating zero
    const int MaxArrayNesting = 8;  // deeper nesting is no real model's; it would only exhaust the stack

    /// <summary>
    /// Names the field being read. Formatting is deferred to the error path so that reading
    /// a 150,000-entry vocabulary allocates no field-name strings.
    /// </summary>
    readonly record struct Field(string Name, long Index = -1, string? Suffix = null)
    {
        public static implicit operator Field(string name) => new(name);
        public Field With(string suffix) => this with { Suffix = Suffix is null ? suffix : $"{Suffix} {suffix}" };
        public override string ToString() =>
            (Index >= 0 ? $"element {Index} of '{Name}'" : Name) + (Suffix is null ? "" : " " + Suffix);
    }

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    readonly string _source;
    readonly ByteSource _bytes;
    long _pos;

    GgufParser(string source, ByteSource bytes)
    {
        _source = source;
        _bytes = bytes;
    }

    long Remaining => _bytes.Length - _pos;

    public static GgufFile Parse(string source, ByteSource bytes) => new GgufParser(source, bytes).Parse();

    GgufFile Parse()
    {
        if (_bytes.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(_bytes.Read(0, 4)) != Magic)
            Fail("magic", 0, $"expected the bytes 'GGUF', found {FirstBytes()} (not a GGUF model file; llcuda reads GGUF v2/v3 only)");
        _pos = 4;

        long versionAt = _pos;
        uint version = ReadU32("version");
        if (version is 2 or 3) { }
        else if (version == 1) Fail("version", versionAt, "GGUF v1 is not supported (re-convert the model with a current llama.cpp convert script)");
        else if (BinaryPrimitives.ReverseEndianness(version) is 2 or 3) Fail("version", versionAt, "this is a big-endian GGUF file; llcuda reads little-endian files only");
        else Fail("version", versionAt, $"unsupported version {version} (supported: 2, 3)");

        long tensorCountAt = _pos;
        ulong tensorCount = ReadU64("tensor_count");
        long kvCountAt = _pos;
        ulong kvCount = ReadU64("kv_count");
        // Smallest possible key/value: 8-byte key length, 4-byte type, 1-byte value.
        CheckCount("kv_count", kvCountAt, kvCount, 13);
        // Smallest possible tensor info: 8-byte name length, 4-byte n_dims, 4-byte type, 8-byte offset.
        CheckCount("tensor_count", tensorCountAt, tensorCount, 24);

        var metadata = new GgufMetadata();
        for (ulong i = 0; i < kvCount; i++)
        {
            long keyAt = _pos;
            string key = ReadString($"key of metadata entry {i}");
            long typeAt = _pos;
            var type = ReadValueType($"type of '{key}'");
            var value = ReadValue(key, type, typeAt, depth: 0);
            if (!metadata.TryAdd(key, value))
                Fail($"metadata key '{key}'", keyAt, "the key appears twice");
        }

        uint alignment = GgufFile.DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out var alignValue))
        {
            if (alignValue.Type != GgufValueType.UInt32)
                Fail("general.alignment", 0, $"is {alignValue.Describe()}, expected uint32");
            alignment = (uint)alignValue.Value;
            if (alignment == 0 || (alignment & (alignment - 1)) != 0)
                Fail("general.alignment", 0, $"{alignment} is not a power of two");
        }

        var infos = new List<(GgufTensorInfo Info, long At)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            var (info, at) = ReadTensorInfo(i, alignment);
            if (!names.Add(info.Name))
                Fail($"tensor '{info.Name}'", at, "the name appears twice");
            infos.Add((info, at));
        }

        long dataOffset = AlignUp(_pos, alignment);
        CheckTensorExtents(infos, dataOffset);
        return new GgufFile(_source, _bytes, version, metadata, infos.Select(x => x.Info).ToArray(), alignment, dataOffset);
    }

    (GgufTensorInfo, long) ReadTensorInfo(ulong index, uint alignment)
    {
        long at = _pos;
        string name = ReadString($"name of tensor {index}");
        string field = $"tensor '{name}'";
        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
            Fail(field, at, $"name is longer than ggml's limit of {MaxNameBytes} bytes");

        long dimsAt = _pos;
        uint nDims = ReadU32($"{field} n_dims");
        if (nDims is 0 or > MaxDimensions)
            Fail($"{field} n_dims", dimsAt, $"{nDims} dimensions (expected 1 to {MaxDimensions})");

        var dims = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++)
        {
            long dimAt = _pos;
            ulong n = ReadU64($"{field} dimension {d}");
            if (n > long.MaxValue)
                Fail($"{field} dimension {d}", dimAt, $"size {n} is negative as ggml's int64");
            dims[d] = (long)n;
            if (n != 0 && elements > long.MaxValue / (long)n)
                Fail($"{field} dimensions", dimsAt, $"the element count of [{string.Join(", ", dims.Take(d + 1))}] overflows 64 bits");
            elements *= (long)n;
        }

        long typeAt = _pos;
        uint typeId = ReadU32($"{field} type");
        if (!GgmlTypeInfo.IsKnown(typeId))
            Fail($"{field} type", typeAt, $"unknown ggml type id {typeId} (written by a newer llama.cpp, or a removed type)");
        var type = (GgmlType)typeId;
        long rowBytes = GgmlTypeInfo.RowBytes(type, dims[0]);
        if (rowBytes < 0)
            Fail($"{field} dimension 0", dimsAt, $"row length {dims[0]} is not a multiple of {type}'s block size {GgmlTypeInfo.BlockSize(type)}");
        long rows = dims[0] == 0 ? 0 : elements / dims[0];
        if (rows != 0 && rowBytes > long.MaxValue / rows)
            Fail($"{field} dimensions", dimsAt, "the byte size overflows 64 bits");

        long offsetAt = _pos;
        ulong offset = ReadU64($"{field} offset");
        if (offset > long.MaxValue)
            Fail($"{field} offset", offsetAt, $"offset {offset} lies beyond any file");
        if (offset % alignment != 0)
            Fail($"{field} offset", offsetAt, $"offset {offset} is not a multiple of the alignment {alignment}");

        return (new GgufTensorInfo(name, type, dims, (long)offset, elements, rows * rowBytes), offsetAt);
    }

    void CheckTensorExtents(List<(GgufTensorInfo Info, long At)> infos, long dataOffset)
    {
        if (infos.Count == 0) return; // vocab-only files may end right after the header
        long dataBytes = _bytes.Length - dataOffset;
        foreach (var (t, at) in infos)
        {
            if (t.Offset > dataBytes || t.ByteSize > dataBytes - t.Offset)
                Fail($"tensor '{t.Name}' offset", at,
                    $"data ends at byte {dataOffset + t.Offset + t.ByteSize:N0} but the file has {_bytes.Length:N0} bytes (truncated download? fetch the file again)");
        }
        GgufTensorInfo? previous = null;
        foreach (var (t, at) in infos.OrderBy(x => x.Info.Offset))
        {
            if (previous is not null && t.Offset < previous.Offset + previous.ByteSize)
                Fail($"tensor '{t.Name}' offset", at,
                    $"data [{t.Offset:N0}, {t.Offset + t.ByteSize:N0}) overlaps tensor '{previous.Name}' [{previous.Offset:N0}, {previous.Offset + previous.ByteSize:N0})");
            if (t.ByteSize > 0) previous = t;
        }
    }

    GgufValue ReadValue(string key, GgufValueType type, long at, int depth)
    {
        string field = $"value of '{key}'";
        switch (type)
        {
            case GgufValueType.UInt8: return GgufValue.Of(Take(1, field)[0]);
            case GgufValueType.Int8: return GgufValue.Of((sbyte)Take(1, field)[0]);
            case GgufValueType.UInt16: return GgufValue.Of(BinaryPrimitives.ReadUInt16LittleEndian(Take(2, field)));
            case GgufValueType.Int16: return GgufValue.Of(BinaryPrimitives.ReadInt16LittleEndian(Take(2, field)));
            case GgufValueType.UInt32: return GgufValue.Of(ReadU32(field));
            case GgufValueType.Int32: return GgufValue.Of(BinaryPrimitives.ReadInt32LittleEndian(Take(4, field)));
            case GgufValueType.Float32: return GgufValue.Of(BinaryPrimitives.ReadSingleLittleEndian(Take(4, field)));
            case GgufValueType.UInt64: return GgufValue.Of(ReadU64(field));
            case GgufValueType.Int64: return GgufValue.Of(BinaryPrimitives.ReadInt64LittleEndian(Take(8, field)));
            case GgufValueType.Float64: return GgufValue.Of(BinaryPrimitives.ReadDoubleLittleEndian(Take(8, field)));
            case GgufValueType.Bool: return GgufValue.Of(ReadBool(field));
            case GgufValueType.String: return GgufValue.Of(ReadString(field));
            case GgufValueType.Array: return ReadArray(key, at, depth);
            default: throw new InvalidOperationException("unreachable: type tags are validated when read");
        }
    }

    GgufValue ReadArray(string key, long at, int depth)
    {
        if (depth >= MaxArrayNesting)
            Fail($"value of '{key}'", at, $"arrays nested more than {MaxArrayNesting} deep");
        var elementType = ReadValueType($"element type of '{key}'");
        long countAt = _pos;
        ulong count = ReadU64($"element count of '{key}'");
        CheckCount($"element count of '{key}'", countAt, count, MinBytes(elementType));
        int n = (int)count; // CheckCount proved it fits the remaining bytes, hence an int
        string field = $"elements of '{key}'";
        switch (elementType)
        {
            case GgufValueType.UInt8: return GgufValue.Of(Take(n, field).ToArray());
            case GgufValueType.Int8: return GgufValue.Of(MemoryMarshal.Cast<byte, sbyte>(Take(n, field)).ToArray());
            case GgufValueType.UInt16: return GgufValue.Of(Numbers<ushort>(n, field));
            case GgufValueType.Int16: return GgufValue.Of(Numbers<short>(n, field));
            case GgufValueType.UInt32: return GgufValue.Of(Numbers<uint>(n, field));
            case GgufValueType.Int32: return GgufValue.Of(Numbers<int>(n, field));
            case GgufValueType.Float32: return GgufValue.Of(Numbers<float>(n, field));
            case GgufValueType.UInt64: return GgufValue.Of(Numbers<ulong>(n, field));
            case GgufValueType.Int64: return GgufValue.Of(Numbers<long>(n, field));
            case GgufValueType.Float64: return GgufValue.Of(Numbers<double>(n, field));
            case GgufValueType.Bool:
            {
                var values = new bool[n];
                for (int i = 0; i < n; i++) values[i] = ReadBool(field);
                return GgufValue.Of(values);
            }
            case GgufValueType.String:
            {
                var values = new string[n];
                for (int i = 0; i < n; i++) values[i] = ReadString(new Field(key, i));
                return GgufValue.Of(values);
            }
            default:
            {
                var values = new GgufValue[n];
                for (int i = 0; i < n; i++)
                {
                    long elementAt = _pos;
                    values[i] = ReadArray($"{key}[{i}]", elementAt, depth + 1);
                }
                return GgufValue.Of(values);
            }
        }
    }

    // The host is little-endian (x86-64, arm64), as GGUF is: numbers are copied as they lie.
    T[] Numbers<T>(int count, Field field) where T : unmanaged =>
        MemoryMarshal.Cast<byte, T>(Take(checked(count * Marshal.SizeOf<T>()), field)).ToArray();

    static int MinBytes(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        GgufValueType.String => 8,   // the length prefix alone
        _ => 12,                      // a nested array: element type + count
    };

    GgufValueType ReadValueType(Field field)
    {
        long at = _pos;
        uint t = ReadU32(field);
        if (t > (uint)GgufValueType.Float64)
            Fail(field.ToString(), at, $"unknown value type {t} (expected 0 to 12)");
        return (GgufValueType)t;
    }

    bool ReadBool(Field field)
    {
        long at = _pos;
        byte b = Take(1, field)[0];
        if (b > 1) Fail(field.ToString(), at, $"bool byte is {b}, expected 0 or 1");
        return b == 1;
    }

    string ReadString(Field field)
    {
        long at = _pos;
        ulong length = ReadU64(field.With("length"));
        if (length > (ulong)Remaining)
            Fail(field.ToString(), at, $"string length {length:N0} exceeds the {Remaining:N0} bytes left in the file (truncated or corrupt file)");
        if (length > int.MaxValue)
            Fail(field.ToString(), at, $"string length {length:N0} is larger than any real metadata string");
        var bytes = Take((int)length, field);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            Fail(field.ToString(), at + 8, "string is not valid UTF-8");
            return "";
        }
    }

    uint ReadU32(Field field) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, field));
    ulong ReadU64(Field field) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, field));

    ReadOnlySpan<byte> Take(int count, Field field)
    {
        if (count > Remaining)
            Fail(field.ToString(), _pos, $"needs {count:N0} bytes but the file ends after {Remaining:N0} (truncated download? fetch the file again)");
        var span = _bytes.Read(_pos, count);
        _pos += count;
        return span;
    }

    void CheckCount(string field, long at, ulong count, int minBytesEach)
    {
        if (count > (ulong)Remaining / (ulong)minBytesEach)
            Fail(field, at, $"{count:N0} entries cannot fit in the {Remaining:N0} bytes left in the file (corrupt header)");
    }

    static long AlignUp(long value, uint alignment) => (value + alignment - 1) / alignment * alignment;

    string FirstBytes()
    {
        int n = (int)Math.Min(4, _bytes.Length);
        return n == 0 ? "an empty file" : "0x" + Convert.ToHexString(_bytes.Read(0, n));
    }

    void Fail(string field, long offset, string problem) => GgufFormatException.Throw(_source, field, offset, problem);
}
