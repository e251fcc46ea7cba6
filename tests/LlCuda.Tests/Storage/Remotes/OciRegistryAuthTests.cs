using LlCuda.Storage.Remotes;
using LlCuda.Tests.Models;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>
/// Basic auth against a real registry with an htpasswd (bcrypt) file; the bearer token flow
/// against the same registry with the token check done in front of it (distribution's own
/// token mode needs a PKI we would have to fake anyway).
/// </summary>
public class OciRegistryAuthTests(RegistryServer openServer) : IClassFixture<RegistryServer>
{
    [RegistryFact]
    public async Task BearerChallenge_TokenFromRealm_CachedAndSentOnRetry()
    {
        var ct = RemoteTestData.Timeout();
        const string realm = "http://127.0.0.1:9/token"; // answered by the injector, never dialled
        var tokenRequests = new List<string>();
        var faults = new FaultInjector();
        faults.Rule = r =>
        {
            if (r.RequestUri!.AbsoluteUri.StartsWith(realm, StringComparison.Ordinal))
            {
                tokenRequests.Add($"{r.RequestUri.Query} auth={r.Headers.Authorization}");
                return new Fault.Respond(_ => new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("{\"token\":\"tok-1\"}") });
            }
            if (r.Headers.Authorization?.ToString() == "Bearer tok-1") return null;
            return new Fault.Respond(_ =>
            {
                var denied = new HttpResponseMessage(System.Net.HttpStatusCode.Unauthorized) { Content = new StringContent("") };
                denied.Headers.WwwAuthenticate.ParseAdd($"Bearer realm=\"{realm}\",service=\"test-registry\",scope=\"repository:bearer/blob:pull,push\"");
                return denied;
            });
        };
        using var client = new OciRegistryClient(openServer.BaseUri, new RemoteCredentials("u", "p"), RemoteTestData.FastOptions, faults);
        var blob = RemoteTestData.Blob(3000, 31);

        using var s = new MemoryStream(blob.Bytes);
        Assert.True(await client.PushBlobAsync("bearer/blob", blob.Digest, s, blob.Bytes.Length, null, ct));
        Assert.True(await client.BlobExistsAsync("bearer/blob", blob.Digest, ct));

        // One token fetch (with the credentials as Basic), then the cached token on every request.
        Assert.Equal(["?service=test-registry&scope=repository%3Abearer%2Fblob%3Apull%2Cpush auth=Basic dTpw"], tokenRequests);
        Assert.Equal(2, faults.Count("HEAD") - 1); // the first HEAD was refused, then 2 HEADs with the token
    }

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
