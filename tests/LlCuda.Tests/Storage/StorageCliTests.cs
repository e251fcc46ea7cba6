using System.Text.Json;
using LlCuda.Storage;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage;

/// <summary>`llcuda storage ...` and `-m name:tag` end to end, through the published binary with its own LLCUDA_HOME.</summary>
public class StorageCliTests
{
    const string KnownText = "Once upon a time, there was a little girl named Lily.";

    sealed class Home
    {
        public string Root { get; } = Path.Combine(TestPaths.NewTempDir(), "home");
        public ModelStore Store => new(new StoreLayout(Root));
        public CliResult Run(params string[] args) =>
            CliRunner.Published(args, environment: new Dictionary<string, string?> { ["LLCUDA_HOME"] = Root });
    }

    [PublishedBinaryFact]
    public void PutThenInferByName_Stories260K_PrintsTheKnownTextAndRecordsTheUse()
    {
        var home = new Home();
        var put = home.Run("storage", "put", TestPaths.Stories260K, "--name", "stories:v1");
        Assert.True(put.ExitCode == 0, put.Stderr);
        var before = home.Store.Describe(ModelReference.Parse("stories:v1")).Tag.LastUsed;

        var infer = home.Run("infer", "-m", "stories:v1", "-p", "", "-n", "30", "--temp", "0");

        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.StartsWith(KnownText, infer.Stdout, StringComparison.Ordinal);
        Assert.True(home.Store.Describe(ModelReference.Parse("stories:v1")).Tag.LastUsed > before);
    }

    [PublishedBinaryFact]
    public void ListJson_TwoTagsOfOneFile_ShowsBothWithTheSameDigestAndTheirConfig()
    {
        var home = new Home();
        Assert.Equal(0, home.Run("storage", "put", TestPaths.Stories260K, "--name", "stories:v1").ExitCode);
        Assert.Equal(0, home.Run("storage", "put", TestPaths.Stories260K).ExitCode);
        Assert.Equal(0, home.Run("storage", "pin", "stories:v1").ExitCode);

        var list = home.Run("storage", "list", "--json");

        Assert.Equal(0, list.ExitCode);
        using var doc = JsonDocument.Parse(list.Stdout);
        var items = doc.RootElement.EnumerateArray().ToList();
        Assert.Equal(["stories:v1", "stories260k:latest"], items.Select(i => $"{i.GetProperty("name").GetString()}:{i.GetProperty("tag").GetString()}"));
        Assert.Single(items.Select(i => i.GetProperty("digest").GetString()).Distinct());
        Assert.All(items, i => Assert.Equal("llama", i.GetProperty("architecture").GetString()));
        Assert.All(items, i => Assert.Equal("F32", i.GetProperty("quantization").GetString()));
        Assert.Equal([true, false], items.Select(i => i.GetProperty("pinned").GetBoolean()));
    }

