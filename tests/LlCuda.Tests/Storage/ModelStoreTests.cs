using System.Security.Cryptography;
using System.Text;
using LlCuda.Gguf;
using LlCuda.Storage;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage;

public class ModelStoreTests
{
    static readonly ModelReference V1 = ModelReference.Parse("stories:v1");
    static readonly ModelReference V2 = ModelReference.Parse("stories:v2");

    [Fact]
    public void Put_Stories260K_StoresBlobNamedBySha256AndResolvesTheTag()
    {
        var store = StoreFixture.NewStore();
        var result = store.Put(TestPaths.Stories260K, V1);

        string expected = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(TestPaths.Stories260K)));
        Assert.Equal(expected, result.Weights.Digest.Hex);
        var model = store.Open(V1);
        Assert.Equal(store.Layout.BlobPath(result.Weights.Digest), model.WeightsPath);
        Assert.Equal(File.ReadAllBytes(TestPaths.Stories260K), File.ReadAllBytes(model.WeightsPath));
        using var gguf = GgufFile.Open(model.WeightsPath);
        Assert.Equal("llama", gguf.Architecture);
        Assert.Empty(store.Blobs.TempFiles());
    }

    [Fact]
    public void Put_Stories260K_WritesAnOciManifestWithDockerModelMediaTypesAndAFilledConfig()
    {
        var store = StoreFixture.NewStore();
        var result = store.Put(TestPaths.Stories260K, V1);

        string manifestJson = File.ReadAllText(store.Layout.BlobPath(result.Manifest));
        Assert.Contains("\"schemaVersion\":2", manifestJson, StringComparison.Ordinal);
        Assert.Contains($"\"mediaType\":\"{MediaTypes.OciManifest}\"", manifestJson, StringComparison.Ordinal);
        var manifest = store.ReadManifest(result.Manifest);
        Assert.Equal(MediaTypes.ModelConfig, manifest.Config.MediaType);
        Assert.Equal(MediaTypes.Gguf, Assert.Single(manifest.Layers).MediaType);
        Assert.Equal(new FileInfo(TestPaths.Stories260K).Length, manifest.Weights.Size);

        var config = store.Describe(V1).Config;
        Assert.Equal("llama", config.Architecture);
        Assert.Equal("F32", config.Quantization);
        Assert.True(config.Parameters > 260_000, $"parameters {config.Parameters}");
        Assert.Contains("\"format\":\"gguf\"", File.ReadAllText(store.Layout.BlobPath(manifest.Config.Digest)), StringComparison.Ordinal);
    }

    [Fact]
    public void Put_WithLicenseFile_AddsALicenseLayerThatGcKeeps()
    {
        var store = StoreFixture.NewStore();
        string license = Path.Combine(TestPaths.NewTempDir(), "LICENSE");
        File.WriteAllText(license, "MIT License\n");
        var put = store.Put(TestPaths.Stories260K, V1, licensePath: license);

        var layers = store.ReadManifest(put.Manifest).Layers;
        Assert.Equal([MediaTypes.Gguf, MediaTypes.License], layers.Select(l => l.MediaType));
        Assert.Equal("MIT License\n", File.ReadAllText(store.Blobs.PathOf(layers[1].Digest)));
        Assert.Equal(0, store.CollectGarbage().BlobsRemoved);
        Assert.Empty(store.Verify(V1).Problems);
    }

    [Fact]
    public void Put_SameFileUnderTwoTags_StoresEveryBlobOnce()
    {
        var store = StoreFixture.NewStore();
        var a = store.Put(TestPaths.Stories260K, V1);
        var b = store.Put(TestPaths.Stories260K, V2);

        Assert.Equal(a.Weights.Digest, b.Weights.Digest);
        Assert.Equal(a.Manifest, b.Manifest);
        Assert.Equal(3, store.Blobs.All().Count()); // weights, config, manifest
        Assert.Equal([V1, V2], store.List().Select(m => m.Reference));
    }

    [Fact]
    public void Gc_AfterRemovingOneOfTwoSharingTags_KeepsTheSharedBlobs()
    {
        var store = StoreFixture.NewStore();
        store.Put(TestPaths.Stories260K, V1);
        store.Put(TestPaths.Stories260K, V2);
        store.Remove(V1);

        Assert.Equal(0, store.CollectGarbage().BlobsRemoved);
        Assert.Equal(3, store.Blobs.All().Count());
        store.Remove(V2);
        var gc = store.CollectGarbage();
        Assert.Equal(3, gc.BlobsRemoved);
        Assert.Empty(store.Blobs.All());
        Assert.Empty(store.List());
    }

    [Fact]
    public void Gc_TempFiles_RemovesOnlyThoseOlderThanAnHour()
    {
        var store = StoreFixture.NewStore();
        store.Put(TestPaths.Stories260K, V1);
        string stale = Path.Combine(store.Layout.BlobDirectory, ".tmp-1-stale");
        string fresh = Path.Combine(store.Layout.BlobDirectory, ".tmp-1-fresh");
        File.WriteAllText(stale, "partial");
        File.WriteAllText(fresh, "partial");
        File.SetLastWriteTimeUtc(stale, DateTime.UtcNow.AddHours(-2));

        var gc = store.CollectGarbage();
        Assert.Equal(1, gc.TempFilesRemoved);
        Assert.False(File.Exists(stale));
        Assert.True(File.Exists(fresh));
        Assert.NotNull(store.Open(V1));
    }

    [Fact]
    public void Put_OverBudget_EvictsTheLeastRecentlyUsedUnpinnedModel()
    {
        var clock = new ManualClock();
        var store = StoreFixture.NewStore(clock);
        long size = new FileInfo(TestPaths.Stories260K).Length;
        var a = ModelReference.Parse("a:1");
        var b = ModelReference.Parse("b:1");
        var c = ModelReference.Parse("c:1");
        store.Put(StoreFixture.PaddedStories(1), a);
        clock.Advance(TimeSpan.FromMinutes(1));
        store.Put(StoreFixture.PaddedStories(2), b);
        clock.Advance(TimeSpan.FromMinutes(1));
        store.Open(a); // a is now used more recently than b
        clock.Advance(TimeSpan.FromMinutes(1));

        // Room for two models (plus their small configs and manifests), not three.
        var result = store.Put(StoreFixture.PaddedStories(3), c, budgetBytes: 2 * size + 64 * 1024);

        Assert.Equal([b], result.Evicted);
        Assert.Equal([a, c], store.List().Select(m => m.Reference));
        Assert.Equal(6, store.Blobs.All().Count());
    }

    [Fact]
    public void Put_OverBudget_NeverEvictsAPinnedModel()
    {
        var clock = new ManualClock();
        var store = StoreFixture.NewStore(clock);
        var a = ModelReference.Parse("a:1");
        var b = ModelReference.Parse("b:1");
        store.Put(StoreFixture.PaddedStories(1), a);
        store.SetPinned(a, true);
        clock.Advance(TimeSpan.FromMinutes(1));

        var result = store.Put(StoreFixture.PaddedStories(2), b, budgetBytes: 1);

        Assert.Empty(result.Evicted);
        Assert.True(store.Describe(a).Tag.Pinned);
        store.SetPinned(a, false);
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal([a], store.Put(StoreFixture.PaddedStories(3), ModelReference.Parse("c:1"), budgetBytes: 1).Evicted.Take(1));
    }

    [Fact]
    public void Verify_BlobWithOneFlippedByte_NamesThatBlobAndItsTags()
    {
        var store = StoreFixture.NewStore();
        var put = store.Put(TestPaths.Stories260K, V1);
        store.Put(TestPaths.Stories260K, V2);
        Assert.Empty(store.Verify().Problems);

        StoreFixture.FlipByte(store.Blobs.PathOf(put.Weights.Digest), 600_000);

        var problem = Assert.Single(store.Verify().Problems);
        Assert.Equal(put.Weights.Digest, problem.Digest);
        Assert.Contains("content hashes to sha256:", problem.Problem, StringComparison.Ordinal);
        Assert.Equal([V1, V2], problem.UsedBy.OrderBy(r => r.ToString(), StringComparer.Ordinal));
        Assert.Single(store.Verify(V2).Problems);
    }

    [Fact]
    public void Open_TruncatedWeightsBlob_ThrowsCorruptSayingToVerify()
    {
        var store = StoreFixture.NewStore();
        var put = store.Put(TestPaths.Stories260K, V1);
        using (var fs = new FileStream(store.Blobs.PathOf(put.Weights.Digest), FileMode.Open)) fs.SetLength(1000);

        var e = Assert.Throws<StoreException>(() => store.Open(V1));
        Assert.Equal(StoreFailure.Corrupt, e.Failure);
        Assert.Contains("llcuda storage verify", e.Message, StringComparison.Ordinal);
        Assert.Contains(put.Weights.Digest.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_UnknownReference_ThrowsNotFoundWithTheFix()
    {
        var e = Assert.Throws<StoreException>(() => StoreFixture.NewStore().Open(ModelReference.Parse("x:y")));
        Assert.Equal(StoreFailure.NotFound, e.Failure);
        Assert.Equal("unknown model 'x:y': not in the store (llcuda storage list; llcuda storage put FILE --name x:y)", e.Message);
    }

    [Fact]
    public void Describe_TagPointingAtAManifestOfAnotherMediaType_ThrowsOneLineError()
    {
        var store = StoreFixture.NewStore();
        var put = store.Put(TestPaths.Stories260K, V1);
        var (index, _) = store.Blobs.Put(Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[]}"));
        string tagPath = store.Layout.TagPath(V1);
        File.WriteAllText(tagPath, File.ReadAllText(tagPath).Replace(put.Manifest.ToString(), index.ToString(), StringComparison.Ordinal));

        var e = Assert.Throws<StoreException>(() => store.Describe(V1));
        Assert.Equal(StoreFailure.Corrupt, e.Failure);
        Assert.Contains("application/vnd.oci.image.index.v1+json", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Touch_AfterOpen_RecordsTheLastUse()
    {
        var clock = new ManualClock();
        var store = StoreFixture.NewStore(clock);
        store.Put(TestPaths.Stories260K, V1);
        var before = store.Describe(V1).Tag.LastUsed;
        clock.Advance(TimeSpan.FromHours(3));
        store.Open(V1);
        Assert.Equal(before + TimeSpan.FromHours(3), store.Describe(V1).Tag.LastUsed);
    }

    [Fact]
    public void Put_ConcurrentPutsOfTheSameFile_AllSucceedWithOneBlob()
    {
        var store = StoreFixture.NewStore();
        string file = StoreFixture.PaddedStories(8 << 20);
        var refs = Enumerable.Range(0, 4).Select(i => ModelReference.Parse($"m:{i}")).ToArray();

        var results = refs.AsParallel().WithDegreeOfParallelism(4).Select(r => new ModelStore(store.Layout).Put(file, r)).ToList();

        Assert.Single(results.Select(r => r.Weights.Digest).Distinct());
        Assert.Equal(3, store.Blobs.All().Count());
        Assert.Empty(store.Blobs.TempFiles());
        Assert.Equal(refs, store.List().Select(m => m.Reference));
        Assert.Empty(store.Verify().Problems);
    }

    [Fact]
    public void Locate_ExistingFileOrGgufPath_IsUsedAsAPath()
    {
        Assert.Null(ModelLocator.Locate(TestPaths.Stories260K, () => throw new InvalidOperationException("store not consulted")).Stored);
        Assert.Equal("missing.gguf", ModelLocator.Locate("missing.gguf", () => throw new InvalidOperationException("store not consulted")).Path);
    }

    [Fact]
    public void Locate_StoredReference_GivesTheWeightsBlob()
    {
        var store = StoreFixture.NewStore();
        var put = store.Put(TestPaths.Stories260K, V1);
        var located = ModelLocator.Locate("stories:v1", () => store);
        Assert.Equal(store.Blobs.PathOf(put.Weights.Digest), located.Path);
        Assert.Equal(V1, located.Stored!.Reference);
    }
}
