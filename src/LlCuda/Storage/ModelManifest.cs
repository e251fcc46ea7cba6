using System.Text.Json;

namespace LlCuda.Storage;

/// <summary>A manifest's reference to a blob: media type, digest and size.</summary>
public readonly record struct Descriptor(string MediaType, Digest Digest, long Size);

/// <summary>
/// An OCI image manifest (schemaVersion 2) whose config is a model config and whose layers are
/// typed model parts (GGUF weights, license). Written with Utf8JsonWriter and read with
/// JsonDocument: the CLI is NativeAOT, where reflection-based serialization does not work.
/// </summary>
public sealed record ModelManifest(Descriptor Config, IReadOnlyList<Descriptor> Layers)
{
    /// <summary>The GGUF weights layer (the first one when there are several).</summary>
    public Descriptor Weights => Layers.FirstOrDefault(l => l.MediaType == MediaTypes.Gguf) is { MediaType: not null } w
        ? w
        : throw new StoreException(StoreFailure.Corrupt, $"manifest has no {MediaTypes.Gguf} layer: not a GGUF model (put or pull it again)");

    /// <summary>Every blob this manifest needs (config and layers).</summary>
    public IEnumerable<Digest> Blobs => Layers.Select(l => l.Digest).Prepend(Config.Digest);

    public byte[] ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, StoreJson.Options))
        {
            w.WriteStartObject();
            w.WriteNumber("schemaVersion", 2);
            w.WriteString("mediaType", MediaTypes.OciManifest);
            w.WritePropertyName("config");
            Write(w, Config);
            w.WriteStartArray("layers");
            foreach (var l in Layers) Write(w, l);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    static void Write(Utf8JsonWriter w, Descriptor d)
    {
        w.WriteStartObject();
        w.WriteString("mediaType", d.MediaType);
        w.WriteString("digest", d.Digest.ToString());
        w.WriteNumber("size", d.Size);
        w.WriteEndObject();
    }

    /// <summary>
    /// Parses a manifest blob. Anything but an OCI image manifest with a model config (another
    /// media type, an image index, a container image) is a one-line error naming what it is.
    /// </summary>
    public static ModelManifest Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw Bad(source, "is not a JSON object");
            string? mediaType = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
            if (mediaType != MediaTypes.OciManifest)
                throw Bad(source, $"has media type '{mediaType ?? "(none)"}', expected {MediaTypes.OciManifest}");
            if (!root.TryGetProperty("schemaVersion", out var sv) || sv.ValueKind != JsonValueKind.Number || sv.GetInt32() != 2)
                throw Bad(source, "is not schemaVersion 2");
            if (!root.TryGetProperty("config", out var config))
                throw Bad(source, "has no config");
            var configDescriptor = ReadDescriptor(config, source);
            if (configDescriptor.MediaType != MediaTypes.ModelConfig)
                throw Bad(source, $"has a config of media type '{configDescriptor.MediaType}', expected {MediaTypes.ModelConfig} (a container image, not a model)");
            if (!root.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
                throw Bad(source, "has no layers array");
            var list = new List<Descriptor>();
            foreach (var l in layers.EnumerateArray()) list.Add(ReadDescriptor(l, source));
            return new ModelManifest(configDescriptor, list);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw Bad(source, $"is not valid manifest JSON ({e.Message})");
        }
    }

    static Descriptor ReadDescriptor(JsonElement e, string source)
    {
        if (e.ValueKind != JsonValueKind.Object
            || !e.TryGetProperty("mediaType", out var mt) || mt.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("digest", out var d) || d.ValueKind != JsonValueKind.String
            || !e.TryGetProperty("size", out var s) || s.ValueKind != JsonValueKind.Number)
            throw Bad(source, "has a descriptor without mediaType, digest and size");
        if (!Digest.TryParse(d.GetString(), out var digest))
            throw Bad(source, $"names a digest '{d.GetString()}' that is not sha256:HEX");
        return new Descriptor(mt.GetString()!, digest, s.GetInt64());
    }

    static StoreException Bad(string source, string what) =>
        new(StoreFailure.Corrupt, $"manifest {source} {what}: not an llcuda/Docker model manifest (put or pull it again)");
}
