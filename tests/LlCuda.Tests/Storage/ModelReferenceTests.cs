using LlCuda.Storage;

namespace LlCuda.Tests.Storage;

public class ModelReferenceTests
{
    [Theory]
    [InlineData("stories", "stories", "latest")]
    [InlineData("stories:v1", "stories", "v1")]
    [InlineData("tinyllama/q4_0:2024-01.Final", "tinyllama/q4_0", "2024-01.Final")]
    [InlineData("a.b__c--d/e:_x", "a.b__c--d/e", "_x")]
    public void Parse_ValidReference_SplitsNameAndTag(string text, string name, string tag)
    {
        var r = ModelReference.Parse(text);
        Assert.Equal(name, r.Name);
        Assert.Equal(tag, r.Tag);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Stories:v1")]
    [InlineData("../etc:passwd")]
    [InlineData("a//b:v1")]
    [InlineData("-a:v1")]
    [InlineData("a:")]
    [InlineData("a:.hidden")]
    [InlineData("a:-x")]
    [InlineData("a b:v1")]
    public void Parse_BadReference_ThrowsOneLineBadReference(string text)
    {
        var e = Assert.Throws<StoreException>(() => ModelReference.Parse(text));
        Assert.Equal(StoreFailure.BadReference, e.Failure);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Parse_TagOf129Characters_IsRejected()
    {
        Assert.Equal(128, ModelReference.Parse("m:" + new string('t', 128)).Tag.Length);
        Assert.Throws<StoreException>(() => ModelReference.Parse("m:" + new string('t', 129)));
    }

    [Fact]
    public void FromFileName_MixedCaseGguf_LowercasesAndDefaultsToLatest()
    {
        Assert.Equal(new ModelReference("stories260k", "latest"), ModelReference.FromFileName("/x/Stories260K.gguf"));
        Assert.Equal(new ModelReference("my-model", "latest"), ModelReference.FromFileName("My Model.gguf"));
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("sha256:270CBA1BD5109F42D03350F60406024560464DB173C0E387D91F0426D3BD256D")]
    [InlineData("sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256dz")]
    public void DigestParse_BadHex_ThrowsBadReference(string text)
    {
        var e = Assert.Throws<StoreException>(() => Digest.Parse(text));
        Assert.Equal(StoreFailure.BadReference, e.Failure);
        Assert.Contains("64 lowercase hex digits", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DigestParse_ValidDigest_RoundTrips()
    {
        const string text = "sha256:270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d";
        Assert.Equal(text, Digest.Parse(text).ToString());
    }
}
