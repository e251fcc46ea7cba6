using LlCuda.Storage.Remotes;
using LlCuda.Tests.Models;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>The OCI client against a real CNCF distribution registry on 127.0.0.1.</summary>
public class OciRegistryClientTests(RegistryServer server) : IClassFixture<RegistryServer>
{
    OciRegistryClient Client(FaultInjector? faults = null, RemoteOptions? options = null) =>
        new(server.BaseUri, options: options ?? RemoteTestData.FastOptions, handler: faults);

    static async Task Push(OciRegistryClient client, string repo, (byte[] Bytes, string Digest) blob, CancellationToken ct)
    {
        using var s = new MemoryStream(blob.Bytes, writable: false);
        await client.PushBlobAsync(repo, blob.Digest, s, blob.Bytes.Length, null, ct);
    }

    [RegistryFact]
    public async Task PushBlobsAndManifest_ThenPull_RoundTripsBytesAndDigests()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        using var client = Client();
        const string repo = "models/roundtrip";
        var config = RemoteTestData.Blob(200, 1);
        var small = RemoteTestData.Blob(100_000, 2);
        var large = RemoteTestData.Blob(1 << 20, 3); // above the 256 KiB threshold: chunked
        foreach (var b in new[] { config, small, large }) await Push(client, repo, b, ct);
        var manifest = RemoteTestData.Manifest(config, small, large);

        string digest = await client.PutManifestAsync(repo, "v1", OciMediaTypes.ImageManifest, manifest, ct);

