using System.Text;

namespace LlCuda.Tests.Gguf;

/// <summary>
/// Writes GGUF bytes field by field with no validation, so tests can build exactly the
/// malformed files the reader must reject (the real writer refuses to produce them).
/// </summary>
internal sealed class RawGguf
{
    readonly MemoryStream _ms = new();
    readonly BinaryWriter _w;

    public RawGguf() => _w = new BinaryWriter(_ms, Encoding.UTF8, leaveOpen: true);

    /// <summary>Magic, version, counts.</summary>
    public static RawGguf Header(uint version, ulong tensors, ulong kvs) =>
        new RawGguf().Bytes("GGUF"u8.ToArray()).U32(version).U64(tensors).U64(kvs);

    public RawGguf Bytes(byte[] b) { _w.Write(b); return this; }
    public RawGguf U8(byte v) { _w.Write(v); return this; }
    public RawGguf U32(uint v) { _w.Write(v); return this; }
    public RawGguf U64(ulong v) { _w.Write(v); return this; }
    public RawGguf Str(string s) { var b = Encoding.UTF8.GetBytes(s); return U64((ulong)b.Length).Bytes(b); }

    /// <summary>A key with a uint32 value.</summary>
    public RawGguf KvU32(string key, uint v) => Str(key).U32(4).U32(v);

    /// <summary>A key with a string value.</summary>
    public RawGguf KvStr(string key, string v) => Str(key).U32(8).Str(v);

    /// <summary>A tensor info entry.</summary>
    public RawGguf Tensor(string name, uint type, ulong offset, params ulong[] dims)
    {
        Str(name).U32((uint)dims.Length);
        foreach (var d in dims) U64(d);
        return U32(type).U64(offset);
    }

    /// <summary>Zero bytes up to the next multiple of <paramref name="alignment"/>.</summary>
    public RawGguf Align(int alignment = 32)
    {
        while (_ms.Length % alignment != 0) _w.Write((byte)0);
        return this;
    }

    public RawGguf Zeros(int n) { _w.Write(new byte[n]); return this; }

    public byte[] ToArray() { _w.Flush(); return _ms.ToArray(); }
}
