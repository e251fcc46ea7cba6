using LlCuda.Gguf;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;

namespace LlCuda.Tests.Tokenizers;

/// <summary>llama.cpp's tokenizer test vectors, for every vocabulary whose tokenizer we implement.</summary>
public class TokenizerVectorsTests
{
    public static TheoryData<string> SpmVocabs => TokenizerVectorFiles.TheoryDataWithModel("llama");

    [Theory]
    [MemberData(nameof(SpmVocabs))]
    public void Encode_SpmVocabTestVectors_MatchLlamaCppIds(string vocab)
    {
        using var file = GgufFile.Open(TestPaths.Vocab(vocab));
        var tokenizer = Tokenizer.FromGguf(file);
        var cases = TokenizerVectorFiles.ReadCases(vocab);
        Assert.NotEmpty(cases);

        foreach (var c in cases)
        {
            int[] actual = tokenizer.Encode(c.Text, addSpecial: false, parseSpecial: false);
            if (!actual.SequenceEqual(c.Ids))
                Assert.Fail($"{vocab}: text #{c.Index} {Escape(c.Text)}\n  expected: [{string.Join(' ', c.Ids)}]\n  actual:   [{string.Join(' ', actual)}]");
        }
    }

    [Fact]
    public void VectorFiles_SpmVocabs_IncludeLlamaSpmAndPhi3()
    {
        var names = TokenizerVectorFiles.NamesWithModel("llama");
        Assert.Contains("llama-spm", names);
        Assert.Contains("phi-3", names);
    }

    internal static string Escape(string text) =>
        "\"" + string.Concat(text.Select(ch => ch switch
        {
            '\n' => "\\n",
            '\t' => "\\t",
            '\r' => "\\r",
            '"' => "\\\"",
            _ when char.IsControl(ch) || char.IsSurrogate(ch) => $"\\u{(int)ch:X4}",
            _ => ch.ToString(),
        })) + "\"";
}
