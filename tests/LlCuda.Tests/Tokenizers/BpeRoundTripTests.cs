using System.Text;
using LlCuda.Tokenizers;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>Decoding the ids of a text gives back the text's UTF-8 bytes.</summary>
public class BpeRoundTripTests
{
    public static TheoryData<string> SharedVocabs() => new(BpeTestSupport.SharedBpeVocabNames());

    [Theory]
    [MemberData(nameof(SharedVocabs))]
    public void AppendTokenBytes_OfEncodedText_GivesTheTextBack(string name) =>
        AssertRoundTrips(BpeTestSupport.LoadVocabulary(TestPaths.Vocab(name)), name, seed: 77 + name.Length);

    [CachedTokenizerFact("llama3")]
    public void AppendTokenBytes_OfEncodedText_Llama3TokenizerJson_GivesTheTextBack() =>
        AssertRoundTrips(HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf("llama3")).ToVocabulary("llama-bpe"), "llama-bpe", seed: 78);

    [CachedTokenizerFact("qwen3")]
    public void AppendTokenBytes_OfEncodedText_Qwen3TokenizerJson_GivesTheTextBack() =>
        AssertRoundTrips(HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf("qwen3")).ToVocabulary("qwen2"), "qwen2", seed: 79);

    static void AssertRoundTrips(Vocabulary vocab, string vectorsName, int seed)
    {
        var model = new BpeModel(vocab);
        var tokenizer = new Tokenizer(vocab);
        // A byte without a token of its own is dropped by BPE (as llama.cpp drops it): Falcon's
        // vocabulary has none for some control bytes. Texts with such bytes cannot round-trip.
        var unencodable = Enumerable.Range(0, 256)
            .Where(b => !vocab.TryGetId(ByteLevelChar((byte)b), out _)).Select(b => (byte)b).ToHashSet();
        var rng = new Random(seed);
        var texts = TokenizerVectorFiles.ReadCases(vectorsName).Select(v => v.Text)
            .Concat(Enumerable.Range(0, 300).Select(_ => BpeRandomText.Next(rng)))
            .Where(t => !Encoding.UTF8.GetBytes(t).Any(unencodable.Contains))
            .ToList();
        Assert.True(texts.Count >= 150, $"{vectorsName}: only {texts.Count} texts avoid the bytes without a token ({string.Join(", ", unencodable)})");
        var failures = new List<string>();
        var bytes = new List<byte>();
        foreach (var text in texts)
        {
            bytes.Clear();
            foreach (int id in BpeTestSupport.Encode(tokenizer, text)) model.AppendTokenBytes(id, bytes);
            // A lone surrogate has no UTF-8 form: it is encoded, and so decoded, as U+FFFD.
            var expected = Encoding.UTF8.GetBytes(text);
            if (!bytes.SequenceEqual(expected))
                failures.Add($"{BpeVectorTests.Escape(text)} decoded as {BpeVectorTests.Escape(Encoding.UTF8.GetString(bytes.ToArray()))}");
        }
        Assert.True(failures.Count == 0, $"{vectorsName}: {failures.Count} texts do not round-trip:\n" + string.Join("\n", failures.Take(10)));
    }

    // GPT-2's bytes_to_unicode, written out independently of ByteLevel.
    static string ByteLevelChar(byte b)
    {
        bool self = b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE;
        if (self) return ((char)b).ToString();
        int n = Enumerable.Range(0, b).Count(x => !(x is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE));
        return ((char)(256 + n)).ToString();
    }

    [Fact]
    public void AppendTokenBytes_IdOutsideVocabulary_ThrowsNamingTheRange()
    {
        var model = new BpeModel(BpeTestSupport.LoadVocabulary(TestPaths.Vocab("gpt-2")));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.AppendTokenBytes(50257, []));
        Assert.Contains("0..50256", e.Message, StringComparison.Ordinal);
    }
}
