using System.Diagnostics;
using System.Globalization;
using System.Text;
using LlCuda.Gguf;
using LlCuda.Models.Quantization;
using LlCuda.Tensors;

namespace LlCuda.Models.Synthesis;

/// <summary>Options of <see cref="SyntheticModel.Write"/>.</summary>
public sealed record SyntheticModelOptions
{
    public required SyntheticModelShape Shape { get; init; }
    /// <summary>File type or tensor type of the weights; mixes follow llama.cpp's rules.</summary>
    public required QuantizationTarget Target { get; init; }
    /// <summary>Every matrix in the target's base type (no mix rules; shape fallbacks still apply).</summary>
    public bool Pure { get; init; }
    /// <summary>GGUF whose tokenizer.* keys are copied (its token count sets n_vocab); null writes no vocabulary.</summary>
    public string? VocabularyPath { get; init; }
    /// <summary>n_vocab when <see cref="VocabularyPath"/> is null (such a file has no tokenizer: llama.cpp can quantize but not run it).</summary>
    public int VocabularySize { get; init; }
    /// <summary>Standard deviation of the matrix weights (vLLM's dummy weights use a similar small scale).</summary>
    public float Std { get; init; } = SyntheticModel.DefaultStd;
    public ulong Seed { get; init; }
    /// <summary>general.name; defaults to a description of the shape.</summary>
    public string? Name { get; init; }
    /// <summary>Worker threads (0 = one per core). The bytes do not depend on it.</summary>
    public int Threads { get; init; }
    public Action<ModelWriteProgress>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>What <see cref="SyntheticModel.Write"/> wrote.</summary>
public sealed record SyntheticModelResult(IReadOnlyList<TensorPlan> Tensors, int VocabularySize, long Parameters, long DataBytes, double Seconds)
{
    public IEnumerable<TensorPlan> Fallbacks => Tensors.Where(t => t.Fallback is not null);
}

/// <summary>
/// Writes a Llama-architecture GGUF with random weights of real shapes (like vLLM's dummy load
/// format), for tests and benchmarks where speed matters and weight values do not. Matrices
/// are N(0, std), norm vectors 1 + N(0, 0.1) (not all ones, so a mix-up of norms shows), each
/// row drawn from its own seed (model seed, tensor name, row), so a tensor's values depend on
/// neither the thread count, the type, nor the other tensors: an F32 synthetic model quantized
/// later is byte for byte the synthetic model written in that type directly. Rows are generated,
/// quantized and streamed in parallel; memory stays at a few megabytes for any model size.
/// </summary>
public static class SyntheticModel
{
    public const float DefaultStd = 0.02f;
    /// <summary>Standard deviation of the norm weights around 1.</summary>
    public const float NormNoise = 0.1f;
    const float RmsEpsilon = 1e-5f;
    const float RopeFreqBase = 10000f;

    /// <summary>The model's tensors in conversion order (the order convert_hf_to_gguf-style files list them), all F32 before planning.</summary>
    public static IReadOnlyList<TensorDescriptor> Tensors(SyntheticModelShape shape, int vocab)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long dim = shape.EmbeddingLength, kv = (long)shape.HeadCountKv * shape.HeadDim, ffn = shape.FeedForwardLength;
        TensorDescriptor M(string name, long cols, long rows) => new(name, [cols, rows], GgmlType.F32);
        TensorDescriptor V(string name, long n) => new(name, [n], GgmlType.F32);
        var list = new List<TensorDescriptor> { M("token_embd.weight", dim, vocab) };   // [dim, n_vocab]
        for (int i = 0; i < shape.BlockCount; i++)
        {
            string p = $"blk.{i}.";
            list.Add(V(p + "attn_norm.weight", dim));                 // [dim]
            list.Add(M(p + "attn_q.weight", dim, dim));               // [dim, n_head * head_dim]
            list.Add(M(p + "attn_k.weight", dim, kv));                // [dim, n_head_kv * head_dim]
            list.Add(M(p + "attn_v.weight", dim, kv));                // [dim, n_head_kv * head_dim]
            list.Add(M(p + "attn_output.weight", dim, dim));          // [n_head * head_dim, dim]
            list.Add(V(p + "ffn_norm.weight", dim));                  // [dim]
            list.Add(M(p + "ffn_gate.weight", dim, ffn));             // [dim, ffn]
            list.Add(M(p + "ffn_up.weight", dim, ffn));               // [dim, ffn]
            list.Add(M(p + "ffn_down.weight", ffn, dim));             // [ffn, dim]
        }
        list.Add(V("output_norm.weight", dim));                       // [dim]
        list.Add(M("output.weight", dim, vocab));                     // [dim, n_vocab]
        return list;
    }

