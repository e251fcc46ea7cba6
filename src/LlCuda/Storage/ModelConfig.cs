using System.Globalization;
using System.Text.Json;
using LlCuda.Gguf;

namespace LlCuda.Storage;

/// <summary>
/// The model config blob (media type application/vnd.docker.ai.model.config.v0.1+json), filled
/// from GGUF metadata the way Docker Model Runner does: format, architecture, parameter count,
/// quantization (the GGUF file type) and size as display strings, plus the exact counts as
/// numbers for scripts, and rootfs.diff_ids naming the weights.
/// </summary>
public sealed record ModelConfig(string Architecture, long Parameters, string Quantization, long Size, string? License)
{
    public static ModelConfig FromGguf(GgufFile file) => new(
        file.Architecture ?? "unknown",
        file.Tensors.Sum(t => t.ElementCount),
        file.Metadata.GetInt64OrNull("general.file_type") is { } ft ? GgufFileType.Name(ft) : DominantType(file),
        file.FileSize,
        file.Metadata.GetStringOrNull("general.license"));

    // Files without general.file_type (stories260K) are named by the type that holds most bytes.
    static string DominantType(GgufFile file) => file.Tensors.Count == 0 ? "unknown"
        : file.Tensors.GroupBy(t => t.Type).MaxBy(g => g.Sum(t => t.ByteSize))!.Key.ToString();

    public byte[] ToJson(Digest weights, DateTimeOffset created)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, StoreJson.Options))
        {
            w.WriteStartObject();
            w.WriteStartObject("config");
            w.WriteString("format", "gguf");
            w.WriteString("architecture", Architecture);
            w.WriteString("parameters", Count(Parameters));
            w.WriteString("quantization", Quantization);
            w.WriteString("size", Bytes(Size));
            if (License is not null) w.WriteString("license", License);
            w.WriteNumber("parameter_count", Parameters);
            w.WriteNumber("size_bytes", Size);
            w.WriteEndObject();
            w.WriteStartObject("descriptor");
            w.WriteString("created", created.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
            w.WriteStartObject("rootfs");
            w.WriteString("type", "rootfs");
            w.WriteStartArray("diff_ids");
            w.WriteStringValue(weights.ToString());
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>Reads a config blob; fields that are missing read as "unknown" (configs written by other tools).</summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            if (!doc.RootElement.TryGetProperty("config", out var c) || c.ValueKind != JsonValueKind.Object)
                throw new StoreException(StoreFailure.Corrupt, $"{source}: model config has no \"config\" object (run 'llcuda storage verify')");
            string Str(string key) => c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "unknown";
            long Num(string key) => c.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) ? n : 0;
            string? license = c.TryGetProperty("license", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            return new ModelConfig(Str("architecture"), Num("parameter_count"), Str("quantization"), Num("size_bytes"), license);
        }
        catch (JsonException e)
        {
            throw new StoreException(StoreFailure.Corrupt, $"{source}: model config is not valid JSON ({e.Message}); run 'llcuda storage verify'");
        }
    }

    static string Count(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " B",
        >= 1_000_000 => (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M",
        >= 1_000 => (n / 1e3).ToString("F2", CultureInfo.InvariantCulture) + " K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    static string Bytes(long n) => n switch
    {
        >= 1L << 30 => (n / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (n / (double)(1L << 20)).ToString("F2", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (n / 1024.0).ToString("F2", CultureInfo.InvariantCulture) + " KiB",
        _ => n.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
