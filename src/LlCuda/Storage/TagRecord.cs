using System.Globalization;
using System.Text.Json;

namespace LlCuda.Storage;

/// <summary>
/// One tag's file under manifests/NAME/TAG: the manifest digest it points to, whether it is
/// pinned (never evicted) and when it was last put, loaded or read (the LRU clock).
/// </summary>
public sealed record TagRecord(Digest Manifest, bool Pinned, DateTimeOffset LastUsed)
{
    public byte[] ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, StoreJson.Options))
        {
            w.WriteStartObject();
            w.WriteString("manifest", Manifest.ToString());
            w.WriteBoolean("pinned", Pinned);
            w.WriteString("last_used", LastUsed.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    public static TagRecord Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var root = doc.RootElement;
            var manifest = Digest.Parse(root.GetProperty("manifest").GetString()!);
            bool pinned = root.TryGetProperty("pinned", out var p) && p.ValueKind == JsonValueKind.True;
            var lastUsed = root.TryGetProperty("last_used", out var l) && l.ValueKind == JsonValueKind.String
                && DateTimeOffset.TryParse(l.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : DateTimeOffset.UnixEpoch;
            return new TagRecord(manifest, pinned, lastUsed);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or StoreException)
        {
            throw new StoreException(StoreFailure.Corrupt, $"{source}: tag file is not valid ({e.Message}); remove it with 'llcuda storage rm' and put the model again");
        }
    }
}