    /// <summary>Writes the model to <paramref name="path"/> (atomically: nothing appears there if this fails or is cancelled).</summary>
    public static SyntheticModelResult Write(string path, SyntheticModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var shape = options.Shape;
        shape.Validate();
        if (!(options.Std > 0 && float.IsFinite(options.Std)))
            throw new ArgumentException($"std {options.Std.ToString(CultureInfo.InvariantCulture)} is out of range: expected a positive number such as 0.02");

        var writer = new GgufWriter();
        var vocabKeys = ReadVocabulary(options, out int vocab);
        var target = options.Target;
        string name = options.Name ?? $"llcuda synthetic llama {shape.EmbeddingLength}x{shape.BlockCount}";

        writer.Add("general.architecture", GgufValue.Of("llama"));
        writer.Add("general.name", GgufValue.Of(name));
        writer.Add("general.description", GgufValue.Of(string.Create(CultureInfo.InvariantCulture,
            $"llcuda synthetic model: random weights N(0, {options.Std}), seed {options.Seed}, type {target.Name}{(options.Pure ? " (pure)" : "")}")));
        writer.Add("llama.context_length", GgufValue.Of((uint)shape.ContextLength));
        writer.Add("llama.embedding_length", GgufValue.Of((uint)shape.EmbeddingLength));
        writer.Add("llama.block_count", GgufValue.Of((uint)shape.BlockCount));
        writer.Add("llama.feed_forward_length", GgufValue.Of((uint)shape.FeedForwardLength));
        writer.Add("llama.rope.dimension_count", GgufValue.Of((uint)shape.HeadDim));
        writer.Add("llama.attention.head_count", GgufValue.Of((uint)shape.HeadCount));
        writer.Add("llama.attention.head_count_kv", GgufValue.Of((uint)shape.HeadCountKv));
        writer.Add("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(RmsEpsilon));
        writer.Add("llama.rope.freq_base", GgufValue.Of(RopeFreqBase));
        writer.Add("llama.vocab_size", GgufValue.Of((uint)vocab));
        writer.Add("general.file_type", GgufValue.Of((uint)target.FileType));
        if (target.IsQuantized) writer.Add("general.quantization_version", GgufValue.Of(ModelQuantizer.QuantizationVersion));
        foreach (var (key, value) in vocabKeys) writer.Add(key, value);

        var descriptors = Tensors(shape, vocab);
        var model = new QuantizationModelInfo("llama", shape.BlockCount, shape.HeadCount, shape.HeadCountKv, 0);
        var planned = TensorTypePlanner.Plan(model, descriptors, target, options.Pure).ToDictionary(p => p.Name);
        // Written in conversion order; the plan's own order is only llama.cpp's processing order.
        var plans = descriptors.Select(d => planned[d.Name]).ToList();
        ModelQuantizer.CheckConvertible(path, plans);

        long dataBytes = plans.Sum(p => p.TargetBytes);
        var sink = new StreamingTensorSink(writer, plans.Count, dataBytes, options.Threads, options.Progress, options.Cancellation);
        foreach (var plan in plans)
        {
            ulong tensorSeed = GaussianSampler.DeriveSeed(options.Seed, NameHash(plan.Name));
            bool isNorm = plan.Tensor.Dimensions.Length == 1;
            float mean = isNorm ? 1f : 0f, std = isNorm ? NormNoise : options.Std;
            int rowLength = (int)plan.Tensor.RowLength;
            sink.AddConverted(plan, (first, count, dst) =>
            {
                for (int r = 0; r < count; r++)
                    new GaussianSampler(GaussianSampler.DeriveSeed(tensorSeed, (ulong)(first + r))).Fill(dst.Slice(r * rowLength, rowLength), mean, std);
            });
        }
        writer.Write(path);
        return new SyntheticModelResult(plans, vocab, descriptors.Sum(d => d.RowLength * d.RowCount), dataBytes, clock.Elapsed.TotalSeconds);
    }

    static List<KeyValuePair<string, GgufValue>> ReadVocabulary(SyntheticModelOptions options, out int vocab)
    {
        if (options.VocabularyPath is not { } path)
        {
            if (options.VocabularySize < 1)
                throw new ArgumentException("give a vocabulary file (its token count sets n_vocab) or a positive vocabulary size");
            vocab = options.VocabularySize;
            return [];
        }
        using var file = GgufFile.Open(path);
        var tokens = file.Metadata.GetArrayOrNull<string>("tokenizer.ggml.tokens")
            ?? throw new GgufFormatException($"{file.Source}: no vocabulary (metadata key 'tokenizer.ggml.tokens' is missing); use a GGUF with a tokenizer, e.g. ../shared/vocab/ggml-vocab-llama-spm.gguf");
        vocab = tokens.Length;
        return file.Metadata.Where(kv => kv.Key.StartsWith("tokenizer.", StringComparison.Ordinal)).ToList();
    }

    // FNV-1a over the UTF-8 name: a tensor's seed depends on its name only.
    static ulong NameHash(string name)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in Encoding.UTF8.GetBytes(name)) h = (h ^ b) * 0x100000001B3UL;
        return h;
    }
}
