using System.CommandLine;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda storage get REF -o FILE`: copies a stored model's GGUF out of the store. REF is a
/// name[:tag] or a digest: a manifest digest gives its weights, any other blob digest the blob.
/// </summary>
internal static class StorageGetCommand
{
    public static Command Create(CliConsole console)
    {
        var reference = new Argument<string>("REF") { Description = "name[:tag], or sha256:HEX of a manifest or blob" };
        var output = new Option<string>("--output", "-o") { Description = "File to write", Required = true };
        var command = new Command("get", "Copy a stored model (its GGUF file) out of the store") { reference, output };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var store = ModelStore.FromEnvironment();
            string text = r.GetValue(reference)!;
            string outPath = r.GetValue(output)!;
            string source;
            if (Digest.LooksLikeDigest(text))
            {
                var digest = Digest.Parse(text);
                if (!store.Blobs.Exists(digest))
                    throw new StoreException(StoreFailure.NotFound, $"unknown blob {digest}: not in the store (llcuda storage list --json shows the digests)");
                source = store.Blobs.PathOf(digest);
                // A manifest digest means "the model it describes"; manifests are small JSON.
                if (store.Blobs.SizeOf(digest) < 1 << 20 && File.ReadAllBytes(source) is [(byte)'{', ..])
                    source = store.Blobs.PathOf(store.ReadManifest(digest).Weights.Digest);
            }
            else source = store.Open(ModelReference.Parse(text)).WeightsPath;

            string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, $".{Path.GetFileName(outPath)}.tmp-{Guid.NewGuid():N}");
            try
            {
                StorageProgress.Run(console, Path.GetFileName(outPath), (progress, cancel) =>
                {
                    using var from = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                    using var to = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
                    byte[] buffer = new byte[BlobStore.BufferBytes];
                    long done = 0;
                    int n;
                    while ((n = from.Read(buffer)) > 0)
                    {
                        cancel.ThrowIfCancellationRequested();
                        to.Write(buffer, 0, n);
                        done += n;
                        progress?.Invoke(Path.GetFileName(outPath), new BlobProgress(done, from.Length));
                    }
                    return done;
                });
                File.Move(temp, outPath, overwrite: true);
            }
            finally { File.Delete(temp); }
            console.Error.WriteLine($"llcuda: wrote {outPath} ({new FileInfo(outPath).Length:N0} bytes)");
            return ExitCodes.Success;
        }));
        return command;
    }
}
