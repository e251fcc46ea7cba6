using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>llama.cpp's SPM merge rules on tiny hand-made vocabularies, where each rule decides the result.</summary>
public class SpmModelTests
{
    // A vocabulary of <unk> <s> </s>, the 256 byte tokens and the given (text, score) pieces.
    static Tokenizer Build(bool addSpacePrefix, bool byteTokens, params (string Text, float Score, TokenType Type)[] pieces)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var scores = new List<float> { 0, 0, 0 };
        var types = new List<TokenType> { TokenType.Unknown, TokenType.Control, TokenType.Control };
        if (byteTokens)
        {
            for (int b = 0; b < 256; b++)
            {
                tokens.Add($"<0x{b:X2}>");
                scores.Add(0);
                types.Add(TokenType.Byte);
            }
        }
        foreach (var (text, score, type) in pieces)
        {
            tokens.Add(text);
            scores.Add(score);
            types.Add(type);
        }
        var vocabulary = new Vocabulary("llama", "default", [.. tokens], [.. scores], [.. types], null,
            new VocabularyOptions { AddSpacePrefix = addSpacePrefix });
        return new Tokenizer(vocabulary);
    }

    static string[] Pieces(Tokenizer t, int[] ids) => [.. ids.Select(id => t.Vocabulary.Tokens[id])];

    [Fact]
    public void Encode_EqualScores_MergesLeftmostPairFirst()
    {
        var t = Build(addSpacePrefix: false, byteTokens: true, ("a", 0, TokenType.Normal), ("aa", -1, TokenType.Normal));
        Assert.Equal(["aa", "a"], Pieces(t, t.Encode("aaa", addSpecial: false)));
    }

    [Theory]
    [InlineData(9)]  // short run: merged by scanning pairs
    [InlineData(41)] // long run: merged with llama.cpp's priority queue
    public void Encode_RunOfEqualPairs_MergesLeftToRightInBothMergeStrategies(int count)
    {
        var t = Build(addSpacePrefix: false, byteTokens: true,
            ("a", 0, TokenType.Normal), ("aa", -1, TokenType.Normal), ("aaaa", -2, TokenType.Normal));
        string[] expected = [.. Enumerable.Repeat("aaaa", count / 4), "a"];
        Assert.Equal(expected, Pieces(t, t.Encode(new string('a', count), addSpecial: false)));
    }

    [Fact]
    public void Encode_HigherScorePair_MergesFirstEvenWhenFurtherRight()
    {
        var t = Build(addSpacePrefix: false, byteTokens: true,
            ("a", 0, TokenType.Normal), ("b", 0, TokenType.Normal), ("c", 0, TokenType.Normal),
            ("ab", -2, TokenType.Normal), ("bc", -1, TokenType.Normal));
        Assert.Equal(["a", "bc"], Pieces(t, t.Encode("abc", addSpecial: false)));
    }

    [Fact]
    public void Encode_MergeThroughIntermediateToken_ReachesLongestChain()
    {
        // "abcd": ab (-1) first, then cd (-2), then abcd (-3): three merges, one token.
        var t = Build(addSpacePrefix: false, byteTokens: true,
            ("a", 0, TokenType.Normal), ("b", 0, TokenType.Normal), ("c", 0, TokenType.Normal), ("d", 0, TokenType.Normal),
            ("ab", -1, TokenType.Normal), ("cd", -2, TokenType.Normal), ("abcd", -3, TokenType.Normal));
        Assert.Equal(["abcd"], Pieces(t, t.Encode("abcd", addSpecial: false)));
    }

    [Fact]
    public void Encode_TokenSpanningAWordStart_StillMerges()
    {
        // A token with ▁ after another character turns off the word-by-word shortcut.
        var t = Build(addSpacePrefix: false, byteTokens: true,
            ("x", 0, TokenType.Normal), ("y", 0, TokenType.Normal), ("\u2581", 0, TokenType.Normal),
            ("x\u2581", -1, TokenType.Normal), ("x\u2581y", -2, TokenType.Normal));
        Assert.Equal(["x\u2581y", "\u2581", "x"], Pieces(t, t.Encode("x y x", addSpecial: false)));
    }

    [Fact]
    public void Encode_CharacterNotInVocabulary_FallsBackToItsUtf8ByteTokens()
    {
        var t = Build(addSpacePrefix: false, byteTokens: true, ("a", 0, TokenType.Normal));
        Assert.Equal(["a", "<0xC3>", "<0xA9>", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"], Pieces(t, t.Encode("aé🦙", addSpecial: false)));
    }

    [Fact]
    public void Encode_NoByteTokens_FallsBackToUnknownPerByte()
    {
        var t = Build(addSpacePrefix: false, byteTokens: false, ("a", 0, TokenType.Normal));
        Assert.Equal(["a", "<unk>", "<unk>"], Pieces(t, t.Encode("aé", addSpecial: false)));
    }

    [Fact]
    public void Encode_SpacePrefixVocabulary_PrefixesFirstTextAndTextAfterSpecialTokens()
    {
        var t = Build(addSpacePrefix: true, byteTokens: true,
            ("\u2581", 0, TokenType.Normal), ("a", 0, TokenType.Normal), ("\u2581a", 1, TokenType.Normal),
            ("<tag>", 0, TokenType.UserDefined));
        // User-defined text is always split out, and the text after it gets its own space prefix.
        Assert.Equal(["<s>", "\u2581a", "<tag>", "\u2581a", "\u2581", "\u2581a"], Pieces(t, t.Encode("a<tag>a  a")));
    }

    [Fact]
    public void Encode_ControlTokenText_IsSplitOutOnlyWhenParsingSpecial()
    {
        var t = Build(addSpacePrefix: false, byteTokens: true, ("a", 0, TokenType.Normal), ("s", 0, TokenType.Normal));
        Assert.Equal(["a", "<s>", "a"], Pieces(t, t.Encode("a<s>a", addSpecial: false, parseSpecial: true)));
        Assert.Equal(["a", "<0x3C>", "s", "<0x3E>", "a"], Pieces(t, t.Encode("a<s>a", addSpecial: false, parseSpecial: false)));
    }

    [Fact]
    public void Encode_OverlappingSpecialTokens_LongestWins()
    {
        var t = Build(addSpacePrefix: false, byteTokens: true, ("<x>", 0, TokenType.UserDefined), ("<x>y", 0, TokenType.UserDefined));
        Assert.Equal(["<x>y", "<x>"], Pieces(t, t.Encode("<x>y<x>", addSpecial: false)));
    }
}
