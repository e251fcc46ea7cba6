using System.Globalization;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// The pre-tokenizer families on hand-checked examples (each traced through llama.cpp's regex
/// list for that tokenizer.ggml.pre), and the Unicode classes they rest on.
/// </summary>
public class PreTokenizerTests
{
    static string[] Words(string pre, string text)
    {
        var cps = new int[text.Length];
        var starts = new int[text.Length + 1];
        int n = UnicodeClasses.Decode(text, cps, starts);
        var flags = cps.Take(n).Select(UnicodeClasses.Of).ToArray();
        var ends = new List<int>();
        PreTokenizer.For(pre).Split(cps.AsSpan(0, n), flags, ends, []);
        var words = new List<string>();
        int start = 0;
        foreach (int end in ends)
        {
            words.Add(text[starts[start]..starts[end]]);
            start = end;
        }
        return [.. words];
    }

    [Theory]
    // GPT-2: a space joins the next word; of a run of spaces before a word the last one joins it.
    [InlineData("gpt-2", "Hello world's  end", new[] { "Hello", " world", "'s", " ", " end" })]
    // Llama 3: contractions in any case, digits in threes, newline runs, a space does not join digits.
    [InlineData("llama-bpe", "I'M 12345 ok\n\n  x", new[] { "I", "'M", " ", "123", "45", " ok", "\n\n", " ", " x" })]
    // Qwen 2: single digits.
    [InlineData("qwen2", "abc 2024", new[] { "abc", " ", "2", "0", "2", "4" })]
    // StarCoder: \p{N} first, then GPT-2 on what is left.
    [InlineData("starcoder", "x=12", new[] { "x", "=", "1", "2" })]
    // default: punctuation runs, GPT-2, number runs, then ASCII digit triples.
    [InlineData("default", "a+b=c; 12345", new[] { "a", "+", "b", "=", "c", ";", " ", "123", "45" })]
    // deepseek-llm: newlines alone, cased letters with an optional leading space, CJK runs.
    [InlineData("deepseek-llm", "Hello 世界\n123", new[] { "Hello", " ", "世界", "\n", "123" })]
    // deepseek-coder: single digits, punctuation runs.
    [InlineData("deepseek-coder", "x, y1", new[] { "x", ",", " y", "1" })]
    // Code points, not UTF-16 units: U+1D400 and U+1D401 are letters, the llamas one symbol run.
    [InlineData("llama-bpe", "𝐀𝐁c 🦙🦙", new[] { "𝐀𝐁c", " 🦙🦙" })]
    // Only ASCII space joins a word; U+3000 is whitespace on its own.
    [InlineData("gpt-2", "a\u3000\u3000b", new[] { "a", "\u3000", "\u3000", "b" })]
    // U+10D4A (Garay, a letter since Unicode 16.0) is unassigned to llama.cpp's 15.1 tables.
    [InlineData("gpt-2", "a\U00010D4Ab", new[] { "a", "\U00010D4A", "b" })]
    // A lone surrogate reads as U+FFFD, a symbol.
    [InlineData("gpt-2", "a\uD800b", new[] { "a", "\uD800", "b" })]
    public void Split_Example_GivesLlamaCppWords(string pre, string text, string[] expected) =>
        Assert.Equal(expected, Words(pre, text));

    [Fact]
    public void Split_EmptyText_GivesNoWords() => Assert.Empty(Words("llama-bpe", ""));

    [Fact]
    public void For_UnknownPre_ThrowsNamingItAndTheSupportedOnes()
    {
        var e = Assert.Throws<NotSupportedException>(() => PreTokenizer.For("no-such-pre"));
        Assert.Contains("'no-such-pre'", e.Message, StringComparison.Ordinal);
        Assert.Contains("llama-bpe", e.Message, StringComparison.Ordinal);
        Assert.Contains("qwen2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void For_EmptyPre_IsDefault() => Assert.Equal("default", PreTokenizer.For("").Name);

    [Theory]
    [InlineData("llama-bpe", true)]
    [InlineData("llama3", true)]
    [InlineData("dbrx", false)]
    [InlineData("qwen2", false)]
    [InlineData("gpt-2", false)]
    public void For_Pre_IgnoresMergesOnlyForLlama3Family(string pre, bool expected) =>
        Assert.Equal(expected, PreTokenizer.For(pre).IgnoreMerges);

    [Fact]
    public void UnicodeClasses_Unicode16Additions_AreUndefinedThoughDotNetKnowsThem()
    {
        var ranges = UnicodeClasses.AssignedAfterUnicode15_1.ToArray();
        for (int i = 0; i < ranges.Length; i += 2)
            foreach (int cp in new[] { ranges[i], ranges[i + 1] })
            {
                Assert.Equal(CodepointFlags.Undefined, UnicodeClasses.Of(cp));
                Assert.NotEqual(UnicodeCategory.OtherNotAssigned, CharUnicodeInfo.GetUnicodeCategory(cp));
            }
        Assert.Equal(CodepointFlags.Symbol, UnicodeClasses.Of(0x1FA88));   // assigned in 15.0
    }

    [Fact]
    public void UnicodeClasses_Whitespace_IsUnicodeWhiteSpace()
    {
        int[] whiteSpace = [0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005,
            0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000];
        var found = Enumerable.Range(0, 0x110000).Where(cp => (UnicodeClasses.Of(cp) & CodepointFlags.Whitespace) != 0);
        Assert.Equal(whiteSpace, found);
    }

    // AssignedAfterUnicode15_1 is .NET's Unicode 16.0 minus llama.cpp's 15.1. When .NET moves on
    // (U+323B0, CJK Extension J, is Unicode 17.0), compare .NET with llama.cpp's table again.
    [Fact]
    public void DotNet_UnicodeVersion_Is16()
    {
        Assert.True(CharUnicodeInfo.GetUnicodeCategory(0x323B0) == UnicodeCategory.OtherNotAssigned,
            ".NET knows Unicode 17.0 characters: extend UnicodeClasses.AssignedAfterUnicode15_1 with the code points " +
            "llama.cpp's tables (Unicode 15.1) leave unassigned, or BPE splits will differ from llama.cpp");
        Assert.NotEqual(UnicodeCategory.OtherNotAssigned, CharUnicodeInfo.GetUnicodeCategory(0x1FA89));
    }
}
