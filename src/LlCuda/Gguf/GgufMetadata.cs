using System.Diagnostics.CodeAnalysis;
using System.Collections;

namespace LlCuda.Gguf;

/// <summary>
/// The key/value metadata of a GGUF file, in file order (the writer keeps that order so a
/// read -> write round trip reproduces the file), with typed getters whose errors name the key.
/// </summary>
public sealed class GgufMetadata : IReadOnlyDictionary<string, GgufValue>
{
    readonly List<KeyValuePair<string, GgufValue>> _ordered = [];
    readonly Dictionary<string, GgufValue> _byKey = new(StringComparer.Ordinal);

    /// <summary>Adds a key; false when the key is already present (the caller reports it).</summary>
    internal bool TryAdd(string key, GgufValue value)
    {
        if (!_byKey.TryAdd(key, value)) return false;
        _ordered.Add(new(key, value));
        return true;
    }

    public GgufValue this[string key] =>
        _byKey.TryGetValue(key, out var v) ? v : throw new KeyNotFoundException($"GGUF metadata has no key '{key}'");

    public IEnumerable<string> Keys => _ordered.Select(kv => kv.Key);
    public IEnumerable<GgufValue> Values => _ordered.Select(kv => kv.Value);
    public int Count => _ordered.Count;
    public bool ContainsKey(string key) => _byKey.ContainsKey(key);
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out GgufValue value) => _byKey.TryGetValue(key, out value);
    public IEnumerator<KeyValuePair<string, GgufValue>> GetEnumerator() => _ordered.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The string at <paramref name="key"/>, or null when absent.</summary>
    public string? GetStringOrNull(string key) => TryGetValue(key, out var v) ? Typed(key, v, x => x.AsString()) : null;

    /// <summary>The integer at <paramref name="key"/>, or null when absent.</summary>
    public long? GetInt64OrNull(string key) => TryGetValue(key, out var v) ? Typed(key, v, x => x.AsInt64()) : null;

    /// <summary>The number at <paramref name="key"/>, or null when absent.</summary>
    public double? GetDoubleOrNull(string key) => TryGetValue(key, out var v) ? Typed(key, v, x => x.AsDouble()) : null;

    /// <summary>The bool at <paramref name="key"/>, or null when absent.</summary>
    public bool? GetBoolOrNull(string key) => TryGetValue(key, out var v) ? Typed(key, v, x => x.AsBool()) : null;

    /// <summary>The array of T at <paramref name="key"/>, or null when absent.</summary>
    public T[]? GetArrayOrNull<T>(string key) => TryGetValue(key, out var v) ? Typed(key, v, x => x.AsArray<T>()) : null;

    /// <summary>The required string at <paramref name="key"/>.</summary>
    public string GetString(string key) => GetStringOrNull(key) ?? throw Missing(key);

    /// <summary>The required integer at <paramref name="key"/>.</summary>
    public long GetInt64(string key) => GetInt64OrNull(key) ?? throw Missing(key);

    static T Typed<T>(string key, GgufValue v, Func<GgufValue, T> get)
    {
        try { return get(v); }
        catch (InvalidOperationException e) { throw new GgufFormatException($"metadata key '{key}': {e.Message}", e); }
    }

    static GgufFormatException Missing(string key) =>
        new($"metadata key '{key}' is missing (is this a complete model file? check it with 'llcuda model info')");
}