    [PublishedBinaryFact]
    public void Get_ByNameAndByManifestDigest_WritesTheOriginalFile()
    {
        var home = new Home();
        var put = home.Run("storage", "put", TestPaths.Stories260K, "--name", "stories:v1");
        string manifest = put.Stdout.Trim().Split(' ')[1];
        string dir = TestPaths.NewTempDir();

        Assert.Equal(0, home.Run("storage", "get", "stories:v1", "-o", Path.Combine(dir, "a.gguf")).ExitCode);
        Assert.Equal(0, home.Run("storage", "get", manifest, "-o", Path.Combine(dir, "b.gguf")).ExitCode);

        var original = File.ReadAllBytes(TestPaths.Stories260K);
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(dir, "a.gguf")));
        Assert.Equal(original, File.ReadAllBytes(Path.Combine(dir, "b.gguf")));
    }

    [PublishedBinaryFact]
    public void Infer_UnknownReference_FailsWithOneLineSayingHowToStoreIt()
    {
        var r = new Home().Run("infer", "-m", "x:y", "-p", "");
        Assert.Equal(66, r.ExitCode);
        Assert.Equal("llcuda: error: unknown model 'x:y': not in the store (llcuda storage list; llcuda storage put FILE --name x:y)\n", r.Stderr);
    }

    [PublishedBinaryFact]
    public void Get_BadDigestOrReference_FailsWithOneLineUsageError()
    {
        var home = new Home();
        foreach (var bad in new[] { "sha256:xyz", "Bad:Name" })
        {
            var r = home.Run("storage", "get", bad, "-o", Path.Combine(TestPaths.NewTempDir(), "x.gguf"));
            Assert.Equal(2, r.ExitCode);
            Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
            Assert.StartsWith("llcuda: error: '", r.Stderr, StringComparison.Ordinal);
        }
    }

    [PublishedBinaryFact]
    public void Verify_BlobWithOneFlippedByte_NamesItAndExitsNonZero()
    {
        var home = new Home();
        Assert.Equal(0, home.Run("storage", "put", TestPaths.Stories260K, "--name", "stories:v1").ExitCode);
        var weights = home.Store.Describe(ModelReference.Parse("stories:v1")).Weights.Digest;
        Assert.Equal(0, home.Run("storage", "verify").ExitCode);

        StoreFixture.FlipByte(home.Store.Blobs.PathOf(weights), 700_000);
        var r = home.Run("storage", "verify");

        Assert.Equal(65, r.ExitCode);
        Assert.Contains($"corrupt: {weights} (content hashes to sha256:", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("used by stories:v1", r.Stdout, StringComparison.Ordinal);
    }

    [PublishedBinaryFact]
    public void Infer_StoredModelWithDamagedHeaderOrTruncated_FailsWithOneLineSayingToVerify()
    {
        var home = new Home();
        Assert.Equal(0, home.Run("storage", "put", TestPaths.Stories260K, "--name", "stories:v1").ExitCode);
        string blob = home.Store.Describe(ModelReference.Parse("stories:v1")).WeightsPath;

        StoreFixture.FlipByte(blob, 0); // the GGUF magic
        var damaged = home.Run("infer", "-m", "stories:v1", "-p", "", "-n", "4");
        using (var fs = new FileStream(blob, FileMode.Open)) fs.SetLength(fs.Length - 1);
        var truncated = home.Run("infer", "-m", "stories:v1", "-p", "", "-n", "4");

        foreach (var r in new[] { damaged, truncated })
        {
            Assert.Equal(65, r.ExitCode);
            Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
            Assert.Contains("llcuda storage verify", r.Stderr, StringComparison.Ordinal);
            Assert.Contains("put or pull it again", r.Stderr, StringComparison.Ordinal);
        }
    }

    [PublishedBinaryFact]
    public void Put_KilledMidWay_LeavesNoPartialBlobAndASecondPutCompletes()
    {
        var home = new Home();
        // A valid GGUF with 1 GiB of zeros after its data: a put takes seconds, long enough to kill.
        string big = StoreFixture.PaddedStories(1L << 30);
        string blobs = Path.Combine(home.Root, "blobs", "sha256");
        // Killed once its temp blob has bytes: the copy is under way, nothing is committed.
        ShellScript.KillWhenFileAppears("\"$LLCUDA\" storage put \"$BIG\" --name big:v1", blobs, ".tmp-*", "0",
            new Dictionary<string, string> { ["LLCUDA_HOME"] = home.Root, ["BIG"] = big });

        Assert.DoesNotContain(home.Store.Blobs.All(), d => home.Store.Blobs.SizeOf(d) > 1 << 20);
        Assert.Empty(home.Store.Tags());
        Assert.Equal(0, home.Run("storage", "verify").ExitCode);

        var again = home.Run("storage", "put", big, "--name", "big:v1");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(0, home.Run("storage", "verify", "big:v1").ExitCode);
        Assert.Equal(new FileInfo(big).Length, home.Store.Open(ModelReference.Parse("big:v1")).Weights.Size);

        // The killed put's temp file is left until gc finds it over an hour old.
        var temp = Assert.Single(home.Store.Blobs.TempFiles());
        temp.LastWriteTimeUtc = DateTime.UtcNow.AddHours(-2);
        Assert.Equal(0, home.Run("storage", "gc").ExitCode);
        Assert.Empty(home.Store.Blobs.TempFiles());
    }

    [PublishedBinaryFact]
    public void Put_TwoProcessesPuttingTheSameFile_BothSucceedWithOneBlob()
    {
        var home = new Home();
        string file = StoreFixture.PaddedStories(64 << 20);

        var runs = new[] { "m:a", "m:b" }.AsParallel().WithDegreeOfParallelism(2)
            .Select(name => home.Run("storage", "put", file, "--name", name)).ToList();

        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.Stderr));
        Assert.Equal(3, home.Store.Blobs.All().Count());
        Assert.Empty(home.Store.Blobs.TempFiles());
        Assert.Equal(0, home.Run("storage", "verify").ExitCode);
    }

    [PublishedBinaryFact]
    public void RmThenGc_OnlyTagOfAModel_FreesItsBlobs()
    {
        var home = new Home();
        Assert.Equal(0, home.Run("storage", "put", TestPaths.Stories260K, "--name", "stories:v1").ExitCode);
        Assert.Equal(0, home.Run("storage", "rm", "stories:v1").ExitCode);
        var gc = home.Run("storage", "gc");
        Assert.Equal(0, gc.ExitCode);
        Assert.StartsWith("removed 3 blobs", gc.Stdout, StringComparison.Ordinal);
        Assert.Equal(66, home.Run("storage", "rm", "stories:v1").ExitCode);
    }

    [PublishedBinaryFact]
    public void Put_ConfigBudget_EvictsTheOlderModel()
    {
        var home = new Home();
        Directory.CreateDirectory(home.Root);
        long size = new FileInfo(TestPaths.Stories260K).Length;
        File.WriteAllText(Path.Combine(home.Root, "config.json"), $"{{\"cache_max_bytes\": {size + 65536}}}");
        Assert.Equal(0, home.Run("storage", "put", StoreFixture.PaddedStories(1), "--name", "a:1").ExitCode);

        var r = home.Run("storage", "put", StoreFixture.PaddedStories(2), "--name", "b:1");

        Assert.Equal(0, r.ExitCode);
        Assert.Contains("evicted a:1", r.Stderr, StringComparison.Ordinal);
        Assert.Equal([ModelReference.Parse("b:1")], home.Store.Tags());
    }
}
