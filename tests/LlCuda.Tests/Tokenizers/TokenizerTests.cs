using LlCuda.Gguf;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>The tokenizer facade: BOS/EOS, special tokens, errors.</summary>
public class TokenizerTests
{
    static Tokenizer Load(string vocab)
    {
        using var file = GgufFile.Open(TestPaths.Vocab(vocab));
        return Tokenizer.FromGguf(file);
    }

    [Fact]
    public void Encode_LlamaSpmHelloWorld_GivesBosThenLlamaIds()
    {
        var t = Load("llama-spm");
        Assert.Equal([1, 15043, 3186], t.Encode("Hello world"));
        Assert.Equal([15043, 3186], t.Encode("Hello world", addSpecial: false));
    }

    [Fact]
    public void Encode_EmptyText_GivesOnlyBos()
    {
        var t = Load("llama-spm");
        Assert.Equal([1], t.Encode(""));
        Assert.Empty(t.Encode("", addSpecial: false));
    }

    [Fact]
    public void Encode_Phi3ChatMarkup_SplitsSpecialTokensAndDropsTheNewlineAfterThem()
    {
        var t = Load("phi-3");
        int user = Id(t, "<|user|>"), end = Id(t, "<|end|>");
        int[] ids = t.Encode("<|user|>\nHi<|end|>\n", addSpecial: false, parseSpecial: true);
        // RStrip on Phi-3's special tokens eats the "\n"; "Hi" gets the space prefix after a special token.
        Assert.Equal([user, Id(t, "\u2581Hi"), end], ids);
    }

    [Fact]
    public void Encode_LoneSurrogate_EncodesAsReplacementCharacter()
    {
        var t = Load("llama-spm");
        Assert.Equal(t.Encode("a\uFFFDb"), t.Encode("a\uD800b"));
    }

    [Fact]
    public void TokenToPiece_IdOutOfRange_ThrowsNamingIdAndVocabularySize()
    {
        var t = Load("llama-spm");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => t.TokenToPiece(32000));
        Assert.Contains("32000", e.Message, StringComparison.Ordinal);
        Assert.Contains("32000 tokens", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.TokenToPiece(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([1, 15043, -5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.GetAttributes(int.MaxValue));
    }

    [Fact]
    public void TokenToPiece_ControlToken_IsEmptyUnlessSpecial()
    {
        var t = Load("llama-spm");
        Assert.Empty(t.TokenToPiece(t.Vocabulary.Bos));
        Assert.Equal("<s>"u8.ToArray(), t.TokenToPiece(t.Vocabulary.Bos, special: true));
        Assert.Equal(" Hello"u8.ToArray(), t.TokenToPiece(15043));
        Assert.Equal([(byte)'\n'], t.TokenToPiece(Id(t, "<0x0A>")));
    }

    [Fact]
    public void IsEndOfGeneration_LlamaSpm_OnlyEos()
    {
        var t = Load("llama-spm");
        Assert.True(t.IsEndOfGeneration(2));
        Assert.False(t.IsEndOfGeneration(1));
        Assert.False(t.IsEndOfGeneration(15043));
    }

    static int Id(Tokenizer t, string text) =>
        t.Vocabulary.TryGetId(text, out int id) ? id : throw new InvalidOperationException($"no token '{text}'");
}
