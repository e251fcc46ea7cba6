namespace LlCuda.Storage;

/// <summary>
/// Where things live under the store root ($LLCUDA_HOME, default ~/.llcuda):
/// <code>
/// blobs/sha256/HEX        content, named by its digest (GGUF weights, configs, manifests)
/// manifests/NAME/TAG      one small JSON file per tag: manifest digest, pinned, last use
/// config.json             settings: {"cache_max_bytes": N}
/// store.lock              held (flock) while the tags change
/// </code>
/// Temporary files start with '.' in the directory of their final name, so a rename makes them
/// real in one step and they never look like a blob (64 hex digits) or a tag (no leading '.').
/// </summary>
public sealed class StoreLayout
{
    public StoreLayout(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
    }

    /// <summary>$LLCUDA_HOME, or ~/.llcuda when it is unset or empty.</summary>
    public static StoreLayout FromEnvironment()
    {
        string? home = Environment.GetEnvironmentVariable("LLCUDA_HOME");
        if (string.IsNullOrEmpty(home))
            home = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".llcuda");
        return new StoreLayout(home);
    }

    public string Root { get; }
    public string BlobDirectory => Path.Combine(Root, "blobs", Digest.Algorithm);
    public string ManifestDirectory => Path.Combine(Root, "manifests");
    public string ConfigFile => Path.Combine(Root, "config.json");
    public string LockFile => Path.Combine(Root, "store.lock");

    public string BlobPath(Digest digest) => Path.Combine(BlobDirectory, digest.Hex);

    public string TagPath(ModelReference reference) =>
        Path.Combine(ManifestDirectory, Path.Combine(reference.Name.Split('/')), reference.Tag);

    /// <summary>A unique temporary name beside <paramref name="finalPath"/> (same directory, so rename is atomic).</summary>
    public static string TempPathBeside(string finalPath) =>
        Path.Combine(Path.GetDirectoryName(finalPath)!, $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public static bool IsTempName(string fileName) => fileName.StartsWith(".tmp-", StringComparison.Ordinal);
}
