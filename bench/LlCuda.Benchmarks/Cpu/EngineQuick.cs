using System.Diagnostics;
using System.Globalization;
using LLama;
using LLama.Common;
using LLama.Native;
using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Benchmarks.Cpu;

/// <summary>
/// End-to-end prompt processing and generation tokens/s of our engine and llama.cpp (LLamaSharp
/// 0.30, CPU backend) on the same TinyLlama-1.1B-shaped GGUF, alternating engine by engine so
/// the shared box's load hits both alike. llama.cpp's loop is llama-bench's: ppN decodes N
/// tokens in one batch into an empty cache; tgN decodes N tokens one at a time.
/// Usage: cpu-engine [Q4_0|Q4_K_M] [pp] [tg] [threads] [rounds]
/// </summary>
internal static class EngineQuick
{
    public static void Run(string[] args)
    {
        string mix = args.Length > 0 ? args[0] : "Q4_0";
        int pp = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 64;
        int tg = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 16;
        int threads = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2;
        int rounds = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 3;
        string path = TinyLlamaFile(mix);
        Console.WriteLine($"{Path.GetFileName(path)} ({new FileInfo(path).Length / 1e6:F0} MB), {threads} threads, pp{pp} / tg{tg}, {rounds} rounds, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");

        var ours = new List<(double Pp, double Tg)>();
        var theirs = new List<(double Pp, double Tg)>();
        using var native = LoadedModel.LoadNative(path, new RunnerOptions { ContextLength = -Math.Max(pp, tg) - 8, Threads = threads });
        var lp = new ModelParams(path)
        {
            ContextSize = (uint)(Math.Max(pp, tg) + 8), GpuLayerCount = 0, BatchSize = (uint)Math.Max(pp, 1),
            UBatchSize = (uint)Math.Max(pp, 1), Threads = threads, BatchThreads = threads,
        };
        using var weights = LLamaWeights.LoadFromFile(lp);
        using var ctx = weights.CreateContext(lp);
        Console.WriteLine($"llama.cpp context: {ctx.NativeHandle.GenerationThreads} generation threads, {ctx.NativeHandle.BatchThreads} batch threads");
        for (int round = 0; round <= rounds; round++)
        {
            var o = (ThroughputBenchmark.PromptProcessing(native.Runner, pp, 1).Mean, ThroughputBenchmark.TextGeneration(native.Runner, tg, 1).Mean);
            var l = (LlamaPromptProcessing(ctx, pp), LlamaTextGeneration(ctx, tg));
            if (round == 0) continue; // warm-up
            ours.Add(o);
            theirs.Add(l);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: llcuda pp {o.Item1:F1} tg {o.Item2:F1} | llama.cpp pp {l.Item1:F1} tg {l.Item2:F1} t/s"));
        }
        double Med(IEnumerable<double> v) { var s = v.Order().ToArray(); return s[s.Length / 2]; }
        double op = Med(ours.Select(x => x.Pp)), ot = Med(ours.Select(x => x.Tg)), lpp = Med(theirs.Select(x => x.Pp)), lt = Med(theirs.Select(x => x.Tg));
        Console.WriteLine("| model | test | llcuda t/s | llama.cpp t/s | ratio |");
        Console.WriteLine("|---|---|---|---|---|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| TinyLlama-1.1B shape {mix} | pp{pp} | {op:F1} | {lpp:F1} | {op / lpp:F2} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| TinyLlama-1.1B shape {mix} | tg{tg} | {ot:F1} | {lt:F1} | {ot / lt:F2} |"));
    }

    static double LlamaPromptProcessing(LLamaContext ctx, int n)
    {
        ctx.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        var rng = new Random(1234);
        for (int i = 0; i < n; i++) batch.Add((LLamaToken)rng.Next(3, 32000), i, LLamaSeqId.Zero, i == n - 1);
        long t0 = Stopwatch.GetTimestamp();
        if (ctx.NativeHandle.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama_decode failed");
        return n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    static double LlamaTextGeneration(LLamaContext ctx, int n)
    {
        ctx.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        var rng = new Random(1234);
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < n; i++)
        {
            batch.Clear();
            batch.Add((LLamaToken)rng.Next(3, 32000), i, LLamaSeqId.Zero, true);
            if (ctx.NativeHandle.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama_decode failed");
        }
        return n / Stopwatch.GetElapsedTime(t0).TotalSeconds;
    }

    /// <summary>
    /// A TinyLlama-1.1B-shaped GGUF (dim 2048, 22 layers, 32 heads, 4 KV heads, ffn 5632, Llama-2
    /// vocab): Q4_0 as llama.cpp mixes it (output Q6_K), or Q4_K_M's mix (attn_v and ffn_down
    /// Q6_K in the first, last and every third layer between, as llama.cpp's use_more_bits;
    /// output Q6_K). Weight bytes are zero (speed does not depend on values); norms are 1.
    /// </summary>
    static string TinyLlamaFile(string mix)
    {
        string path = Path.Combine(BenchFiles.Dir, $"tinyllama-shape-{mix.ToLowerInvariant()}.gguf");
        if (File.Exists(path)) return path;
        using var vocab = GgufFile.Open(Path.Combine(BenchFiles.Shared, "vocab", "ggml-vocab-llama-spm.gguf"));
        const int dim = 2048, layers = 22, ffn = 5632, nVocab = 32000, kvDim = 256;
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.Of("llama"));
        w.Add("general.name", GgufValue.Of($"tinyllama-1.1b-shape-{mix}"));
        w.Add("general.file_type", GgufValue.Of(mix == "Q4_0" ? 2u : 15u));
        w.Add("llama.context_length", GgufValue.Of(2048u));
        w.Add("llama.embedding_length", GgufValue.Of((uint)dim));
        w.Add("llama.block_count", GgufValue.Of((uint)layers));
        w.Add("llama.feed_forward_length", GgufValue.Of((uint)ffn));
        w.Add("llama.attention.head_count", GgufValue.Of(32u));
        w.Add("llama.attention.head_count_kv", GgufValue.Of(4u));
        w.Add("llama.rope.dimension_count", GgufValue.Of(64u));
        w.Add("llama.rope.freq_base", GgufValue.Of(10000f));
        w.Add("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(1e-5f));
        foreach (var (key, value) in vocab.Metadata)
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) w.Add(key, value);

        var main = mix == "Q4_0" ? GgmlType.Q4_0 : GgmlType.Q4_K;
        void Add(string name, GgmlType type, params long[] dims)
        {
            long bytes = GgmlTypeInfo.RowBytes(type, dims[0]) * dims.Skip(1).Aggregate(1L, (a, b) => a * b);
            if (type == GgmlType.F32) w.AddTensor(name, type, dims, bytes, s => WriteOnes(s, dims[0]));
            else w.AddTensor(name, type, dims, bytes, s => WriteZeros(s, bytes));
        }
        bool MoreBits(int i) => i < layers / 8 || i >= 7 * layers / 8 || (i - layers / 8) % 3 == 2;
        Add("token_embd.weight", main, dim, nVocab);
        for (int i = 0; i < layers; i++)
        {
            var heavy = mix == "Q4_0" ? main : MoreBits(i) ? GgmlType.Q6_K : main;
            Add($"blk.{i}.attn_norm.weight", GgmlType.F32, dim);
            Add($"blk.{i}.attn_q.weight", main, dim, dim);
            Add($"blk.{i}.attn_k.weight", main, dim, kvDim);
            Add($"blk.{i}.attn_v.weight", heavy, dim, kvDim);
            Add($"blk.{i}.attn_output.weight", main, dim, dim);
            Add($"blk.{i}.ffn_norm.weight", GgmlType.F32, dim);
            Add($"blk.{i}.ffn_gate.weight", main, dim, ffn);
            Add($"blk.{i}.ffn_up.weight", main, dim, ffn);
            Add($"blk.{i}.ffn_down.weight", heavy, ffn, dim);
        }
        Add("output_norm.weight", GgmlType.F32, dim);
        Add("output.weight", GgmlType.Q6_K, dim, nVocab);
        w.Write(path);
        return path;
    }

    static void WriteZeros(Stream s, long bytes)
    {
        var zeros = new byte[1 << 20];
        for (long left = bytes; left > 0; left -= zeros.Length) s.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
    }

    static void WriteOnes(Stream s, long count)
    {
        for (long i = 0; i < count; i++) s.Write(BitConverter.GetBytes(1.0f));
    }
}
