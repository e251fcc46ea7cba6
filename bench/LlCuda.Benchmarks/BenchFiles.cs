using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Benchmarks;

/// <summary>
/// Files the benchmarks read: made once under $TMPDIR/llcuda-bench and reused, never committed.
/// </summary>
internal static class BenchFiles
{
    public static string Dir
    {
        get
        {
            string dir = Path.Combine(Path.GetTempPath(), "llcuda-bench");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>The shared folder beside the repository (vocabularies, stories260K).</summary>
    public static string Shared
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "llcuda.slnx"))) dir = dir.Parent;
            return Environment.GetEnvironmentVariable("LLCUDA_SHARED")
                ?? Path.GetFullPath(Path.Combine(dir?.FullName ?? ".", "..", "shared"));
        }
    }

    /// <summary>
    /// A Llama-2-7B-shaped Q4_0 GGUF (dim 4096, 32 layers, ffn 11008, vocab 32000 from
    /// ggml-vocab-llama-spm.gguf): about 3.8 GB of zero weights behind a real header. Speed of
    /// opening and reading metadata does not depend on weight values.
    /// </summary>
    public static string Llama7BShapeQ4_0()
    {
        string path = Path.Combine(Dir, "llama2-7b-shape-q4_0.gguf");
        if (File.Exists(path)) return path;
        using var vocab = GgufFile.Open(Path.Combine(Shared, "vocab", "ggml-vocab-llama-spm.gguf"));
        const int dim = 4096, layers = 32, ffn = 11008, nVocab = 32000;
        var w = new GgufWriter();
        w.Add("general.architecture", GgufValue.Of("llama"));
        w.Add("general.name", GgufValue.Of("llama2-7b-shape"));
        w.Add("general.file_type", GgufValue.Of(2u));
        w.Add("llama.context_length", GgufValue.Of(4096u));
        w.Add("llama.embedding_length", GgufValue.Of((uint)dim));
        w.Add("llama.block_count", GgufValue.Of((uint)layers));
        w.Add("llama.feed_forward_length", GgufValue.Of((uint)ffn));
        w.Add("llama.attention.head_count", GgufValue.Of(32u));
        w.Add("llama.attention.head_count_kv", GgufValue.Of(32u));
        w.Add("llama.rope.dimension_count", GgufValue.Of(128u));
        w.Add("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(1e-5f));
        foreach (var (key, value) in vocab.Metadata)
            if (key.StartsWith("tokenizer.", StringComparison.Ordinal)) w.Add(key, value);

        void Add(string name, GgmlType type, params long[] dims)
        {
            long bytes = GgmlTypeInfo.RowBytes(type, dims[0]) * dims.Skip(1).Aggregate(1L, (a, b) => a * b);
            w.AddTensor(name, type, dims, bytes, s => WriteZeros(s, bytes));
        }
        Add("token_embd.weight", GgmlType.Q4_0, dim, nVocab);
        for (int i = 0; i < layers; i++)
        {
            Add($"blk.{i}.attn_norm.weight", GgmlType.F32, dim);
            foreach (var t in new[] { "attn_q", "attn_k", "attn_v", "attn_output" }) Add($"blk.{i}.{t}.weight", GgmlType.Q4_0, dim, dim);
            Add($"blk.{i}.ffn_norm.weight", GgmlType.F32, dim);
            Add($"blk.{i}.ffn_gate.weight", GgmlType.Q4_0, dim, ffn);
            Add($"blk.{i}.ffn_up.weight", GgmlType.Q4_0, dim, ffn);
            Add($"blk.{i}.ffn_down.weight", GgmlType.Q4_0, ffn, dim);
        }
        Add("output_norm.weight", GgmlType.F32, dim);
        Add("output.weight", GgmlType.Q4_0, dim, nVocab);
        w.Write(path);
        return path;
    }

    static void WriteZeros(Stream s, long bytes)
    {
        var zeros = new byte[1 << 20];
        for (long left = bytes; left > 0; left -= zeros.Length) s.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
    }
}
