using System.Text.Json;

namespace LlCuda.Storage;

/// <summary>$LLCUDA_HOME/config.json: {"cache_max_bytes": N} (0 or absent: no budget).</summary>
public sealed record StoreConfig(long CacheMaxBytes)
{
    public static StoreConfig Load(StoreLayout layout)
    {
        string path = layout.ConfigFile;
        if (!File.Exists(path)) return new StoreConfig(0);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (!doc.RootElement.TryGetProperty("cache_max_bytes", out var v)) return new StoreConfig(0);
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long n) || n < 0)
                throw new StoreException(StoreFailure.BadReference, $"{path}: cache_max_bytes must be a whole number of bytes, 0 or more (0: no budget)");
            return new StoreConfig(n);
        }
        catch (JsonException e)
        {
            throw new StoreException(StoreFailure.BadReference, $"{path}: not valid JSON ({e.Message}); expected {{\"cache_max_bytes\": N}}");
        }
    }
}
