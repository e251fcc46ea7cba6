using System.Diagnostics;
using System.Text;
using LLama;
using LLama.Common;
using LlCuda.Tokenizers;
using LlCuda.Tests.Support;
using Xunit.Abstractions;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// A large real English text (the licence texts every Debian/Ubuntu system ships) tokenized
/// by BpeModel and by llama.cpp: the ids must be equal. The encode speed of both is written to
/// the test output for information only (run with --logger "console;verbosity=detailed");
/// nothing here asserts on time.
/// </summary>
[Collection(LlamaCppCollection.Name)]
public class BpeEnglishTextTests(ITestOutputHelper output)
{
    const string LicenceDir = "/usr/share/common-licenses";

    static string? Corpus() => Directory.Exists(LicenceDir)
        ? string.Join("\n\n", Directory.GetFiles(LicenceDir).Order(StringComparer.Ordinal).Select(File.ReadAllText))
        : null;

    [Fact]
    public void Encode_LicenceTexts_GptTwo_EqualsLlamaCpp() => AssertEqualsLlamaCpp(TestPaths.Vocab("gpt-2"), null);

    [CachedTokenizerFact("llama3")]
    public void Encode_LicenceTexts_Llama3_EqualsLlamaCpp() => AssertFromTokenizerJson("llama3", "llama", "llama-bpe");

    [CachedTokenizerFact("qwen3")]
    public void Encode_LicenceTexts_Qwen3_EqualsLlamaCpp() => AssertFromTokenizerJson("qwen3", "qwen2", "qwen2");

    void AssertFromTokenizerJson(string tokenizer, string architecture, string pre)
    {
        string dir = TestPaths.NewTempDir();
        try
        {
            string path = Path.Combine(dir, tokenizer + ".gguf");
            HfTokenizerJson.Load(CachedTokenizerFactAttribute.PathOf(tokenizer)).WriteVocabOnlyGguf(path, architecture, pre);
            AssertEqualsLlamaCpp(path, tokenizer);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    void AssertEqualsLlamaCpp(string ggufPath, string? label)
    {
        string? corpus = Corpus();
        if (corpus is null)
        {
            // Not a Debian-family system: nothing to compare; say so rather than pass silently.
            output.WriteLine($"{LicenceDir} not found: comparison not run");
            return;
        }
        label ??= Path.GetFileNameWithoutExtension(ggufPath);
        double megabytes = Encoding.UTF8.GetByteCount(corpus) / 1e6;
        var vocab = BpeTestSupport.LoadVocabulary(ggufPath);

        var model = new BpeModel(vocab);
        var ids = new List<int>();
        var watch = Stopwatch.StartNew();
        model.Encode(corpus, ids);
        double cold = watch.Elapsed.TotalSeconds;
        const int Repeats = 5;
        watch.Restart();
        for (int i = 0; i < Repeats; i++) { ids.Clear(); model.Encode(corpus, ids); }
        double warm = watch.Elapsed.TotalSeconds / Repeats;

        int[] expected;
        double reference;
        lock (LlamaCppReference.Gate)
        {
            using var weights = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { VocabOnly = true });
            watch.Restart();
            expected = weights.NativeHandle.Tokenize(corpus, false, false, Encoding.UTF8).Select(t => (int)t).ToArray();
            reference = watch.Elapsed.TotalSeconds;
        }
        output.WriteLine($"{label}: {megabytes:F3} MB, {ids.Count} tokens; llcuda {megabytes / cold:F1} MB/s (first call, empty word cache), " +
                         $"{megabytes / warm:F1} MB/s (warm); llama.cpp {megabytes / reference:F1} MB/s");

        int firstDifference = Enumerable.Range(0, Math.Min(ids.Count, expected.Length)).FirstOrDefault(i => ids[i] != expected[i], -1);
        Assert.True(ids.SequenceEqual(expected),
            $"{label}: {ids.Count} ids vs llama.cpp's {expected.Length}, first difference at {firstDifference}");
    }
}
