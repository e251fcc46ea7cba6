using LlCuda.Storage.Remotes;
using LlCuda.Tests.Models;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>Basic auth against a real registry with an htpasswd (bcrypt) file.</summary>
public class OciRegistryAuthTests
{
    [HtpasswdFact]
    public async Task BasicAuth_RightAndWrongPassword_PushesOrFailsAtOnce()
    {
        var ct = RemoteTestData.Timeout();
        using var server = RegistryServer.WithBasicAuth("llcuda", "s3cret-pw");
        using var scratch = new ScratchDirectory();
        var blob = RemoteTestData.Blob(5000, 30);

        var faults = new FaultInjector();
        using (var client = new OciRegistryClient(server.BaseUri, new RemoteCredentials("llcuda", "s3cret-pw"), RemoteTestData.FastOptions, faults))
        {
            using var s = new MemoryStream(blob.Bytes);
            Assert.True(await client.PushBlobAsync("auth/blob", blob.Digest, s, blob.Bytes.Length, null, ct));
            await client.PullBlobAsync("auth/blob", blob.Digest, scratch.File("b"), null, ct);
            Assert.Equal(blob.Bytes, File.ReadAllBytes(scratch.File("b")));
            // One 401 round trip for the first request; the Basic header is then sent up front.
            Assert.Equal(2, faults.Count("HEAD"));
        }

        using (var wrong = new OciRegistryClient(server.BaseUri, new RemoteCredentials("llcuda", "nope"), RemoteTestData.FastOptions))
        {
            var e = await Assert.ThrowsAsync<RemoteStorageException>(() => wrong.BlobExistsAsync("auth/blob", blob.Digest, ct));
            Assert.Equal(401, e.StatusCode);
            Assert.Contains("refused user 'llcuda'", e.Message);
        }

        using (var anonymous = new OciRegistryClient(server.BaseUri, null, RemoteTestData.FastOptions))
        {
            var e = await Assert.ThrowsAsync<RemoteStorageException>(() => anonymous.ListTagsAsync("auth/blob", ct));
            Assert.Contains("needs credentials", e.Message);
        }
    }
}
