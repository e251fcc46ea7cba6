namespace LlCuda.Storage;

/// <summary>
/// Turns a -m value into a GGUF path: an existing file is used as given; otherwise a valid
/// name[:tag] is looked up in the store and becomes its weights blob (a plain GGUF file, memory
/// mapped like any other). Values that look like file paths (ending in .gguf, or not a valid
/// reference) keep the old "no such file" error, so a typo in a path is not reported as an
/// unknown model.
/// </summary>
public static class ModelLocator
{
    public sealed record Located(string Path, StoredModel? Stored)
    {
        /// <summary>
        /// Adds, to an error that loading the GGUF raised, which stored model and blob it was and
        /// what to do: a blob that parses wrong was damaged after it was stored.
        /// </summary>
        public string Explain(string message) => Stored is null ? message
            : $"{message} (stored model '{Stored.Reference}', blob {Stored.Weights.Digest}: run 'llcuda storage verify {Stored.Reference}', then put or pull it again)";
    }

    public static Located Locate(string value, Func<ModelStore>? store = null)
    {
        if (File.Exists(value) || value.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase)
            || value.Contains(Path.DirectorySeparatorChar + ".", StringComparison.Ordinal) || value.StartsWith('.')
            || !ModelReference.TryParse(value, out var reference, out _))
            return new Located(value, null);
        var opened = (store ?? ModelStore.FromEnvironment)();
        try
        {
            var model = opened.Open(reference);
            return new Located(model.WeightsPath, model);
        }
        catch (StoreException e) when (e.Failure == StoreFailure.NotFound && RemoteOf(reference) is { } remote)
        {
            // A name that starts with a registry host:port is pulled on first use, then loads
            // from the store like any other (credentials as for `llcuda storage pull`).
            using var client = new Remotes.OciRegistryClient(remote.DefaultBaseUri, RegistryCredentials.FromEnvironment());
            ModelSync.PullAsync(opened, new RegistryModelRemote(client, remote), reference).GetAwaiter().GetResult();
            var model = opened.Open(reference);
            return new Located(model.WeightsPath, model);
        }
    }

    // "host:port/repo:tag" names a registry; plain names (even with dots) stay local only.
    static Remotes.Reference? RemoteOf(ModelReference reference)
    {
        int slash = reference.Name.IndexOf('/');
        if (slash < 0 || !reference.Name.AsSpan(0, slash).Contains(':')) return null;
        return Remotes.Reference.TryParse(reference.ToString(), out var remote, out _) ? remote : null;
    }
}
