using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace LlCuda.Storage;

/// <summary>
/// A model name and tag, "name:tag", with the rules of OCI / Docker references: the name is
/// lowercase path components of [a-z0-9] joined by '.', '_', '__' or dashes, separated by '/';
/// the tag is [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; a missing tag means "latest". These rules also
/// keep names safe as paths under manifests/ (no "..", no leading '.', no empty component).
/// </summary>
public sealed partial record ModelReference(string Name, string Tag)
{
    public const string DefaultTag = "latest";
    // The name's total length cap of Docker's reference grammar.
    const int MaxNameLength = 255;

    public override string ToString() => $"{Name}:{Tag}";

    // An optional registry "host:port/" first, so a pulled model keeps its remote name
    // (127.0.0.1:5000/library/stories:260k); a host without a port is an ordinary component.
    [GeneratedRegex(@"^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*:[0-9]{1,5}/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex TagPattern();

    public static bool TryParse(string? text, [NotNullWhen(true)] out ModelReference? reference, out string? error)
    {
        reference = null;
        error = null;
        if (string.IsNullOrEmpty(text)) { error = "a model reference is empty: expected name[:tag], e.g. stories:latest"; return false; }
        // The tag separator is the last ':' after the last '/', as in Docker (a registry host:port comes before a '/').
        int colon = text.LastIndexOf(':');
        string name = text, tag = DefaultTag;
        if (colon > text.LastIndexOf('/'))
        {
            name = text[..colon];
            tag = text[(colon + 1)..];
        }
        if (name.Length == 0 || name.Length > MaxNameLength || !NamePattern().IsMatch(name))
        {
            error = $"'{text}' is not a valid model reference: the name must be lowercase [a-z0-9] words joined by '.', '_' or '-', separated by '/' (at most {MaxNameLength} characters), e.g. tinyllama/q4_0:v1";
            return false;
        }
        if (!TagPattern().IsMatch(tag))
        {
            error = $"'{text}' is not a valid model reference: the tag '{tag}' must be 1-128 of [A-Za-z0-9_.-], not starting with '.' or '-'";
            return false;
        }
        reference = new ModelReference(name, tag);
        return true;
    }

    /// <summary>Parses name[:tag] or throws a one-line <see cref="StoreException"/> saying what the rules are.</summary>
    public static ModelReference Parse(string text) =>
        TryParse(text, out var r, out var error) ? r : throw new StoreException(StoreFailure.BadReference, error!);

    /// <summary>
    /// A reference made from a file name for `put` without --name: "Stories260K.gguf" ->
    /// "stories260k:latest" (lowercased, other characters become '-').
    /// </summary>
    public static ModelReference FromFileName(string path)
    {
        string stem = Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
        var chars = stem.Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-' ? c : '-').ToArray();
        string name = new string(chars).Trim('.', '_', '-');
        if (TryParse(name, out var r, out _)) return r;
        throw new StoreException(StoreFailure.BadReference,
            $"cannot make a model name from the file name '{Path.GetFileName(path)}': give one with --name NAME:TAG");
    }
}
