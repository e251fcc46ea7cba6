using LlCuda.Gguf;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// llama.cpp's tokenizer test vectors in ../shared/vocab: for a vocabulary NAME,
/// ggml-vocab-NAME.gguf (absent for llama-bpe and qwen2), ggml-vocab-NAME.gguf.inp (texts joined by
/// "\n__ggml_vocab_test__\n", with one trailing separator) and ggml-vocab-NAME.gguf.out (one line of
/// space-separated ids per text: no BOS, special-token text not parsed).
/// </summary>
public static class TokenizerVectorFiles
{
    const string Separator = "\n__ggml_vocab_test__\n";

    static string VocabDir => Path.Combine(TestPaths.Shared, "vocab");

    /// <summary>Names of every vocabulary that has test vectors (.inp and .out), sorted.</summary>
    public static IReadOnlyList<string> VectorNames() =>
        [.. Directory.EnumerateFiles(VocabDir, "ggml-vocab-*.gguf.inp")
            .Select(p => Path.GetFileName(p)["ggml-vocab-".Length..^".gguf.inp".Length])
            .Where(n => File.Exists(OutPath(n)))
            .Order(StringComparer.Ordinal)];

    /// <summary>Names of the vocabularies whose GGUF exists and has tokenizer.ggml.model == <paramref name="model"/>.</summary>
    public static IReadOnlyList<string> NamesWithModel(string model) =>
        [.. VectorNames().Where(n => File.Exists(TestPaths.Vocab(n)) && ModelOf(n) == model)];

    /// <summary>The same, as xunit theory data.</summary>
    public static TheoryData<string> TheoryDataWithModel(string model)
    {
        var data = new TheoryData<string>();
        foreach (string name in NamesWithModel(model))
            data.Add(name);
        return data;
    }

    /// <summary>tokenizer.ggml.model of ggml-vocab-NAME.gguf ("llama" is SPM, "gpt2" is BPE).</summary>
    public static string ModelOf(string name)
    {
        using var file = GgufFile.Open(TestPaths.Vocab(name));
        return file.Metadata.GetStringOrNull("tokenizer.ggml.model") ?? "";
    }

    /// <summary>The (text, expected ids) pairs of NAME, in file order.</summary>
    public static IReadOnlyList<VectorCase> ReadCases(string name)
    {
        string input = File.ReadAllText(InPath(name), System.Text.Encoding.UTF8);
        if (!input.EndsWith(Separator, StringComparison.Ordinal))
            throw new InvalidDataException($"{InPath(name)}: expected the texts to end with a '__ggml_vocab_test__' separator line");
        string[] texts = input[..^Separator.Length].Split(Separator);

        string output = File.ReadAllText(OutPath(name), System.Text.Encoding.UTF8);
        string[] lines = output.EndsWith('\n') ? output[..^1].Split('\n') : output.Split('\n');
        if (lines.Length != texts.Length)
            throw new InvalidDataException($"{OutPath(name)}: {lines.Length} lines of ids for {texts.Length} texts in {InPath(name)}");

        return [.. texts.Select((text, i) => new VectorCase(i, text,
            [.. lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)]))];
    }

    static string InPath(string name) => TestPaths.Vocab(name) + ".inp";
    static string OutPath(string name) => TestPaths.Vocab(name) + ".out";
}

/// <summary>One test vector: the text (index <paramref name="Index"/> in the file) and the ids llama.cpp gives it.</summary>
public sealed record VectorCase(int Index, string Text, int[] Ids);
