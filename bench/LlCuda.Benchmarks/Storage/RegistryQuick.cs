using System.Diagnostics;
using System.Security.Cryptography;
using LlCuda.Storage.Remotes;

namespace LlCuda.Benchmarks.Storage;

/// <summary>
/// Push and pull one random blob through an OCI registry and print MB/s (MB = 10^6 bytes).
/// scripts/bench-registry.sh starts a local docker-registry and runs this.
/// Args: REGISTRY_URL [SIZE_MB=1024] [WORK_DIR=/tmp] [ROUNDS=3]
/// </summary>
public static class RegistryQuick
{
    public static void Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    static async Task RunAsync(string[] args)
    {
        if (args.Length < 1) { Console.Error.WriteLine("usage: registry-quick REGISTRY_URL [SIZE_MB] [WORK_DIR] [ROUNDS]"); Environment.Exit(2); }
        var registry = new Uri(args[0]);
        long size = (args.Length > 1 ? long.Parse(args[1]) : 1024) * 1_000_000;
        string work = args.Length > 2 ? args[2] : Path.GetTempPath();
        int rounds = args.Length > 3 ? int.Parse(args[3]) : 3;
        string source = Path.Combine(work, "registry-quick.src");
        string dest = Path.Combine(work, "registry-quick.dst");

        // Random bytes: a registry or a kernel could shortcut zeros.
        var rng = new Random(7);
        var buf = new byte[8 << 20];
        string digest;
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
        using (var f = new FileStream(source, FileMode.Create, FileAccess.Write, FileShare.None, 0))
        {
            for (long left = size; left > 0;)
            {
                int n = (int)Math.Min(buf.Length, left);
                rng.NextBytes(buf.AsSpan(0, n));
                hash.AppendData(buf, 0, n);
                f.Write(buf, 0, n);
                left -= n;
            }
            digest = Sha256Digest.FromHash(hash.GetCurrentHash());
        }
        using var client = new OciRegistryClient(registry);
        Console.WriteLine($"registry-quick: {registry} blob {size / 1e6:F0} MB {digest}");

        var sw = Stopwatch.StartNew();
        await using (var s = File.OpenRead(source))
            await client.PushBlobAsync("bench/blob", digest, s, size);
        double push = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"push (chunked, {new RemoteOptions().ChunkSize >> 20} MiB PATCHes): {size / 1e6 / push,8:F0} MB/s  ({push:F2} s)");

        for (int r = 0; r < rounds; r++)
        {
            File.Delete(dest);
            sw.Restart();
            await client.PullBlobAsync("bench/blob", digest, dest);
            double pull = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"pull {r + 1} (sha256-verified, to disk): {size / 1e6 / pull,8:F0} MB/s  ({pull:F2} s)");
        }
        File.Delete(dest);

        // Where the pull time goes: the same GET with the bytes discarded (network + registry
        // only), and sha256 of the source file from the page cache (hash only).
        using (var http = new HttpClient { BaseAddress = registry, Timeout = Timeout.InfiniteTimeSpan })
        {
            sw.Restart();
            using var response = await http.GetAsync($"v2/bench/blob/blobs/{digest}", HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var chunk = new byte[1 << 20];
            long got = 0;
            int n;
            while ((n = await body.ReadAsync(chunk)) > 0) got += n;
            Console.WriteLine($"reference: GET, bytes discarded:         {got / 1e6 / sw.Elapsed.TotalSeconds,8:F0} MB/s");
        }
        sw.Restart();
        await using (var s = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 0))
            await SHA256.HashDataAsync(s);
        Console.WriteLine($"reference: sha256 of the source file:   {size / 1e6 / sw.Elapsed.TotalSeconds,8:F0} MB/s");
        File.Delete(source);
    }
}
