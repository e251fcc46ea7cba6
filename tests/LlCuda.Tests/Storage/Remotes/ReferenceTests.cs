using LlCuda.Storage.Remotes;

namespace LlCuda.Tests.Storage.Remotes;

public class ReferenceTests
{
    const string D = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("localhost:5000/models/tinyllama:q4_0", "localhost:5000", "models/tinyllama", "q4_0", null)]
    [InlineData("ghcr.io/org/llama", "ghcr.io", "org/llama", "latest", null)]
    [InlineData("127.0.0.1:5000/a/b/c@" + D, "127.0.0.1:5000", "a/b/c", null, D)]
    [InlineData("registry.example.com/x_y.z-w:v1.2-rc@" + D, "registry.example.com", "x_y.z-w", "v1.2-rc", D)]
    [InlineData("[::1]:5000/m:t", "[::1]:5000", "m", "t", null)]
    public void Parse_ValidReference_SplitsIntoParts(string text, string registry, string repository, string? tag, string? digest)
    {
        var r = Reference.Parse(text);
        Assert.Equal(new Reference(registry, repository, tag, digest), r);
        // Round trip, with the implied :latest written out.
        Assert.Equal(tag == "latest" && !text.Contains(":latest") ? text + ":latest" : text, r.ToString());
    }

    [Theory]
    [InlineData("localhost:5000/Models/tiny:q4", "must be lowercase ('Models' -> 'models')")]
    [InlineData("localhost:5000/models/tiny:", "empty tag")]
    [InlineData("localhost:5000/models/tiny@sha256:abc", "not sha256: followed by 64 lowercase hex")]
    [InlineData("localhost:5000/models/tiny@sha256:" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "not sha256: followed by 64 lowercase hex")]
    [InlineData("localhost:5000/models/tiny@md5:0123", "not sha256:")]
    [InlineData("tinyllama:q4", "no registry host")]
    [InlineData("localhost:5000/", "no repository name")]
    [InlineData("localhost:5000/a//b", "empty path component")]
    [InlineData("localhost:5000/a/b:-bad", "tag '-bad'")]
    [InlineData("local_host:5000/a", "is not a host[:port]")]
    [InlineData("", "empty model reference")]
    [InlineData("localhost/a b", "whitespace")]
    public void Parse_BadReference_ThrowsOneLineReason(string text, string expected)
    {
        var e = Assert.Throws<FormatException>(() => Reference.Parse(text));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("localhost:5000/m:t", "http://localhost:5000/")]
    [InlineData("127.0.0.1:5000/m:t", "http://127.0.0.1:5000/")]
    [InlineData("ghcr.io/m:t", "https://ghcr.io/")]
    public void DefaultBaseUri_LoopbackOrNot_PicksHttpOrHttps(string text, string expected) =>
        Assert.Equal(expected, Reference.Parse(text).DefaultBaseUri.ToString());

    [Fact]
    public void ManifestReference_DigestAndTag_PrefersDigest()
    {
        Assert.Equal(D, Reference.Parse("h.io/m:t@" + D).ManifestReference);
        Assert.Equal("t", Reference.Parse("h.io/m:t").ManifestReference);
    }
}
