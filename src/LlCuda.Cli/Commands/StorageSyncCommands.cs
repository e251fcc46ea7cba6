using System.CommandLine;
using System.Globalization;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;
using LlCuda.Storage.Remotes;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda storage push LOCAL REMOTE_REF` and `llcuda storage pull REMOTE_REF [--name LOCAL]`:
/// models between the local store and an OCI registry (REMOTE_REF like
/// 127.0.0.1:5000/library/stories:260k). Credentials from LLCUDA_REGISTRY_USER /
/// LLCUDA_REGISTRY_PASSWORD (basic, or exchanged for a bearer token when the registry asks).
/// </summary>
internal static class StorageSyncCommands
{
    public static Command Push(CliConsole console)
    {
        var local = new Argument<string>("LOCAL") { Description = "The stored model, name[:tag]" };
        var remote = new Argument<string>("REMOTE_REF") { Description = "host[:port]/repository[:tag], e.g. 127.0.0.1:5000/library/stories:260k" };
        var json = CommonOptions.Json();
        var command = new Command("push", "Send a stored model to an OCI registry (blobs it lacks, then the tag)") { local, remote, json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var store = ModelStore.FromEnvironment();
            var localRef = ModelReference.Parse(r.GetValue(local)!);
            var remoteRef = ParseRemote(r.GetValue(remote)!);
            using var client = Client(remoteRef);
            var result = Run(() => ModelSync.PushAsync(store, localRef, remoteRef, client));
            Report(console, "pushed", result, r.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    public static Command Pull(CliConsole console)
    {
        var remote = new Argument<string>("REMOTE_REF") { Description = "host[:port]/repository[:tag] or @sha256:..., e.g. 127.0.0.1:5000/library/stories:260k" };
        var name = new Option<string?>("--name") { Description = "Local name[:tag] (default: REMOTE_REF itself)" };
        var json = CommonOptions.Json();
        var command = new Command("pull", "Fetch a model from an OCI registry into the store (verified, resumable)") { remote, name, json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var store = ModelStore.FromEnvironment();
            var remoteRef = ParseRemote(r.GetValue(remote)!);
            var localRef = ModelReference.Parse(r.GetValue(name)
                ?? $"{remoteRef.Registry}/{remoteRef.Repository}:{remoteRef.Tag ?? ModelReference.DefaultTag}");
            using var client = Client(remoteRef);
            var result = Run(() => ModelSync.PullAsync(store, remoteRef, localRef, client));
            Report(console, "pulled", result, r.GetValue(json));
            return ExitCodes.Success;
        }));
        return command;
    }

    static Reference ParseRemote(string text) =>
        Reference.TryParse(text, out var reference, out var error) ? reference : throw new UsageException(error);

    static OciRegistryClient Client(Reference remote) => new(remote.DefaultBaseUri, RegistryCredentials.FromEnvironment());

    // Store and registry errors already say what to do; CommandRunner prints each as one line.
    static SyncResult Run(Func<Task<SyncResult>> sync) => sync().GetAwaiter().GetResult();

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