        Assert.Equal(Sha256Digest.Of(manifest), digest);
        var byTag = await client.GetManifestAsync(repo, "v1", ct);
        Assert.Equal(manifest, byTag.Bytes);
        Assert.Equal(OciMediaTypes.ImageManifest, byTag.MediaType);
        Assert.Equal(digest, byTag.Digest);
        var byDigest = await client.GetManifestAsync(repo, digest, ct);
        Assert.Equal(manifest, byDigest.Bytes);
        Assert.Equal(["v1"], await client.ListTagsAsync(repo, ct));
        foreach (var b in new[] { config, small, large })
        {
            string path = scratch.File(b.Digest[7..]);
            long progress = -1;
            long length = await client.PullBlobAsync(repo, b.Digest, path, new SyncProgress(p => progress = p), ct);
            Assert.Equal(b.Bytes.Length, length);
            Assert.Equal(b.Bytes.Length, progress);
            Assert.Equal(b.Bytes, File.ReadAllBytes(path));
            Assert.False(File.Exists(path + ".partial"));
        }
    }

    [RegistryFact]
    public async Task PushBlob_AlreadyThere_SendsOnlyHead()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(50_000, 10);
        using var s = new MemoryStream(blob.Bytes);
        Assert.True(await client.PushBlobAsync("skip/me", blob.Digest, s, blob.Bytes.Length, null, ct));
        int before = faults.Requests.Count;

        s.Position = 0;
        bool uploaded = await client.PushBlobAsync("skip/me", blob.Digest, s, blob.Bytes.Length, null, ct);

        Assert.False(uploaded);
        Assert.Equal(["HEAD /v2/skip/me/blobs/" + blob.Digest], faults.Requests.Skip(before));
        Assert.Equal(0, s.Position);
    }

    [RegistryFact]
    public async Task PushBlob_AboveThreshold_SendsOnePatchPerChunk()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(1_000_000, 11); // 100 KiB chunks: 10 PATCHes (the last one short)

        await Push(client, "chunked/blob", blob, ct);

        Assert.Equal(10, faults.Count("PATCH"));
        Assert.Equal(1, faults.Count("POST"));
        Assert.Equal(1, faults.Count("PUT"));
        Assert.True(await client.BlobExistsAsync("chunked/blob", blob.Digest, ct));
    }

    [RegistryFact]
    public async Task PullBlob_TruncatedPartialFile_ResumesWithRangeAndVerifies()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(700_000, 12);
        await Push(client, "resume/blob", blob, ct);
        string path = scratch.File("blob");
        File.WriteAllBytes(path + ".partial", blob.Bytes[..300_000]);

        await client.PullBlobAsync("resume/blob", blob.Digest, path, null, ct);

        Assert.Equal(["bytes=300000-"], faults.RangeHeaders);
        Assert.Equal(blob.Bytes, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [RegistryFact]
    public async Task PullBlob_CompletePartialFile_RenamesWithoutDownloading()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(10_000, 13);
        string path = scratch.File("blob");
        File.WriteAllBytes(path + ".partial", blob.Bytes);

        await client.PullBlobAsync("never/pushed", blob.Digest, path, null, ct);

        Assert.Empty(faults.Requests);
        Assert.Equal(blob.Bytes, File.ReadAllBytes(path));
    }

    [RegistryFact]
    public async Task PullBlob_ByteFlippedInTransit_ThrowsDigestMismatchAndLeavesNoFile()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(200_000, 14);
        await Push(client, "corrupt/blob", blob, ct);
        faults.Rule = r => r.Method == HttpMethod.Get ? new Fault.FlipByte(12_345) : null;
        string path = scratch.File("blob");

        var e = await Assert.ThrowsAsync<RemoteStorageException>(() => client.PullBlobAsync("corrupt/blob", blob.Digest, path, null, ct));

        Assert.Contains($"not {blob.Digest}", e.Message);
        Assert.Contains("partial file was deleted", e.Message);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal(1, faults.Count("GET")); // a mismatch is reported, not retried silently
    }

    [RegistryFact]
    public async Task PushBlob_ServerErrorsAndDroppedConnection_RetriesWithNewSessionsThenSucceeds()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(600_000, 15);
        int patches = 0, posts = 0;
        faults.Rule = r =>
            r.Method == HttpMethod.Post && ++posts == 1 ? new Fault.Status(503)
            : r.Method == HttpMethod.Patch && ++patches == 3 ? new Fault.DropMidBody()
            : null;

        using var s = new MemoryStream(blob.Bytes);
        bool uploaded = await client.PushBlobAsync("retry/blob", blob.Digest, s, blob.Bytes.Length, null, ct);

        Assert.True(uploaded);
        // Try 1: POST 503. Try 2: POST, 2 PATCHes, the 3rd dropped. Try 3: POST, 6 PATCHes, PUT.
        Assert.Equal(3, faults.Count("POST"));
        Assert.Equal(2 + 1 + 6, faults.Count("PATCH"));
        Assert.True(await client.BlobExistsAsync("retry/blob", blob.Digest, ct));
    }

    [RegistryFact]
    public async Task PullBlob_ConnectionDroppedMidBody_RetryResumesFromPartial()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(500_000, 23);
        await Push(client, "dropped/pull", blob, ct);
        int gets = 0;
        faults.Rule = r => r.Method == HttpMethod.Get && ++gets == 1 ? new Fault.DropResponseAfter(123_456) : null;
        string path = scratch.File("blob");

        await client.PullBlobAsync("dropped/pull", blob.Digest, path, null, ct);

        Assert.Equal(["bytes=123456-"], faults.RangeHeaders);
        Assert.Equal(blob.Bytes, File.ReadAllBytes(path));
    }

    [RegistryFact]
    public async Task PushBlob_AlwaysFailing_ThrowsClearErrorAndNothingIsStoredOrTagged()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector { Rule = r => r.Method == HttpMethod.Put ? new Fault.Status(500) : null };
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(30_000, 16);

        using var s = new MemoryStream(blob.Bytes);
        var e = await Assert.ThrowsAsync<RemoteStorageException>(() => client.PushBlobAsync("fail/blob", blob.Digest, s, blob.Bytes.Length, null, ct));

        Assert.Contains($"OCI registry {server.BaseUri.GetLeftPart(UriPartial.Authority)}", e.Message);
        Assert.Contains($"push blob fail/blob@{blob.Digest}", e.Message);
        Assert.Contains("failed after 4 tries", e.Message);
        Assert.Contains("500", e.Message);
        Assert.Equal(500, e.StatusCode);
        Assert.Equal(4, faults.Count("PUT"));
        faults.Rule = _ => null;
        Assert.False(await client.BlobExistsAsync("fail/blob", blob.Digest, ct));
        Assert.Empty(await client.ListTagsAsync("fail/blob", ct));
    }

    [RegistryFact]
    public async Task GetManifest_UnknownTag_FailsAtOnceWithHint()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);

        var e = await Assert.ThrowsAsync<RemoteStorageException>(() => client.GetManifestAsync("nothing/here", "v9", ct));

        Assert.Equal(404, e.StatusCode);
        Assert.Contains("get manifest nothing/here:v9 was refused: 404", e.Message);
        Assert.Contains("check the repository name, tag or digest", e.Message);
        Assert.Equal(1, faults.Count("GET")); // 4xx: never retried
    }

    [RegistryFact]
    public async Task GetManifest_TooManyRequestsThenOk_Retries()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var config = RemoteTestData.Blob(100, 17);
        await Push(client, "ratelimited/m", config, ct);
        var manifest = RemoteTestData.Manifest(config);
        await client.PutManifestAsync("ratelimited/m", "t", OciMediaTypes.ImageManifest, manifest, ct);
        int gets = 0;
        faults.Rule = r => r.Method == HttpMethod.Get && ++gets <= 2 ? new Fault.Status(429) : null;

        var got = await client.GetManifestAsync("ratelimited/m", "t", ct);

        Assert.Equal(manifest, got.Bytes);
        Assert.Equal(3, gets);
    }

    [RegistryFact]
    public async Task PutManifest_LayerNotPushed_FailsWithHintAndNoTag()
    {
        var ct = RemoteTestData.Timeout();
        using var client = Client();
        var manifest = RemoteTestData.Manifest(RemoteTestData.Blob(10, 18), RemoteTestData.Blob(10, 19));

        var e = await Assert.ThrowsAsync<RemoteStorageException>(() => client.PutManifestAsync("missing/layers", "v1", OciMediaTypes.ImageManifest, manifest, ct));

        Assert.Equal(400, e.StatusCode);
        Assert.Contains("MANIFEST_BLOB_UNKNOWN", e.Message);
        Assert.Contains("are all its layers and config pushed", e.Message);
        Assert.Empty(await client.ListTagsAsync("missing/layers", ct));
    }

    [RegistryFact]
    public async Task PushBlob_WrongDigest_RefusedWithoutRetry()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(1000, 20);
        string wrong = RemoteTestData.Blob(1000, 21).Digest;

        using var s = new MemoryStream(blob.Bytes);
        var e = await Assert.ThrowsAsync<RemoteStorageException>(() => client.PushBlobAsync("wrong/digest", wrong, s, blob.Bytes.Length, null, ct));

        Assert.Equal(400, e.StatusCode);
        Assert.Contains("DIGEST_INVALID", e.Message);
        Assert.Equal(1, faults.Count("PUT"));
    }

    [RegistryFact]
    public async Task ListTags_SeveralTags_ListsAll()
    {
        var ct = RemoteTestData.Timeout();
        using var client = Client();
        var config = RemoteTestData.Blob(100, 22);
        await Push(client, "tags/list", config, ct);
        var manifest = RemoteTestData.Manifest(config);
        foreach (var tag in new[] { "a", "b", "q4_0" })
            await client.PutManifestAsync("tags/list", tag, OciMediaTypes.ImageManifest, manifest, ct);

        var tags = await client.ListTagsAsync("tags/list", ct);

        Assert.Equal(["a", "b", "q4_0"], tags.Order());
    }

    [Fact]
    public void Methods_BadArguments_ThrowBeforeAnyRequest()
    {
        using var client = new OciRegistryClient(new Uri("http://127.0.0.1:9/"));
        Assert.Contains("lowercase", Assert.Throws<ArgumentException>(() => client.BlobExistsAsync("Up/Case", "sha256:" + new string('a', 64)).GetAwaiter().GetResult()).Message);
        Assert.Contains("sha256:<64 lowercase hex digits>", Assert.Throws<ArgumentException>(() => client.BlobExistsAsync("ok", "sha256:abc").GetAwaiter().GetResult()).Message);
        Assert.Contains("neither a tag", Assert.Throws<ArgumentException>(() => client.GetManifestAsync("ok", "").GetAwaiter().GetResult()).Message);
        Assert.Contains("http:// or https://", Assert.Throws<ArgumentException>(() => new OciRegistryClient(new Uri("ftp://x/"))).Message);
    }
}

/// <summary>IProgress that reports on the caller's thread (Progress&lt;T&gt; posts to the pool, racing the assertion).</summary>
internal sealed class SyncProgress(Action<long> report) : IProgress<long>
{
    public void Report(long value) => report(value);
}
