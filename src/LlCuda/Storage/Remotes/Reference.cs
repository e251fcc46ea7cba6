using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace LlCuda.Storage.Remotes;

/// <summary>
/// A model reference in registry form: <c>host[:port]/path/name[:tag][@sha256:hex]</c>, e.g.
/// <c>localhost:5000/models/tinyllama:q4_0</c> or <c>ghcr.io/org/llama@sha256:…</c>. The host
/// is always written out (llcuda has no default registry). Without tag or digest the tag is
/// "latest", as in Docker. Grammar: the distribution reference grammar (lowercase path
/// components separated by '.', '_', '__' or dashes; tags of at most 128 word characters,
/// dots and dashes).
/// </summary>
public sealed partial record Reference(string Registry, string Repository, string? Tag, string? Digest)
{
    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$")]
    private static partial Regex HostPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")]
    private static partial Regex ComponentPattern();

    [GeneratedRegex(@"^[\w][\w.-]{0,127}$")]
    private static partial Regex TagPattern();

    /// <summary>The tag, or the digest when there is no tag: what goes after /manifests/.</summary>
    public string ManifestReference => Digest ?? Tag!;

    /// <summary>
    /// http for loopback hosts (a local test registry seldom has TLS), https for everything else.
    /// </summary>
    public Uri DefaultBaseUri
    {
        get
        {
            string host = Registry.StartsWith('[') ? Registry[..(Registry.IndexOf(']') + 1)] : Registry.Split(':')[0];
            bool loopback = host is "localhost" or "[::1]" || host.StartsWith("127.", StringComparison.Ordinal);
            return new Uri($"{(loopback ? "http" : "https")}://{Registry}/");
        }
    }

    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    /// <summary>Parses <paramref name="text"/> or throws a FormatException with a one-line reason and an example.</summary>
    public static Reference Parse(string text) =>
        TryParse(text, out var reference, out var error) ? reference : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out Reference? reference, [NotNullWhen(false)] out string? error)
    {
        reference = null;
        const string example = "write it as host[:port]/name[:tag] or host[:port]/name@sha256:<64 hex>, e.g. localhost:5000/models/tinyllama:q4_0";
        if (string.IsNullOrWhiteSpace(text)) { error = $"empty model reference: {example}"; return false; }
        if (text.Any(char.IsWhiteSpace)) { error = $"reference '{text}' contains whitespace: {example}"; return false; }

        string rest = text;
        string? digest = null;
        int at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!Sha256Digest.IsValid(digest))
            {
                error = $"reference '{text}': digest '{digest}' is not sha256: followed by 64 lowercase hex digits";
                return false;
            }
        }

        int slash = rest.IndexOf('/');
        if (slash <= 0) { error = $"reference '{text}' has no registry host: {example}"; return false; }
        string registry = rest[..slash];
        string path = rest[(slash + 1)..];
        if (!HostPattern().IsMatch(registry))
        {
            error = $"reference '{text}': '{registry}' is not a host[:port] (letters, digits, dots and dashes, then an optional :port)";
            return false;
        }

        string? tag = null;
        int colon = path.LastIndexOf(':');
        if (colon >= 0)
        {
            tag = path[(colon + 1)..];
            path = path[..colon];
            if (tag.Length == 0) { error = $"reference '{text}' has an empty tag after ':': give a tag (e.g. ':latest') or drop the ':'"; return false; }
            if (!TagPattern().IsMatch(tag))
            {
                error = $"reference '{text}': tag '{tag}' must be 1..128 letters, digits, '_', '.' or '-' and not start with '.' or '-'";
                return false;
            }
        }

        if (path.Length == 0) { error = $"reference '{text}' has no repository name after the host: {example}"; return false; }
        if (path.Length > 255) { error = $"reference '{text}': the repository name is {path.Length} characters, more than the 255 registries accept"; return false; }
        foreach (var component in path.Split('/'))
        {
            if (component.Length == 0) { error = $"reference '{text}': the repository name '{path}' has an empty path component ('//' or a trailing '/')"; return false; }
            if (!ComponentPattern().IsMatch(component))
            {
                error = component.Any(char.IsUpper)
                    ? $"reference '{text}': repository names must be lowercase ('{component}' -> '{component.ToLowerInvariant()}')"
                    : $"reference '{text}': '{component}' must be lowercase letters and digits separated by '.', '_', '__' or '-'";
                return false;
            }
        }

        if (tag is null && digest is null) tag = "latest";
        reference = new Reference(registry, path, tag, digest);
        error = null;
        return true;
    }

    /// <summary>Checks a bare repository name (path/name without host) with the same rules.</summary>
    internal static void CheckRepository(string repository)
    {
        if (!TryParse("h/" + repository, out var r, out var error) || r.Repository != repository || r.Tag != "latest")
            throw new ArgumentException(
                (error ?? $"'{repository}' is not a bare repository name").Replace("'h/" + repository + "'", "'" + repository + "'") + " (a repository is path/name, without host, tag or digest)",
                nameof(repository));
    }
}
