using LlCuda.Tokenizers;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>llama.cpp's tokenizer test vectors for every byte-level BPE vocabulary in ../shared/vocab, through the Tokenizer facade.</summary>
public class BpeVectorTests
{
    public static TheoryData<string> SharedVocabs() => new(BpeTestSupport.SharedBpeVocabNames());

    [Theory]
    [MemberData(nameof(SharedVocabs))]
    public void Encode_SharedVocabVectors_MatchLlamaCpp(string name)
    {
        var vocab = BpeTestSupport.LoadVocabulary(TestPaths.Vocab(name));
        var tokenizer = new Tokenizer(vocab);
        var failures = new List<string>();
        var vectors = TokenizerVectorFiles.ReadCases(name);
        foreach (var (_, text, expected) in vectors)
        {
            var actual = BpeTestSupport.Encode(tokenizer, text);
            if (!actual.SequenceEqual(expected))
                failures.Add($"{Escape(text)}\n   expected {string.Join(' ', expected)}\n   actual   {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {vectors.Count} texts differ:\n" + string.Join("\n", failures));
    }

    internal static string Escape(string s) =>
        "'" + string.Concat(s.Select(c => c < 0x20 || c is '\\' or '\'' ? $"\\x{(int)c:x2}" : c.ToString())) + "'";
}
