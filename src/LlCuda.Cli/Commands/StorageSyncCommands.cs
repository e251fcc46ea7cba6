using System.CommandLine;
using System.Globalization;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;
using LlCuda.Storage.Remotes;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda storage push LOCAL REMOTE_REF` and `llcuda storage pull REMOTE_REF [--name LOCAL]`:
/// models between the local store and an OCI registry (REMOTE_REF like
/// 127.0.0.1:5000/library/stories:260k), or with `--storage-url http://host:8888` an HTTP filer
/// (the model keeps its name:tag there). Credentials from LLCUDA_REGISTRY_USER /
/// LLCUDA_REGISTRY_PASSWORD (basic, or exchanged for a bearer token when the registry asks).
/// </summary>
internal static class StorageSyncCommands
{
    public static Command Push(CliConsole console)
    {
        var local = new Argument<string>("LOCAL") { Description = "The stored model, name[:tag]" };
        var remote = new Argument<string?>("REMOTE_REF") { Description = "host[:port]/repository[:tag], e.g. 127.0.0.1:5000/library/stories:260k (not with --storage-url)", Arity = ArgumentArity.ZeroOrOne };
        var url = FilerOption();
        var json = CommonOptions.Json();
        var command = new Command("push", "Send a stored model to an OCI registry or an HTTP filer (blobs it lacks, then the tag)") { local, remote, url, json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var store = ModelStore.FromEnvironment();
            var localRef = ModelReference.Parse(r.GetValue(local)!);
            var (target, client) = Remote(r.GetValue(remote), r.GetValue(url), localRef);
            using (client)
            {
                var result = ModelSync.PushAsync(store, localRef, target).GetAwaiter().GetResult();
                Report(console, "pushed", result, r.GetValue(json));
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command Pull(CliConsole console)
    {
        var remote = new Argument<string>("REMOTE_REF") { Description = "host[:port]/repository[:tag] or @sha256:..., e.g. 127.0.0.1:5000/library/stories:260k; with --storage-url, the name:tag on the filer" };
        var name = new Option<string?>("--name") { Description = "Local name[:tag] (default: REMOTE_REF itself)" };
        var url = FilerOption();
        var json = CommonOptions.Json();
        var command = new Command("pull", "Fetch a model from an OCI registry or an HTTP filer into the store (verified, resumable)") { remote, name, url, json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var store = ModelStore.FromEnvironment();
            string text = r.GetValue(remote)!;
            string? filer = r.GetValue(url);
            ModelReference localRef;
            if (filer is not null) localRef = ModelReference.Parse(r.GetValue(name) ?? text);
            else
            {
                var remoteRef = ParseRemote(text);
                localRef = ModelReference.Parse(r.GetValue(name) ?? $"{remoteRef.Registry}/{remoteRef.Repository}:{remoteRef.Tag ?? ModelReference.DefaultTag}");
            }
            var (source, client) = Remote(filer is null ? text : null, filer, filer is null ? localRef : ModelReference.Parse(text));
            using (client)
            {
                var result = ModelSync.PullAsync(store, source, localRef).GetAwaiter().GetResult();
                Report(console, "pulled", result, r.GetValue(json));
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    /// <summary>`storage put --storage-url`: pushes the model just stored to the filer.</summary>
    public static void PushToFiler(CliConsole console, ModelStore store, ModelReference reference, string url)
    {
        var (target, client) = Remote(null, url, reference);
        using (client) Report(console, "pushed", ModelSync.PushAsync(store, reference, target).GetAwaiter().GetResult(), json: false);
    }

    public static Option<string?> FilerOption() => new("--storage-url")
    {
        Description = "An HTTP filer (SeaweedFS filer API: PUT, GET, HEAD, DELETE), e.g. http://127.0.0.1:8888, instead of a registry",
    };

    // The remote a command names: a registry reference, or the model's name:tag on a filer.
    // Store and remote errors already say what to do; CommandRunner prints each as one line.
    static (IModelRemote Remote, IDisposable Client) Remote(string? registryRef, string? filerUrl, ModelReference filerName)
    {
        if ((registryRef is null) == (filerUrl is null))
            throw new UsageException("give either a registry reference (host[:port]/repository[:tag]) or --storage-url URL, not both or neither");
        if (filerUrl is not null)
        {
            if (!Uri.TryCreate(filerUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new UsageException($"--storage-url '{filerUrl}' is not an http(s) URL, e.g. http://127.0.0.1:8888");
            // Filer names follow the registry's repository rules (no host:port component).
            try { HttpFilerClient.ManifestPath(filerName.Name, filerName.Tag); }
            catch (FormatException e) { throw new UsageException($"'{filerName}' cannot name a model on a filer: {e.Message}"); }
            var filer = new HttpFilerClient(uri, RegistryCredentials.FromEnvironment());
            return (new FilerModelRemote(filer, filerName), filer);
        }
        var reference = ParseRemote(registryRef!);
        var client = new OciRegistryClient(reference.DefaultBaseUri, RegistryCredentials.FromEnvironment());
        return (new RegistryModelRemote(client, reference), client);
    }

    static Reference ParseRemote(string text) =>
        Reference.TryParse(text, out var reference, out var error) ? reference : throw new UsageException(error);

    static void Report(CliConsole console, string verb, SyncResult r, bool json)
    {
        if (json)
        {
            console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"remote\":\"{r.Remote}\",\"local\":\"{r.Local}\",\"manifest\":\"{r.Manifest}\",\"blobs_moved\":{r.BlobsMoved},\"blobs_skipped\":{r.BlobsSkipped},\"bytes_moved\":{r.BytesMoved}}}"));
            return;
        }
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"llcuda: {verb} {r.Local} <-> {r.Remote} ({r.Manifest}): {r.BlobsMoved} blobs moved ({r.BytesMoved:N0} bytes), {r.BlobsSkipped} already there"));
    }
}
