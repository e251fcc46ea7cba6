using LlCuda.Storage.Remotes;

namespace LlCuda.Tests.Storage.Remotes;

public class BearerChallengeTests
{
    [Fact]
    public void Parse_DockerHubChallenge_ReadsRealmServiceAndCommaScope()
    {
        var c = BearerChallenge.Parse("realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/llama:pull,push\"");
        Assert.Equal(new BearerChallenge("https://auth.docker.io/token", "registry.docker.io", "repository:library/llama:pull,push"), c);
        Assert.Equal("https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fllama%3Apull%2Cpush", c!.TokenUri().AbsoluteUri);
    }

    [Fact]
    public void Parse_NoRealm_ReturnsNull() => Assert.Null(BearerChallenge.Parse("service=\"x\""));

    [Fact]
    public void TokenUri_SpaceSeparatedScopes_OneParameterEach() =>
        Assert.Equal("http://a/t?x=1&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull",
            new BearerChallenge("http://a/t?x=1", null, "repository:a:pull repository:b:pull").TokenUri().AbsoluteUri);
}
