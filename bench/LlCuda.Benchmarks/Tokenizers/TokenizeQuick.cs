using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlCuda.Gguf;
using LlCuda.Tokenizers;

namespace LlCuda.Benchmarks.Tokenizers;

/// <summary>
/// Encode throughput by wall clock and by the thread's CPU time, median of 7 runs: on a shared,
/// overloaded box the CPU time shows what the code costs when it has a core to itself.
/// Usage: tokenize-quick [text-file]   (default: Debian's licence texts, 0.3 MB of unique English)
/// </summary>
internal static class TokenizeQuick
{
    public static void Run(string[] args)
    {
        string text = args.Length > 0 ? File.ReadAllText(args[0]) : LicenceTexts();
        double mb = Encoding.UTF8.GetByteCount(text) / 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"text: {mb:F2} MB; 7 runs each, a fresh tokenizer per run (empty word caches)"));
        Console.WriteLine("| vocabulary | median wall MB/s | median CPU MB/s | tokens |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var vocab in new[] { "llama-spm", "phi-3", "gpt-2", "starcoder", "llama3", "qwen3" })
        {
            Func<Tokenizer>? make = Factory(vocab);
            if (make is null) { Console.WriteLine($"| {vocab} | skipped: vocabulary not found | | |"); continue; }
            var wall = new List<double>();
            var cpu = new List<double>();
            int tokens = 0;
            make().Encode("warm up the JIT", addSpecial: false);
            for (int i = 0; i < 7; i++)
            {
                var tokenizer = make();
                var cpuStart = ThreadCpu();
                var clock = Stopwatch.StartNew();
                tokens = tokenizer.Encode(text, addSpecial: false).Length;
                wall.Add(mb / clock.Elapsed.TotalSeconds);
                cpu.Add(mb / (ThreadCpu() - cpuStart).TotalSeconds);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {vocab} | {Median(wall):F1} | {Median(cpu):F1} | {tokens} |"));
        }
    }

    // /proc/thread-self/schedstat's first field: nanoseconds this thread has run on a CPU
    // (the 10 ms ticks of /proc/.../stat are too coarse for runs of tens of milliseconds).
    static TimeSpan ThreadCpu() =>
        TimeSpan.FromTicks(long.Parse(File.ReadAllText("/proc/thread-self/schedstat").Split(' ')[0], CultureInfo.InvariantCulture) / 100);

    static double Median(List<double> xs)
    {
        var s = xs.Order().ToArray();
        return s[s.Length / 2];
    }

    internal static string LicenceTexts()
    {
        var sb = new StringBuilder();
        foreach (var f in Directory.GetFiles("/usr/share/common-licenses").Order(StringComparer.Ordinal))
            if (new FileInfo(f).LinkTarget is null) sb.Append(File.ReadAllText(f)).Append('\n'); // links would repeat texts
        return sb.ToString();
    }

    static Func<Tokenizer>? Factory(string vocab)
    {
        if (vocab is "llama3" or "qwen3")
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "llcuda.slnx"))) dir = dir.Parent;
            string json = Path.Combine(dir?.FullName ?? ".", ".cache", "tokenizers", vocab, "tokenizer.json");
            if (!File.Exists(json)) return null;
            var hf = HfTokenizerJson.Load(json);
            string pre = vocab == "llama3" ? "llama-bpe" : "qwen2";
            return () => new Tokenizer(hf.ToVocabulary(pre));
        }
        string path = Path.Combine(BenchFiles.Shared, "vocab", $"ggml-vocab-{vocab}.gguf");
        if (!File.Exists(path)) return null;
        using var f = GgufFile.Open(path);
        var v = Vocabulary.FromGguf(f);
        return () => new Tokenizer(v);
    }
}
