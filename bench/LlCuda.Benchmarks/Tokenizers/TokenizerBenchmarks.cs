using System.Text;
using BenchmarkDotNet.Attributes;
using LlCuda.Gguf;
using LlCuda.Tokenizers;

namespace LlCuda.Benchmarks.Tokenizers;

/// <summary>
/// Encode throughput on English prose, single thread: ~1 MB built from the licence texts
/// Debian ships in /usr/share/common-licenses (real English, no download). MB/s = 1.0 / mean
/// seconds. Target (issue 2): >= 5 MB/s for SPM and BPE. The llama3 case needs
/// scripts/fetch-tokenizers.sh to have run.
/// </summary>
[MemoryDiagnoser]
// In-process: building a separate benchmark project takes minutes on a loaded 2-core box.
[InProcess]
[WarmupCount(2)]
[IterationCount(10)]
public class TokenizerBenchmarks
{
    Tokenizer _tokenizer = null!;
    string _text = "";

    [Params("llama-spm", "gpt-2", "llama3")]
    public string Vocab { get; set; } = "";

    /// <summary>Bytes of UTF-8 text encoded per operation.</summary>
    public static int TextBytes => 1_000_000;

    [GlobalSetup]
    public void Setup()
    {
        _tokenizer = Vocab == "llama3" ? Llama3() : FromGguf(Path.Combine(BenchFiles.Shared, "vocab", $"ggml-vocab-{Vocab}.gguf"));
        var prose = new StringBuilder();
        foreach (var f in Directory.GetFiles("/usr/share/common-licenses").Order(StringComparer.Ordinal))
            if (new FileInfo(f).LinkTarget is null) prose.Append(File.ReadAllText(f)).Append('\n'); // links would repeat texts
        var sb = new StringBuilder();
        while (Encoding.UTF8.GetByteCount(sb.ToString()) < TextBytes) sb.Append(prose);
        _text = sb.ToString()[..TextBytes];
    }

    static Tokenizer FromGguf(string path)
    {
        using var f = GgufFile.Open(path);
        return Tokenizer.FromGguf(f);
    }

    static Tokenizer Llama3()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "llcuda.slnx"))) dir = dir.Parent;
        string json = Path.Combine(dir!.FullName, ".cache", "tokenizers", "llama3", "tokenizer.json");
        return new Tokenizer(HfTokenizerJson.Load(json).ToVocabulary("llama-bpe"));
    }

    [Benchmark(Description = "encode 1 MB of English")]
    public int Encode() => _tokenizer.Encode(_text, addSpecial: false).Length;
}
