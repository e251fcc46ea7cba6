using LlCuda.Gguf;
using LlCuda.Tensors;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Gguf;

public class GgufWriterTests
{
    static GgufFile WriteAndRead(GgufWriter w)
    {
        var ms = new MemoryStream();
        w.WriteTo(ms);
        return GgufFile.Parse(ms.ToArray());
    }

    [Fact]
    public void Write_EveryValueType_ReadsBackIdentical()
    {
        var values = new Dictionary<string, GgufValue>
        {
            ["u8"] = GgufValue.Of((byte)200), ["i8"] = GgufValue.Of((sbyte)-5),
            ["u16"] = GgufValue.Of((ushort)60000), ["i16"] = GgufValue.Of((short)-30000),
            ["u32"] = GgufValue.Of(4000000000u), ["i32"] = GgufValue.Of(-2000000000),
            ["f32"] = GgufValue.Of(float.NaN), ["bool"] = GgufValue.Of(true),
            ["str"] = GgufValue.Of("héllo ▁ 世界 🦙"), ["u64"] = GgufValue.Of(ulong.MaxValue),
            ["i64"] = GgufValue.Of(long.MinValue), ["f64"] = GgufValue.Of(-0.0),
            ["a_u8"] = GgufValue.Of(new byte[] { 1, 2, 3 }), ["a_i8"] = GgufValue.Of(new sbyte[] { -1, 1 }),
            ["a_u16"] = GgufValue.Of(new ushort[] { 9 }), ["a_i16"] = GgufValue.Of(new short[] { -9 }),
            ["a_u32"] = GgufValue.Of(new uint[] { 7, 8 }), ["a_i32"] = GgufValue.Of(new[] { -7, 8 }),
            ["a_f32"] = GgufValue.Of(new[] { 1.5f, float.NegativeInfinity }), ["a_bool"] = GgufValue.Of(new[] { true, false }),
            ["a_str"] = GgufValue.Of(new[] { "", "a", "<0x0A>" }), ["a_u64"] = GgufValue.Of(new ulong[] { 1UL << 63 }),
            ["a_i64"] = GgufValue.Of(new long[] { -1 }), ["a_f64"] = GgufValue.Of(new[] { Math.PI }),
            ["a_empty"] = GgufValue.Of(Array.Empty<int>()),
            ["a_nested"] = GgufValue.Of(new[] { GgufValue.Of(new[] { "x" }), GgufValue.Of(Array.Empty<GgufValue>()) }),
        };
        var w = new GgufWriter();
        foreach (var (k, v) in values) w.Add(k, v);
        using var f = WriteAndRead(w);
        Assert.Equal(values.Keys, f.Metadata.Keys);
        foreach (var (k, v) in values) Assert.True(v.ContentEquals(f.Metadata[k]), $"key {k}: wrote {v}, read {f.Metadata[k]}");
    }

    [Fact]
    public void Write_TensorsWithCustomAlignment_AreAlignedAndIntact()
    {
        var w = new GgufWriter(alignment: 64);
        var a = Enumerable.Range(0, 18 * 3).Select(i => (byte)i).ToArray(); // 3 Q4_0 blocks
        var b = new byte[4 * 5];
        new Random(1).NextBytes(b);
        w.AddTensor("a", GgmlType.Q4_0, [96], a);
        w.AddTensor("b", GgmlType.F32, [5, 1], b);
        using var f = WriteAndRead(w);
        Assert.Equal(64u, f.Alignment);
        Assert.Equal(0, f.DataOffset % 64);
        Assert.Equal(a, f.GetTensorData(f.GetTensor("a")).ToArray());
        Assert.Equal(b, f.GetTensorData(f.GetTensor("b")).ToArray());
        Assert.Equal(64, f.GetTensor("b").Offset);
    }

    [Fact]
    public void AddTensor_DataOfWrongSize_IsRefusedWithTheExpectedSize()
    {
        var w = new GgufWriter();
        var e = Assert.Throws<ArgumentException>(() => w.AddTensor("t", GgmlType.Q8_0, [64], new byte[60]));
        Assert.Contains("takes 68", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Write_DataSourceFails_LeavesTheExistingFileUntouchedAndNoTempFile()
    {
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, "model.gguf");
        File.WriteAllText(path, "previous contents");
        var w = new GgufWriter();
        w.AddTensor("t", GgmlType.F32, [4], 16, _ => throw new IOException("disk full"));
        Assert.Throws<IOException>(() => w.Write(path));
        Assert.Equal("previous contents", File.ReadAllText(path));
        Assert.Equal(["model.gguf"], Directory.GetFiles(dir).Select(Path.GetFileName));
    }

    [Fact]
    public void Write_CopyOfStories260KWithNewAlignmentAndKey_LoadsInLlamaCppAndGeneratesTheKnownText()
    {
        using var original = GgufFile.Open(TestPaths.Stories260K);
        var w = new GgufWriter(alignment: 64);
        foreach (var (k, v) in original.Metadata) w.Add(k, v);
        w.Add("llcuda.test", GgufValue.Of("written by llcuda"));
        foreach (var t in original.Tensors) w.AddTensor(t.Name, t.Type, t.Dimensions, original.GetTensorData(t).ToArray());
        string path = Path.Combine(TestPaths.NewTempDir(), "copy.gguf");
        w.Write(path);

        // First tokens of the known greedy continuation from BOS (../shared/models/README.md).
        int[] expected = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298];
        Assert.Equal(expected, LlamaCppReference.GreedyTokens(path, [1], expected.Length));
    }
}
