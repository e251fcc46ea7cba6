using System.Text.Json;
using LlCuda.Storage.Remotes;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>Blobs with fixed seeds and the OCI manifest that lists them.</summary>
internal static class RemoteTestData
{
    public static byte[] Bytes(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    public static (byte[] Bytes, string Digest) Blob(int length, int seed)
    {
        var b = Bytes(length, seed);
        return (b, Sha256Digest.Of(b));
    }

    /// <summary>An OCI image manifest with one config and the given layers (llcuda's model layout).</summary>
    public static byte[] Manifest((byte[] Bytes, string Digest) config, params (byte[] Bytes, string Digest)[] layers)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", OciMediaTypes.ImageManifest);
            w.WriteStartObject("config");
            w.WriteString("mediaType", "application/vnd.llcuda.model.config.v1+json");
            w.WriteString("digest", config.Digest);
            w.WriteNumber("size", config.Bytes.Length);
            w.WriteEndObject();
            w.WriteStartArray("layers");
            foreach (var l in layers)
            {
                w.WriteStartObject();
                w.WriteString("mediaType", "application/vnd.llcuda.model.gguf.v1");
                w.WriteString("digest", l.Digest);
                w.WriteNumber("size", l.Bytes.Length);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    /// <summary>Options for tests: fast backoff, and a small chunk threshold so 1 MiB blobs go up in chunks.</summary>
    public static RemoteOptions FastOptions => new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(5),
        ChunkedUploadThreshold = 256 << 10,
        ChunkSize = 100 << 10,
    };

    /// <summary>Every test bounds itself: no test may hang the suite on a stuck server.</summary>
    public static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;
}
