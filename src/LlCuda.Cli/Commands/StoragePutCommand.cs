using System.CommandLine;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda storage put FILE [--name NAME:TAG] [--cache-max-bytes N] [--json]`: stores a GGUF
/// file (weights, config and manifest blobs, then the tag); with a byte budget, evicts least
/// recently used unpinned models until the store fits.
/// </summary>
internal static class StoragePutCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<string>("FILE") { Description = "GGUF model file to store" };
        var name = new Option<string>("--name") { Description = "Reference to store it under, name[:tag] (default: the file name, tag latest)" };
        var budget = new Option<long?>("--cache-max-bytes") { Description = "Byte budget of the store: evict least recently used unpinned models beyond it (default: cache_max_bytes in $LLCUDA_HOME/config.json; 0 = none)" };
        var license = new Option<string>("--license") { Description = "License text file to store with the model (a application/vnd.docker.ai.license layer)" };
        var url = StorageSyncCommands.FilerOption();
        var json = CommonOptions.Json();
        var command = new Command("put", "Store a GGUF model file under name:tag") { file, name, budget, license, url, json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            string path = r.GetValue(file)!;
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (give the path of a GGUF model)", path);
            string? licensePath = r.GetValue(license);
            if (licensePath is not null && !File.Exists(licensePath))
                throw new FileNotFoundException($"{licensePath}: no such license file (--license takes the path of a text file)", licensePath);
            var reference = r.GetValue(name) is { } n ? ModelReference.Parse(n) : ModelReference.FromFileName(path);
            var store = ModelStore.FromEnvironment();
            long max = r.GetValue(budget) ?? StoreConfig.Load(store.Layout).CacheMaxBytes;
            if (max < 0) throw new UsageException($"--cache-max-bytes {max} is out of range: expected a number of bytes, 0 (no budget) or more");
            var started = DateTime.UtcNow;
            var result = StorageProgress.Run(console, Path.GetFileName(path), (progress, cancel) =>
                store.Put(path, reference, max, progress is null ? null : p => progress(Path.GetFileName(path), p), licensePath, cancel));
            double seconds = (DateTime.UtcNow - started).TotalSeconds;
            if (r.GetValue(json))
            {
                WriteJson(console, result, seconds);
            }
            else
            {
                console.Out.WriteLine($"{result.Reference} {result.Manifest}");
                console.Error.WriteLine($"llcuda: stored {result.Weights.Size:N0} bytes as {result.Reference} (weights {result.Weights.Digest}) in {seconds:F2} s, {result.Weights.Size / Math.Max(seconds, 1e-9) / 1e6:F0} MB/s");
                foreach (var e in result.Evicted) console.Error.WriteLine($"llcuda: evicted {e} (least recently used; the store is over its byte budget of {max:N0})");
                if (max > 0 && store.StoredBytes() > max)
                    console.Error.WriteLine($"llcuda: warning: the store holds {store.StoredBytes():N0} bytes, over its budget of {max:N0}: everything else is pinned or in use by {result.Reference}");
            }
            // --storage-url: stored locally first, then sent to the filer as `storage push` would.
            if (r.GetValue(url) is { } filer) StorageSyncCommands.PushToFiler(console, store, result.Reference, filer);
            return ExitCodes.Success;
        }));
        return command;
    }

    static void WriteJson(CliConsole console, PutResult result, double seconds)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("name", result.Reference.Name);
            w.WriteString("tag", result.Reference.Tag);
            w.WriteString("manifest", result.Manifest.ToString());
            w.WriteString("digest", result.Weights.Digest.ToString());
            w.WriteNumber("size", result.Weights.Size);
            w.WriteNumber("seconds", seconds);
            w.WriteStartArray("evicted");
            foreach (var e in result.Evicted) w.WriteStringValue(e.ToString());
            w.WriteEndArray();
            w.WriteEndObject();
        }
        console.Out.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
