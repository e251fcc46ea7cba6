using LlCuda.Gguf;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Gguf;

/// <summary>Every kind of broken file ends in a GgufFormatException that names the field and offset.</summary>
public class GgufMalformedTests
{
    static GgufFormatException Reject(byte[] bytes) => Assert.Throws<GgufFormatException>(() => GgufFile.Parse(bytes, "bad.gguf"));

    static void RejectWith(byte[] bytes, string field, string fragment)
    {
        var e = Reject(bytes);
        Assert.StartsWith("bad.gguf: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(field, e.Field, StringComparison.Ordinal);
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
    }

    // A file with one F32 tensor [8] at offset 0, valid as built.
    static RawGguf OneTensorHeader(uint type = 0, ulong offset = 0, params ulong[] dims) =>
        RawGguf.Header(3, 1, 1).KvStr("general.architecture", "llama").Tensor("t", type, offset, dims.Length == 0 ? [8] : dims);

    [Fact]
    public void Parse_ValidHandBuiltFile_Succeeds()
    {
        using var f = GgufFile.Parse(OneTensorHeader().Align().Zeros(32).ToArray());
        Assert.Equal(32, f.GetTensorData(f.GetTensor("t")).Length);
    }

    [Fact]
    public void Parse_EmptyFile_RejectsMagic() => RejectWith([], "magic", "an empty file");

    [Fact]
    public void Parse_WrongMagic_NamesTheBytesFound() => RejectWith("GGML\0\0\0\0"u8.ToArray(), "magic", "0x47474D4C");

    [Theory]
    [InlineData(1u, "v1 is not supported")]
    [InlineData(4u, "unsupported version 4")]
    [InlineData(0x03000000u, "big-endian")]
    public void Parse_UnsupportedVersion_IsRejected(uint version, string fragment) =>
        RejectWith(RawGguf.Header(version, 0, 0).ToArray(), "version", fragment);

    [Fact]
    public void Parse_AbsurdTensorCount_IsRejectedBeforeAllocating() =>
        RejectWith(RawGguf.Header(3, 1UL << 60, 0).ToArray(), "tensor_count", "cannot fit");

    [Fact]
    public void Parse_AbsurdKvCount_IsRejectedBeforeAllocating() =>
        RejectWith(RawGguf.Header(3, 0, 1UL << 60).ToArray(), "kv_count", "cannot fit");

    [Fact]
    public void Parse_HugeStringLength_IsRejected()
    {
        var bytes = RawGguf.Header(3, 0, 1).U64(1UL << 60).Zeros(16).ToArray();
        var e = Reject(bytes);
        Assert.Equal(24, e.Offset);
        Assert.Contains("string length", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_HugeArrayCount_IsRejected() =>
        RejectWith(RawGguf.Header(3, 0, 1).Str("a").U32(9).U32(10).U64(1UL << 60).Zeros(8).ToArray(), "element count of 'a'", "cannot fit");

    [Fact]
    public void Parse_ArrayOfArraysNestedTooDeep_IsRejected()
    {
        var raw = RawGguf.Header(3, 0, 1).Str("deep").U32(9);
        for (int i = 0; i < 100; i++) raw.U32(9).U64(1);
        RejectWith(raw.ToArray(), "deep", "nested more than");
    }

    [Fact]
    public void Parse_NestedArrays_RoundTrip()
    {
        var inner = new[] { GgufValue.Of(new[] { 1, 2 }), GgufValue.Of(new[] { "x", "y", "z" }) };
        var w = new GgufWriter();
        w.Add("nested", GgufValue.Of(inner));
        var ms = new MemoryStream();
        w.WriteTo(ms);
        using var f = GgufFile.Parse(ms.ToArray());
        Assert.True(f.Metadata["nested"].ContentEquals(GgufValue.Of(inner)));
    }

    [Fact]
    public void Parse_UnknownValueType_IsRejected() =>
        RejectWith(RawGguf.Header(3, 0, 1).Str("k").U32(13).U32(0).ToArray(), "type of 'k'", "unknown value type 13");

    [Fact]
    public void Parse_BoolOutOfRange_IsRejected() =>
        RejectWith(RawGguf.Header(3, 0, 1).Str("b").U32(7).U8(2).ToArray(), "value of 'b'", "expected 0 or 1");

    [Fact]
    public void Parse_InvalidUtf8Key_IsRejected() =>
        RejectWith(RawGguf.Header(3, 0, 1).U64(2).Bytes([0xC3, 0x28]).U32(4).U32(1).ToArray(), "key of metadata entry 0", "UTF-8");

    [Fact]
    public void Parse_DuplicateKey_IsRejected() =>
        RejectWith(RawGguf.Header(3, 0, 2).KvU32("k", 1).KvU32("k", 2).ToArray(), "'k'", "appears twice");

    [Theory]
    [InlineData(0u, "not a power of two")]
    [InlineData(48u, "not a power of two")]
    public void Parse_BadAlignment_IsRejected(uint alignment, string fragment) =>
        RejectWith(RawGguf.Header(3, 0, 1).KvU32("general.alignment", alignment).ToArray(), "general.alignment", fragment);

    [Fact]
    public void Parse_AlignmentOfWrongType_IsRejected() =>
        RejectWith(RawGguf.Header(3, 0, 1).KvStr("general.alignment", "32").ToArray(), "general.alignment", "expected uint32");

    [Theory]
    [InlineData(4u)]   // Q4_2, removed from ggml
    [InlineData(31u)]  // Q4_0_4_4, removed
    [InlineData(99u)]
    public void Parse_UnknownTensorType_IsRejected(uint type) =>
        RejectWith(OneTensorHeader(type: type).Align().Zeros(64).ToArray(), "tensor 't' type", $"unknown ggml type id {type}");

    [Fact]
    public void Parse_RowNotMultipleOfBlock_IsRejected() =>
        RejectWith(OneTensorHeader(type: 2, dims: [33]).Align().Zeros(64).ToArray(), "tensor 't' dimension 0", "not a multiple of Q4_0's block size 32");

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Parse_BadDimensionCount_IsRejected(int nDims) =>
        RejectWith(RawGguf.Header(3, 1, 0).Str("t").U32((uint)nDims).Zeros(64).ToArray(), "n_dims", "dimensions");

    [Fact]
    public void Parse_ElementCountOverflow_IsRejected() =>
        RejectWith(OneTensorHeader(dims: [1UL << 40, 1UL << 40]).Align().ToArray(), "tensor 't' dimensions", "overflows");

    [Fact]
    public void Parse_NegativeDimension_IsRejected() =>
        RejectWith(OneTensorHeader(dims: [ulong.MaxValue]).ToArray(), "tensor 't' dimension 0", "negative");

    [Fact]
    public void Parse_MisalignedTensorOffset_IsRejected() =>
        RejectWith(OneTensorHeader(offset: 4).Align().Zeros(64).ToArray(), "tensor 't' offset", "not a multiple of the alignment 32");

    [Fact]
    public void Parse_TensorDataPastEndOfFile_IsRejected() =>
        RejectWith(OneTensorHeader(offset: 32).Align().Zeros(32).ToArray(), "tensor 't' offset", "truncated");

    [Fact]
    public void Parse_OverlappingTensors_AreRejected()
    {
        var bytes = RawGguf.Header(3, 2, 0).Tensor("a", 0, 0, 16).Tensor("b", 0, 32, 16).Align().Zeros(128).ToArray();
        RejectWith(bytes, "tensor 'b' offset", "overlaps tensor 'a'");
    }

    [Fact]
    public void Parse_DuplicateTensorName_IsRejected() =>
        RejectWith(RawGguf.Header(3, 2, 0).Tensor("a", 0, 0, 8).Tensor("a", 0, 32, 8).Align().Zeros(64).ToArray(), "tensor 'a'", "appears twice");

    [Fact]
    public void Parse_TensorNameTooLong_IsRejected() =>
        RejectWith(RawGguf.Header(3, 1, 0).Tensor(new string('n', 64), 0, 0, 8).Align().Zeros(32).ToArray(), "tensor", "longer than ggml's limit");

    [Fact]
    public void Parse_EveryTruncationOfStories260KHeader_IsRejectedWithFormatError()
    {
        var full = File.ReadAllBytes(TestPaths.Stories260K);
        using var f = GgufFile.Parse(full);
        // Every prefix that ends inside the header, plus a spread of cuts inside the data.
        var cuts = Enumerable.Range(0, (int)f.DataOffset + 1)
            .Concat(Enumerable.Range(1, 200).Select(i => (int)(f.DataOffset + (full.Length - f.DataOffset) * i / 201)));
        foreach (int cut in cuts)
        {
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Parse(full[..cut], "cut.gguf"));
            Assert.True(e.Offset <= cut, $"cut at {cut}: error offset {e.Offset} lies past the end");
        }
    }
}
