using LlCuda.Gguf;
using LlCuda.Tokenizers;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// Shared helpers of the BPE tests: llama.cpp's tokenizer vectors, the BPE vocabularies in
/// ../shared/vocab, and the part of llama.cpp's special-token partitioning that applies with
/// parse_special = false (user-defined tokens are cut out before BPE). Private to the BPE tests
/// until the shared TokenizerVectorFiles reader and the Tokenizer facade are merged.
/// </summary>
internal static class BpeTestSupport
{
    /// <summary>Names NAME of ../shared/vocab/ggml-vocab-NAME.gguf whose tokenizer.ggml.model is "gpt2".</summary>
    public static IEnumerable<string> SharedBpeVocabNames()
    {
        var dir = Path.Combine(TestPaths.Shared, "vocab");
        if (!Directory.Exists(dir)) yield break;
        foreach (var path in Directory.GetFiles(dir, "ggml-vocab-*.gguf").Order(StringComparer.Ordinal))
        {
            using var file = GgufFile.Open(path);
            if (file.Metadata.GetStringOrNull("tokenizer.ggml.model") == "gpt2")
                yield return Path.GetFileNameWithoutExtension(path)["ggml-vocab-".Length..];
        }
    }

    public static Vocabulary LoadVocabulary(string path)
    {
        using var file = GgufFile.Open(path);
        return Vocabulary.FromGguf(file);
    }

    /// <summary>The texts of NAME.inp and the expected ids of NAME.out (no BOS, specials not parsed).</summary>
    public static List<(string Text, int[] Ids)> ReadVectors(string vocabName)
    {
        string basePath = TestPaths.Vocab(vocabName);
        string inp = File.ReadAllText(basePath + ".inp", System.Text.Encoding.UTF8);
        var texts = inp.Split("\n__ggml_vocab_test__\n");
        // The file ends with a separator, so the last part is not a text.
        var lines = File.ReadAllLines(basePath + ".out");
        Assert.True(texts.Length - 1 == lines.Length,
            $"{basePath}.inp has {texts.Length - 1} texts but .out has {lines.Length} lines");
        var result = new List<(string, int[])>();
        for (int i = 0; i < lines.Length; i++)
        {
            var ids = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
            result.Add((texts[i], ids));
        }
        return result;
    }

    /// <summary>
    /// Tokenizes like llama_tokenize(text, add_special: false, parse_special: false): user-defined
    /// tokens are cut out first (longest text first, as llama.cpp's tokenizer_st_partition does),
    /// the remaining runs go through BPE.
    /// </summary>
    public static List<int> Tokenize(BpeModel model, Vocabulary vocab, string text)
    {
        var userDefined = Enumerable.Range(0, vocab.Count)
            .Where(id => (vocab.Attributes(id) & TokenAttributes.UserDefined) != 0)
            .OrderByDescending(id => System.Text.Encoding.UTF8.GetByteCount(vocab.Tokens[id]))
            .ToList();
        // Fragments: (text, -1) for raw text or (null, id) for a token.
        var fragments = new List<(string? Text, int Id)> { (text, -1) };
        foreach (int id in userDefined)
        {
            string special = vocab.Tokens[id];
            var next = new List<(string?, int)>();
            foreach (var (raw, tokenId) in fragments)
            {
                if (raw is null) { next.Add((null, tokenId)); continue; }
                int from = 0;
                while (true)
                {
                    int at = raw.IndexOf(special, from, StringComparison.Ordinal);
                    if (at < 0) break;
                    if (at > from) next.Add((raw[from..at], -1));
                    next.Add((null, id));
                    from = at + special.Length;
                }
                if (from < raw.Length) next.Add((raw[from..], -1));
            }
            fragments = next;
        }
        var output = new List<int>();
        foreach (var (raw, id) in fragments)
        {
            if (raw is null) output.Add(id);
            else model.Encode(raw, output);
        }
        return output;
    }
}
