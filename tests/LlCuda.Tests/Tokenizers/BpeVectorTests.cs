using LlCuda.Tokenizers;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>llama.cpp's tokenizer test vectors for every byte-level BPE vocabulary in ../shared/vocab.</summary>
public class BpeVectorTests
{
    public static TheoryData<string> SharedVocabs() => new(BpeTestSupport.SharedBpeVocabNames());

    [Theory]
    [MemberData(nameof(SharedVocabs))]
    public void Encode_SharedVocabVectors_MatchLlamaCpp(string name)
    {
        var vocab = BpeTestSupport.LoadVocabulary(TestPaths.Vocab(name));
        var model = new BpeModel(vocab);
        var failures = new List<string>();
        var vectors = BpeTestSupport.ReadVectors(name);
        foreach (var (text, expected) in vectors)
        {
            var actual = BpeTestSupport.Tokenize(model, vocab, text);
            if (!actual.SequenceEqual(expected))
                failures.Add($"{Escape(text)}\n   expected {string.Join(' ', expected)}\n   actual   {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} of {vectors.Count} texts differ:\n" + string.Join("\n", failures));
    }

    internal static string Escape(string s) =>
        "'" + string.Concat(s.Select(c => c < 0x20 || c is '\\' or '\'' ? $"\\x{(int)c:x2}" : c.ToString())) + "'";
}
