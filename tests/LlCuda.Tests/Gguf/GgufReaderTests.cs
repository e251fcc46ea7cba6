using System.Security.Cryptography;
using LlCuda.Gguf;
using LlCuda.Tensors;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Gguf;

public class GgufReaderTests
{
    [Fact]
    public void Open_Stories260K_ReadsHyperparametersAndTensors()
    {
        using var f = GgufFile.Open(TestPaths.Stories260K);
        Assert.Equal(3u, f.Version);
        Assert.Equal("llama", f.Architecture);
        Assert.Equal(64, f.Metadata.GetInt64("llama.embedding_length"));
        Assert.Equal(5, f.Metadata.GetInt64("llama.block_count"));
        Assert.Equal(8, f.Metadata.GetInt64("llama.attention.head_count"));
        Assert.Equal(4, f.Metadata.GetInt64("llama.attention.head_count_kv"));
        Assert.Equal(512, f.Metadata.GetArrayOrNull<string>("tokenizer.ggml.tokens")!.Length);
        var q = f.GetTensor("blk.0.attn_q.weight");
        Assert.Equal(GgmlType.F32, q.Type);
        Assert.Equal([64L, 64L], q.Dimensions);
        Assert.Equal(64 * 64 * 4, f.GetTensorData(q).Length);
        Assert.All(f.Tensors, t => Assert.Equal(0, t.Offset % f.Alignment));
    }

    [Fact]
    public void WriteCopy_Stories260K_IsByteIdenticalToTheOriginal()
    {
        using var f = GgufFile.Open(TestPaths.Stories260K);
        var ms = new MemoryStream();
        GgufWriter.CopyOf(f).WriteTo(ms);
        var original = File.ReadAllBytes(TestPaths.Stories260K);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(original)), Convert.ToHexString(SHA256.HashData(ms.ToArray())));
    }
}
