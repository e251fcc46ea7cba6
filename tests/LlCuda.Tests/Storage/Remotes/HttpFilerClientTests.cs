using LlCuda.Storage.Remotes;
using LlCuda.Tests.Models;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>The filer client against a real nginx with WebDAV PUT/DELETE on 127.0.0.1.</summary>
public class HttpFilerClientTests(NginxDavServer server) : IClassFixture<NginxDavServer>
{
    HttpFilerClient Client(FaultInjector? faults = null) => new(server.BaseUri, options: RemoteTestData.FastOptions, handler: faults);

    [Fact]
    public void Layout_BlobAndManifest_AreUnderLlcudaRoot()
    {
        var d = "sha256:" + new string('c', 64);
        Assert.Equal("llcuda/blobs/sha256/" + new string('c', 64), HttpFilerClient.BlobPath(d));
        Assert.Equal("llcuda/manifests/models/tiny/q4_0", HttpFilerClient.ManifestPath("models/tiny", "q4_0"));
        Assert.Throws<FormatException>(() => HttpFilerClient.ManifestPath("Models/Tiny", "q4_0"));
    }

    [NginxFact]
    public async Task PushBlob_ThenPull_RoundTripsAndSecondPushOnlyHeads()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(300_000, 40);

        using var s = new MemoryStream(blob.Bytes);
        Assert.True(await client.PushBlobAsync(blob.Digest, s, blob.Bytes.Length, null, ct));
        int before = faults.Requests.Count;
        s.Position = 0;
        Assert.False(await client.PushBlobAsync(blob.Digest, s, blob.Bytes.Length, null, ct));
        Assert.Equal(["HEAD /" + HttpFilerClient.BlobPath(blob.Digest)], faults.Requests.Skip(before));

        string path = scratch.File("blob");
        Assert.Equal(blob.Bytes.Length, await client.PullBlobAsync(blob.Digest, path, null, ct));
        Assert.Equal(blob.Bytes, File.ReadAllBytes(path));
        Assert.Equal(blob.Bytes, File.ReadAllBytes(Path.Combine(server.DataDirectory, HttpFilerClient.BlobPath(blob.Digest))));
    }

    [NginxFact]
    public async Task PullBlob_TruncatedPartialFile_ResumesWithRange()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var blob = RemoteTestData.Blob(400_000, 41);
        using (var s = new MemoryStream(blob.Bytes)) await client.PushBlobAsync(blob.Digest, s, blob.Bytes.Length, null, ct);
        string path = scratch.File("blob");
        File.WriteAllBytes(path + ".partial", blob.Bytes[..99_999]);

        await client.PullBlobAsync(blob.Digest, path, null, ct);

        Assert.Equal(["bytes=99999-"], faults.RangeHeaders);
        Assert.Equal(blob.Bytes, File.ReadAllBytes(path));
    }

    [NginxFact]
    public async Task PullBlob_FileCorruptedOnServer_ThrowsAndLeavesNoFile()
    {
        var ct = RemoteTestData.Timeout();
        using var scratch = new ScratchDirectory();
        using var client = Client();
        var blob = RemoteTestData.Blob(50_000, 42);
        using (var s = new MemoryStream(blob.Bytes)) await client.PushBlobAsync(blob.Digest, s, blob.Bytes.Length, null, ct);
        string stored = Path.Combine(server.DataDirectory, HttpFilerClient.BlobPath(blob.Digest));
        var bad = (byte[])blob.Bytes.Clone();
        bad[777] ^= 1;
        File.WriteAllBytes(stored, bad);
        string path = scratch.File("blob");

        var e = await Assert.ThrowsAsync<RemoteStorageException>(() => client.PullBlobAsync(blob.Digest, path, null, ct));

        Assert.Contains($"not {blob.Digest}", e.Message);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [NginxFact]
    public async Task Manifest_PutGetDelete_RoundTrips()
    {
        var ct = RemoteTestData.Timeout();
        using var client = Client();
        var manifest = RemoteTestData.Manifest(RemoteTestData.Blob(10, 43));

        string digest = await client.PutManifestAsync("models/tiny", "q4_0", manifest, ct);
        var got = await client.GetManifestAsync("models/tiny", "q4_0", ct);
        bool deleted = await client.DeleteManifestAsync("models/tiny", "q4_0", ct);

        Assert.Equal(Sha256Digest.Of(manifest), digest);
        Assert.Equal(manifest, got!.Value.Bytes);
        Assert.Equal(digest, got.Value.Digest);
        Assert.True(deleted);
        Assert.Null(await client.GetManifestAsync("models/tiny", "q4_0", ct));
        Assert.False(await client.DeleteManifestAsync("models/tiny", "q4_0", ct));
    }

    [NginxFact]
    public async Task PutFile_ServerErrorsThenOk_RetriesAndStoresWholeFile()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);
        var data = RemoteTestData.Bytes(200_000, 44);
        int puts = 0;
        faults.Rule = r => r.Method == HttpMethod.Put && ++puts switch { 1 => true, 2 => true, _ => false }
            ? (puts == 1 ? new Fault.Status(502) : new Fault.DropMidBody()) : null;

        using var s = new MemoryStream(data);
        await client.PutFileAsync("some/dir/file.bin", s, data.Length, null, ct);

        Assert.Equal(3, puts);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(server.DataDirectory, "some/dir/file.bin")));
        Assert.Equal(data.Length, await client.GetLengthAsync("some/dir/file.bin", ct));
    }

    [NginxFact]
    public async Task GetLength_MissingFile_ReturnsNullWithoutRetry()
    {
        var ct = RemoteTestData.Timeout();
        var faults = new FaultInjector();
        using var client = Client(faults);

        Assert.Null(await client.GetLengthAsync("no/such/file", ct));
        Assert.Equal(1, faults.Count("HEAD"));
    }

    [Fact]
    public void PutFile_PathWithDotDot_Refused()
    {
        using var client = new HttpFilerClient(new Uri("http://127.0.0.1:9/"));
        var e = Assert.Throws<ArgumentException>(() => client.PutFileAsync("llcuda/../etc/x", Stream.Null, 0).GetAwaiter().GetResult());
        Assert.Contains("'..'", e.Message);
    }
}
