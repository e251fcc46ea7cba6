using System.Text;
using LLama;
using LLama.Common;
using LlCuda.Gguf;
using LlCuda.Tokenizers;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// BpeModel against llama.cpp itself (LLamaSharp, vocab-only load) on random text: every
/// shared byte-level BPE vocabulary, the gpt-2 vocabulary re-labelled with each supported
/// pre-tokenizer family (the splitters differ, the vocabulary does not matter), and the
/// Llama 3 / Qwen 3 vocabularies written from tokenizer.json.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class BpeLlamaCppPropertyTests
{
    const int TextsPerVocab = 300;

    public static TheoryData<string> SharedVocabs() => new(BpeTestSupport.SharedBpeVocabNames());

    [Theory]
    [MemberData(nameof(SharedVocabs))]
    public void Encode_RandomText_MatchesLlamaCpp(string name) =>
        AssertMatchesLlamaCpp(TestPaths.Vocab(name), seed: name.Length * 7919);

    // One vocabulary per pre-tokenizer family not covered by a shared file.
    [Theory]
    [InlineData("default")]
    [InlineData("llama-bpe")]
    [InlineData("qwen2")]
    [InlineData("dbrx")]
    public void Encode_RandomTextWithPreTokenizer_MatchesLlamaCpp(string pre)
    {
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, $"gpt-2-as-{pre}.gguf");
        using (var source = GgufFile.Open(TestPaths.Vocab("gpt-2")))
        {
            var w = new GgufWriter();
            foreach (var (key, value) in source.Metadata)
                w.Add(key, key == "tokenizer.ggml.pre" ? GgufValue.Of(pre) : value);
            w.Write(path);
        }
        try { AssertMatchesLlamaCpp(path, seed: 1000 + pre.Length); }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [CachedTokenizerFact("llama3")]
    public void Encode_RandomText_Llama3TokenizerJson_MatchesLlamaCpp() => AssertTokenizerJson("llama3", "llama", "llama-bpe");

    [CachedTokenizerFact("qwen3")]
    public void Encode_RandomText_Qwen3TokenizerJson_MatchesLlamaCpp() => AssertTokenizerJson("qwen3", "qwen2", "qwen2");

    // Every token of every shared vocabulary decodes to llama.cpp's piece (token_to_piece, special).
    [Theory]
    [MemberData(nameof(SharedVocabs))]
    public void AppendTokenBytes_EveryToken_MatchesLlamaCppPiece(string name) => AssertPiecesMatch(TestPaths.Vocab(name));

    static void AssertPiecesMatch(string path)
    {
        var vocab = BpeTestSupport.LoadVocabulary(path);
        var model = new BpeModel(vocab);
        var pieces = BpeLlamaCppReference.Pieces(path);
        Assert.Equal(vocab.Count, pieces.Count);
        var failures = new List<string>();
        var bytes = new List<byte>();
        for (int id = 0; id < vocab.Count; id++)
        {
            bytes.Clear();
            model.AppendTokenBytes(id, bytes);
            if (!bytes.SequenceEqual(pieces[id]))
                failures.Add($"{id} '{vocab.Tokens[id]}' ({vocab.Types[id]}): llama.cpp {Convert.ToHexString(pieces[id])}, llcuda {Convert.ToHexString(bytes.ToArray())}");
        }
        Assert.True(failures.Count == 0, $"{Path.GetFileName(path)}: {failures.Count} of {vocab.Count} tokens decode differently:\n" + string.Join("\n", failures.Take(10)));
    }

    static void AssertTokenizerJson(string tokenizer, string architecture, string pre)
    {
        string dir = TestPaths.NewTempDir();
        string path = Path.Combine(dir, $"{tokenizer}.gguf");
        HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf(tokenizer)).WriteVocabOnlyGguf(path, architecture, pre);
        try
        {
            AssertMatchesLlamaCpp(path, seed: 4242 + tokenizer.Length);
            AssertPiecesMatch(path);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    static void AssertMatchesLlamaCpp(string ggufPath, int seed)
    {
        var vocab = BpeTestSupport.LoadVocabulary(ggufPath);
        var tokenizer = new Tokenizer(vocab);
        var rng = new Random(seed);
        var texts = Enumerable.Range(0, TextsPerVocab).Select(_ => BpeRandomText.Next(rng)).ToList();
        var expected = BpeLlamaCppReference.Tokenize(ggufPath, texts);

        var failures = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            var actual = BpeTestSupport.Encode(tokenizer, texts[i]);
            if (!actual.SequenceEqual(expected[i]))
                failures.Add($"{BpeVectorTests.Escape(texts[i])}\n   llama.cpp {string.Join(' ', expected[i])}\n   llcuda    {string.Join(' ', actual)}");
        }
        Assert.True(failures.Count == 0,
            $"{Path.GetFileName(ggufPath)} (pre '{vocab.Pre}', seed {seed}): {failures.Count} of {texts.Count} texts differ:\n" + string.Join("\n", failures.Take(10)));
    }
}

/// <summary>Tests that call into llama.cpp run one at a time: its native calls are not thread-safe.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LlamaCppCollection
{
    public const string Name = "llama.cpp reference";
}

/// <summary>llama.cpp's tokenizer through LLamaSharp, serialized by a process-wide lock.</summary>
internal static class BpeLlamaCppReference
{
    // The tests' one lock around llama.cpp: its native state is shared by every test class.
    internal static Lock Gate => Support.LlamaCppReference.Gate;

    /// <summary>llama_tokenize(text, add_special: false, parse_special: false) for each text.</summary>
    public static List<int[]> Tokenize(string ggufPath, IEnumerable<string> texts)
    {
        lock (Gate)
        {
            using var weights = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { VocabOnly = true });
            return texts.Select(t => weights.NativeHandle.Tokenize(t, false, false, Encoding.UTF8).Select(x => (int)x).ToArray()).ToList();
        }
    }

    /// <summary>llama_token_to_piece(id, lstrip: 0, special: true) for every token of the vocabulary.</summary>
    public static List<byte[]> Pieces(string ggufPath)
    {
        lock (Gate)
        {
            using var weights = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { VocabOnly = true });
            var handle = weights.NativeHandle;
            var result = new List<byte[]>();
            var buffer = new byte[256];
            for (int id = 0; id < handle.Vocab.Count; id++)
            {
                uint n = handle.TokenToSpan(id, buffer, 0, true);
                if (n > buffer.Length)
                {
                    buffer = new byte[n];
                    n = handle.TokenToSpan(id, buffer, 0, true);
                }
                result.Add(buffer.AsSpan(0, (int)n).ToArray());
            }
            return result;
        }
    }
}
