using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Models.Llama;

/// <summary>The tensors of one transformer block (ggml shapes: [input features, output features]).</summary>
public sealed record LlamaBlockTensors(
    GgufTensorInfo AttnNorm,   // [dim] F32
    GgufTensorInfo Wq,         // [dim, n_head * head_dim]
    GgufTensorInfo Wk,         // [dim, n_head_kv * head_dim]
    GgufTensorInfo Wv,         // [dim, n_head_kv * head_dim]
    GgufTensorInfo Wo,         // [n_head * head_dim, dim]
    GgufTensorInfo FfnNorm,    // [dim] F32
    GgufTensorInfo FfnGate,    // [dim, ffn]
    GgufTensorInfo FfnUp,      // [dim, ffn]
    GgufTensorInfo FfnDown);   // [ffn, dim]

/// <summary>
/// The tensors of a Llama-architecture model (Llama 1/2/3, TinyLlama, Mistral), found by their
/// GGUF names and checked against the hyperparameters, so a forward pass can bind them without
/// further checks. Every problem is a GgufFormatException naming the tensor, what it has and what
/// was expected.
/// </summary>
public sealed class LlamaTensors
{
    /// <summary>Architectures whose GGUF layout and forward pass are Llama's.</summary>
    public static readonly IReadOnlySet<string> Architectures = new HashSet<string>(StringComparer.Ordinal) { "llama", "mistral" };

    /// <summary>Weight types the engine multiplies with.</summary>
    public static readonly IReadOnlySet<GgmlType> MatrixTypes = new HashSet<GgmlType>
    {
        GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1,
        GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K,
    };

    LlamaTensors(ModelHyperparameters hp, GgufTensorInfo embedding, GgufTensorInfo outputNorm, GgufTensorInfo output,
        bool tied, LlamaBlockTensors[] blocks)
    {
        Hyperparameters = hp;
        TokenEmbedding = embedding;
        OutputNorm = outputNorm;
        Output = output;
        OutputIsTied = tied;
        Blocks = blocks;
    }

    public ModelHyperparameters Hyperparameters { get; }
    /// <summary>token_embd.weight: [dim, n_vocab] (row t is token t's embedding).</summary>
    public GgufTensorInfo TokenEmbedding { get; }
    /// <summary>output_norm.weight: [dim] F32.</summary>
    public GgufTensorInfo OutputNorm { get; }
    /// <summary>output.weight: [dim, n_vocab]; the token embedding itself when the model ties them.</summary>
    public GgufTensorInfo Output { get; }
    /// <summary>True when output.weight is absent and the embedding doubles as the output projection.</summary>
    public bool OutputIsTied { get; }
    public IReadOnlyList<LlamaBlockTensors> Blocks { get; }

    /// <summary>Finds and checks every tensor of a Llama model.</summary>
    public static LlamaTensors From(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var hp = ModelHyperparameters.FromGguf(file);
        if (!Architectures.Contains(hp.Architecture))
            throw new NotSupportedException($"{file.Source}: architecture '{hp.Architecture}' is not supported yet (supported: {string.Join(", ", Architectures)})");
        int dim = hp.EmbeddingLength, q = hp.HeadCount * hp.KeyLength, kv = hp.HeadCountKv * hp.KeyLength, ffn = hp.FeedForwardLength;
        if (hp.KeyLength != hp.ValueLength)
            throw new GgufFormatException($"{file.Source}: key length {hp.KeyLength} differs from value length {hp.ValueLength}, which Llama models do not do");

        var embedding = Matrix(file, "token_embd.weight", dim, -1);
        int vocab = (int)embedding.Dimensions[1];
        if (hp.VocabSize != 0 && hp.VocabSize != vocab)
            throw new GgufFormatException($"{file.Source}: token_embd.weight has {vocab} rows but the vocabulary has {hp.VocabSize} tokens");
        var outputNorm = Vector(file, "output_norm.weight", dim);
        bool tied = !file.TensorsByName.ContainsKey("output.weight");
        var output = tied ? embedding : Matrix(file, "output.weight", dim, vocab);

        var blocks = new LlamaBlockTensors[hp.BlockCount];
        for (int i = 0; i < blocks.Length; i++)
        {
            string p = $"blk.{i}.";
            blocks[i] = new LlamaBlockTensors(
                Vector(file, p + "attn_norm.weight", dim),
                Matrix(file, p + "attn_q.weight", dim, q),
                Matrix(file, p + "attn_k.weight", dim, kv),
                Matrix(file, p + "attn_v.weight", dim, kv),
                Matrix(file, p + "attn_output.weight", q, dim),
                Vector(file, p + "ffn_norm.weight", dim),
                Matrix(file, p + "ffn_gate.weight", dim, ffn),
                Matrix(file, p + "ffn_up.weight", dim, ffn),
                Matrix(file, p + "ffn_down.weight", ffn, dim));
        }
        return new LlamaTensors(hp, embedding, outputNorm, output, tied, blocks);
    }

    static GgufTensorInfo Get(GgufFile file, string name) =>
        file.TensorsByName.TryGetValue(name, out var t)
            ? t
            : throw new GgufFormatException($"{file.Source}: tensor '{name}' is missing (incomplete or non-Llama model file; check with 'llcuda model info')");

    // rows = -1 accepts any row count (the vocabulary size is read from the embedding).
    static GgufTensorInfo Matrix(GgufFile file, string name, long cols, long rows)
    {
        var t = Get(file, name);
        if (t.Dimensions.Length != 2 || t.Dimensions[0] != cols || (rows >= 0 && t.Dimensions[1] != rows))
            throw new GgufFormatException($"{file.Source}: tensor '{name}' has shape {t.ShapeText}, expected [{cols}, {(rows >= 0 ? rows : "n_vocab")}]");
        if (!MatrixTypes.Contains(t.Type))
            throw new NotSupportedException($"{file.Source}: tensor '{name}' is {t.Type}, which llcuda cannot multiply yet (supported: {string.Join(", ", MatrixTypes)}); re-quantize with 'llcuda quantize'");
        return t;
    }

    static GgufTensorInfo Vector(GgufFile file, string name, long length)
    {
        var t = Get(file, name);
        if (t.ElementCount != length || t.Dimensions[0] != length)
            throw new GgufFormatException($"{file.Source}: tensor '{name}' has shape {t.ShapeText}, expected [{length}]");
        if (t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
            throw new NotSupportedException($"{file.Source}: norm tensor '{name}' is {t.Type}; expected F32, F16 or BF16");
        return t;
    }
}
