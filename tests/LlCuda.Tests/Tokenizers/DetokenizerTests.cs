using System.Text;
using LlCuda.Gguf;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>Decoding: round trips, llama.cpp's leading-space rule, and its space clean-up for BPE vocabularies.</summary>
[Collection(LlamaCppCollection.Name)]
public class DetokenizerTests
{
    static readonly string[] OrdinaryTexts =
    [
        "Hello world",
        "Once upon a time, there was a little girl named Lily.",
        "  two leading spaces, trailing one ",
        "Tabs\tand\nnewlines\n\nand 3.14159 numbers (1,000,000).",
        "Ünïcödé: café, naïve, Straße — «quotes» and ‘single’ ones.",
        "中文，日本語、한국어 and emoji 🦙👍🏽 mixed in.",
        "Code: for (int i = 0; i < n; i++) { sum += a[i]; }",
    ];

    public static TheoryData<string> SpmVocabs => TokenizerVectorFiles.TheoryDataWithModel("llama");

    static Tokenizer Load(string vocab)
    {
        using var file = GgufFile.Open(TestPaths.Vocab(vocab));
        return Tokenizer.FromGguf(file);
    }

    [Theory]
    [MemberData(nameof(SpmVocabs))]
    public void Decode_EncodedOrdinaryTextWithoutBos_RoundTrips(string vocab)
    {
        var t = Load(vocab);
        foreach (string text in OrdinaryTexts)
            Assert.Equal(text, t.Decode(t.Encode(text, addSpecial: false)));
    }

    [Theory]
    [MemberData(nameof(SpmVocabs))]
    public void Decode_EncodedTextWithBos_KeepsTheSpacePrefixAsLlamaCppDoes(string vocab)
    {
        // llama.cpp removes the SPM space prefix only from the first piece: a leading BOS takes that
        // turn (printing nothing), and remove_special drops the BOS but also turns the removal off.
        var t = Load(vocab);
        foreach (string text in OrdinaryTexts)
        {
            int[] ids = t.Encode(text);
            Assert.Equal(" " + text, t.Decode(ids));
            Assert.Equal(" " + text, t.Decode(ids, removeSpecial: true));
        }
    }

    [Fact]
    public void Decode_UnparseSpecial_PrintsControlTokens()
    {
        var t = Load("llama-spm");
        Assert.Equal("<s> Hello</s>", t.Decode([1, 15043, 2], unparseSpecial: true));
        Assert.Equal(" Hello", t.Decode([1, 15043, 2]));
        Assert.Equal(" Hello", t.Decode([1, 15043, 2], removeSpecial: true));
    }

    [Fact]
    public void Decode_TruncatedUtf8_GivesReplacementCharacter()
    {
        var t = Load("llama-spm");
        int[] ids = t.Encode("🦙", addSpecial: false);
        Assert.True(ids.Length > 1, "expected the llama emoji to be spelled in byte tokens");
        Assert.Equal("\uFFFD", t.Decode(ids[..^1]));
    }

    [Fact]
    public void CleanUpSpaces_RandomPunctuationRuns_MatchLlamaCppGpt2Detokenize()
    {
        // gpt-2 tokenizes any bytes losslessly and llama.cpp cleans spaces on its decode, so
        // detokenize(tokenize(s)) is llama.cpp's clean-up applied to s.
        string[] pieces = [" ", "  ", "'", "s", "m", "re", "ve", "t", "d", "ll", "?", "!", ".", ",", "a", "x", "é", "\n"];
        var random = new Random(3);
        using var llama = new TokenizerLlamaCppReference(TestPaths.Vocab("gpt-2"));
        for (int i = 0; i < 500; i++)
        {
            string text = string.Concat(Enumerable.Range(0, random.Next(0, 16)).Select(_ => pieces[random.Next(pieces.Length)]));
            byte[] expected = llama.Detokenize(llama.Tokenize(text, addSpecial: false, parseSpecial: false), removeSpecial: false, unparseSpecial: false);
            byte[] actual = Tokenizer.CleanUpSpaces([.. Encoding.UTF8.GetBytes(text)]);
            Assert.True(actual.AsSpan().SequenceEqual(expected),
                $"text {TokenizerVectorsTests.Escape(text)}: llama.cpp \"{Encoding.UTF8.GetString(expected)}\", ours \"{Encoding.UTF8.GetString(actual)}\"");
        }
    }

    [Fact]
    public void CleanUpSpaces_Example_FollowsLlamaCppPasses()
    {
        byte[] actual = Tokenizer.CleanUpSpaces([.. "Hello , world ! It 's a ' quote ' here , isn 't it ?"u8.ToArray()]);
        Assert.Equal("Hello, world! It's a'quote'here, isn 't it?", Encoding.UTF8.GetString(actual));
    }
}
