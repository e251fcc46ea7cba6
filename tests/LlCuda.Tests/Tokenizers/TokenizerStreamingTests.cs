using System.Text;
using LlCuda.Gguf;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>StreamingDecoder: whole characters only, in order, nothing lost.</summary>
public class TokenizerStreamingTests
{
    static Tokenizer Load(string vocab)
    {
        using var file = GgufFile.Open(TestPaths.Vocab(vocab));
        return Tokenizer.FromGguf(file);
    }

    [Fact]
    public void StreamingDecoder_EmojiSpelledInByteTokens_EmitsItWholeOnTheLastByte()
    {
        var t = Load("llama-spm");
        int[] ids = t.Encode("🦙", addSpecial: false);
        var bytes = ids.Where(id => t.GetAttributes(id).HasFlag(TokenAttributes.Byte)).ToArray();
        Assert.Equal(4, bytes.Length);

        var decoder = new StreamingDecoder(t);
        var outputs = bytes.Select(decoder.Add).ToArray();
        Assert.Equal(["", "", "", "🦙"], outputs);
        Assert.Equal("", decoder.Flush());
    }

    [Fact]
    public void StreamingDecoder_RandomText_ConcatenationEqualsPiecesAndNoHalfCharacters()
    {
        var t = Load("llama-spm");
        foreach (string text in TokenizerRandomText.Strings(seed: 5, count: 200))
        {
            string valid = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)); // lone surrogates as U+FFFD
            int[] ids = t.Encode(valid, addSpecial: true);
            var decoder = new StreamingDecoder(t);
            var sb = new StringBuilder();
            foreach (int id in ids)
            {
                string chunk = decoder.Add(id);
                Assert.False(chunk.Length > 0 && char.IsHighSurrogate(chunk[^1]), $"chunk ends inside a surrogate pair: {TokenizerVectorsTests.Escape(chunk)}");
                sb.Append(chunk);
            }
            sb.Append(decoder.Flush());
            string expected = Encoding.UTF8.GetString([.. ids.SelectMany(id => t.TokenToPiece(id))]);
            Assert.Equal(expected, sb.ToString());
            // BOS prints nothing; the SPM space prefix stays (an empty text gets none: it has no
            // fragment); a literal ▁ in the text comes back as a space, as in llama.cpp.
            Assert.Equal(valid.Length == 0 ? "" : " " + valid.Replace('\u2581', ' '), sb.ToString());
        }
    }

    [Fact]
    public void StreamingDecoder_StreamEndsInsideCharacter_FlushGivesReplacementCharacter()
    {
        var t = Load("llama-spm");
        int[] ids = t.Encode("a🦙", addSpecial: false);
        var decoder = new StreamingDecoder(t);
        string text = string.Concat(ids[..^2].Select(decoder.Add));
        Assert.Equal(" a", text);
        Assert.Equal("\uFFFD", decoder.Flush());
        Assert.Equal(" a", decoder.Add(ids[0])); // usable again after Flush
    }

    [Fact]
    public void StreamingDecoder_SpecialTrue_PrintsControlTokens()
    {
        var t = Load("llama-spm");
        var plain = new StreamingDecoder(t);
        var special = new StreamingDecoder(t, special: true);
        Assert.Equal("", plain.Add(t.Vocabulary.Bos));
        Assert.Equal("<s>", special.Add(t.Vocabulary.Bos));
    }
}
