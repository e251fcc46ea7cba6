using System.Globalization;
using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Models.Quantization;

/// <summary>A tensor as the planner sees it: name, ggml dims (dims[0] is the row length) and current type.</summary>
public sealed record TensorDescriptor(string Name, long[] Dimensions, GgmlType Type)
{
    public long RowLength => Dimensions[0];
    public long RowCount => Dimensions.Skip(1).Aggregate(1L, (a, d) => a * d);
}

/// <summary>The type a tensor gets and why, if a shape forced a fallback.</summary>
public sealed record TensorPlan(TensorDescriptor Tensor, GgmlType TargetType, string? Fallback)
{
    public string Name => Tensor.Name;
    /// <summary>True when the data must be converted (false: copied byte for byte).</summary>
    public bool Converts => Tensor.Type != TargetType;
    /// <summary>Bytes of the tensor in its target type.</summary>
    public long TargetBytes => Tensor.RowCount * GgmlTypeInfo.RowBytes(TargetType, Tensor.RowLength);
}

/// <summary>What the type rules need to know about the model (llama_hparams as the quantizer reads them).</summary>
public sealed record QuantizationModelInfo(string Architecture, int LayerCount, int HeadCount, int HeadCountKv, int ExpertCount)
{
    /// <summary>Query heads per KV head (llama_hparams::n_gqa, 0 without KV heads).</summary>
    public int GqaRatio => HeadCountKv == 0 ? 0 : HeadCount / HeadCountKv;

    /// <summary>llama.cpp calls an 80-layer llama with grouped-query attention "70B" and gives its attn_v more bits.</summary>
    public bool IsLlama70B => Architecture == "llama" && LayerCount == 80 && HeadCount != HeadCountKv;

    /// <summary>Reads "{arch}.block_count", head counts and expert count; per-layer arrays use layer 0 as llama.cpp's n_gqa() does.</summary>
    public static QuantizationModelInfo FromMetadata(GgufMetadata metadata, string source)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        string arch = metadata.GetStringOrNull("general.architecture")
            ?? throw new GgufFormatException($"{source}: metadata key 'general.architecture' is missing (not a model file?)");
        int Int(string key, int fallback)
        {
            if (!metadata.TryGetValue($"{arch}.{key}", out var v)) return fallback;
            long x = v.Type == GgufValueType.Array ? FirstOf(v) : v.AsInt64();
            return x is >= 0 and <= int.MaxValue ? (int)x : throw new GgufFormatException($"{source}: metadata key '{arch}.{key}' is {x}, expected 0 to {int.MaxValue}");
        }
        int heads = Int("attention.head_count", 0);
        return new QuantizationModelInfo(arch, Int("block_count", 0), heads, Int("attention.head_count_kv", heads), Int("expert_count", 0));
    }

    static long FirstOf(GgufValue v) => v.Value is Array { Length: > 0 } a ? Convert.ToInt64(a.GetValue(0), CultureInfo.InvariantCulture) : 0;
}

/// <summary>
/// Chooses each tensor's type the way llama.cpp's quantizer does (src/llama-quant.cpp:
/// tensor_allows_quantization, llama_tensor_get_type, tensor_type_fallback), without an
/// importance matrix, for the file types <see cref="QuantizationTarget"/> accepts. Tensors are
/// visited in llama.cpp's order (non-block tensors, then block by block; by name within each),
/// because the attn_v and ffn_down rules count the tensors seen so far; that is also the order
/// llama.cpp writes them in.
/// </summary>
public static class TensorTypePlanner
{
    enum Category { TokenEmbedding, AttentionQ, AttentionV, AttentionK, AttentionQkv, AttentionKvB, AttentionOutput, FfnUp, FfnGate, FfnDown, Output, Other }

    // Substrings of 2D tensors llama.cpp never quantizes (small, or not matmul weights).
    static readonly string[] NeverQuantized =
    [
        "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
        "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
        "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
        "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
        ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    ];

    /// <summary>Plans every tensor; the result is in llama.cpp's processing (and writing) order.</summary>
    public static IReadOnlyList<TensorPlan> Plan(QuantizationModelInfo model, IEnumerable<TensorDescriptor> tensors, QuantizationTarget target, bool pure)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(target);
        var ordered = tensors.ToList();
        ordered.Sort(CompareLikeLlamaCpp);
        var state = new State(model, target, pure || target.AlwaysPure)
        {
            AttentionVCount = ordered.Count(t => IsAttentionVLike(CategoryOf(t.Name))),
            TiedEmbeddings = !ordered.Any(t => t.Name == "output.weight"),
        };
        return ordered.Select(state.Choose).ToList();
    }

    /// <summary>llama_model_loader's weight order: tensors outside blocks first, then by block number, then by name (bytewise).</summary>
    public static int CompareLikeLlamaCpp(TensorDescriptor a, TensorDescriptor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int la = BlockOf(a.Name), lb = BlockOf(b.Name);
        return la != lb ? la.CompareTo(lb) : string.CompareOrdinal(a.Name, b.Name);
    }

    // sscanf("blk.%d."): the block number, or -1 when the name is not a block tensor's.
    static int BlockOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return -1;
        int end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : -1;
    }

    static Category CategoryOf(string name)
    {
        if (name == "output.weight") return Category.Output;
        if (name is "token_embd.weight" or "per_layer_token_embd.weight") return Category.TokenEmbedding;
        if (name.Contains("attn_qkv.weight", StringComparison.Ordinal)) return Category.AttentionQkv;
        if (name.Contains("attn_kv_b.weight", StringComparison.Ordinal)) return Category.AttentionKvB;
        if (name.Contains("attn_v.weight", StringComparison.Ordinal)) return Category.AttentionV;
        if (name.Contains("attn_k.weight", StringComparison.Ordinal)) return Category.AttentionK;
        if (name.Contains("attn_q.weight", StringComparison.Ordinal)) return Category.AttentionQ;
        if (name.Contains("attn_output.weight", StringComparison.Ordinal)) return Category.AttentionOutput;
        if (name.Contains("ffn_up", StringComparison.Ordinal)) return Category.FfnUp;
        if (name.Contains("ffn_gate", StringComparison.Ordinal)) return Category.FfnGate;
        if (name.Contains("ffn_down", StringComparison.Ordinal)) return Category.FfnDown;
        return Category.Other;
    }

    // attn_v and the fused tensors that contain it are the most quantization-sensitive.
    static bool IsAttentionVLike(Category c) => c is Category.AttentionV or Category.AttentionQkv or Category.AttentionKvB;

    /// <summary>ggml_n_dims: trailing dimensions of size 1 do not count, so [4096, 1] is a vector.</summary>
    static int EffectiveDims(long[] dims)
    {
        for (int i = dims.Length - 1; i >= 1; i--)
            if (dims[i] > 1) return i + 1;
        return 1;
    }

    /// <summary>tensor_allows_quantization for llama.cpp's default parameters (output tensor quantized, nothing copied only).</summary>
    static bool AllowsQuantization(TensorDescriptor t)
    {
        if (EffectiveDims(t.Dimensions) < 2) return false;
        string name = t.Name;
        if (!name.EndsWith("weight", StringComparison.Ordinal)) return false;
        foreach (var s in NeverQuantized)
            if (name.Contains(s, StringComparison.Ordinal)) return false;
        // BERT's positional embeddings and token types.
        return name != "position_embd.weight" && name != "token_types.weight";
    }

    static bool UseMoreBits(int layer, int layers) => layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    sealed class State(QuantizationModelInfo model, QuantizationTarget target, bool pure)
    {
        public int AttentionVCount { get; init; }
        public bool TiedEmbeddings { get; init; }
        int _attentionV, _ffnDown;

        public TensorPlan Choose(TensorDescriptor t)
        {
            if (!AllowsQuantization(t)) return new TensorPlan(t, t.Type, null);
            GgmlType type = target.DefaultType;
            string? fallback = null;
            // Like llama.cpp, mixes and shape fallbacks apply only to block-quantized file types.
            if (target.IsQuantized)
            {
                if (!pure) type = Rules(t, type);
                (type, fallback) = Fallback(t, type);
            }
            return new TensorPlan(t, type, fallback);
        }

        // llama_tensor_get_type_impl, for the non-IQ file types.
        GgmlType Rules(TensorDescriptor t, GgmlType type)
        {
            string ft = target.Name;
            bool falcon = model.Architecture == "falcon";
            int experts = model.ExpertCount;
            var category = CategoryOf(t.Name);

            if (category == Category.Output || (TiedEmbeddings && category == Category.TokenEmbedding))
            {
                // The output projection (or an embedding that doubles as it) gets Q6_K unless Q8_0 was asked for.
                if (falcon || t.RowLength % GgmlTypeInfo.BlockSize(type) != 0) return GgmlType.Q8_0;
                return type != GgmlType.Q8_0 ? GgmlType.Q6_K : type;
            }
            if (category == Category.TokenEmbedding) return type; // rules exist only for IQ/TQ file types
            if (IsAttentionVLike(category))
            {
                int i = _attentionV++;
                if (ft == "Q2_K") type = model.GqaRatio >= 4 ? GgmlType.Q4_K : GgmlType.Q3_K;
                else if (ft == "Q3_K_M") type = i < 2 ? GgmlType.Q5_K : GgmlType.Q4_K;
                else if (ft == "Q3_K_L") type = GgmlType.Q5_K;
                else if (ft is "Q4_K_M" or "Q5_K_M" && UseMoreBits(i, AttentionVCount)) type = GgmlType.Q6_K;
                else if (ft == "Q4_K_S" && i < 4) type = GgmlType.Q5_K;
                if (model.IsLlama70B && type is GgmlType.Q3_K or GgmlType.Q4_K) type = GgmlType.Q5_K;
                if (experts == 8) type = GgmlType.Q8_0;
                return type;
            }
            if (category == Category.AttentionK) return experts == 8 ? GgmlType.Q8_0 : type;
            if (category == Category.FfnDown)
            {
                var (layer, layers) = LayerOf(t.Name, _ffnDown++);
                if (ft == "Q2_K") return GgmlType.Q3_K;
                if (ft == "Q3_K_M")
                    return layer < layers / 16 ? GgmlType.Q5_K : !falcon || UseMoreBits(layer, layers) ? GgmlType.Q4_K : GgmlType.Q3_K;
                if (ft == "Q3_K_L") return falcon ? GgmlType.Q4_K : GgmlType.Q5_K;
                if (ft == "Q4_K_M")
                {
                    if (falcon) return layer < layers / 16 ? GgmlType.Q6_K : UseMoreBits(layer, layers) ? GgmlType.Q5_K : GgmlType.Q4_K;
                    return UseMoreBits(layer, layers) ? GgmlType.Q6_K : type;
                }
                if (ft == "Q5_K_M" && UseMoreBits(layer, layers)) return GgmlType.Q6_K;
                if (ft == "Q4_K_S" && !falcon && layer < layers / 8) return GgmlType.Q5_K;
                return type;
            }
            if (category == Category.AttentionOutput)
            {
                if (falcon) return ft == "Q3_K_L" ? GgmlType.Q4_K : type;
                if (experts == 8) return ft is "Q2_K" or "Q3_K_S" or "Q3_K_M" or "Q4_K_S" or "Q4_K_M" ? GgmlType.Q5_K : type;
                return ft switch { "Q2_K" => GgmlType.Q3_K, "Q3_K_M" => GgmlType.Q4_K, "Q3_K_L" => GgmlType.Q5_K, _ => type };
            }
            // attn_q, ffn_gate and ffn_up have rules only for IQ file types.
            return type;
        }

        // Dense models: the ffn_down counter is the layer. Mixture-of-experts files interleave
        // experts, so llama.cpp reads the layer from the name there.
        (int Layer, int Layers) LayerOf(string name, int counter)
        {
            if (model.ExpertCount <= 1) return (counter, model.LayerCount);
            int layer = BlockOf(name);
            if (layer < 0 || layer >= model.LayerCount)
                throw new GgufFormatException($"tensor '{name}': cannot tell its block (expected blk.N. with N below {model.LayerCount})");
            return (layer, model.LayerCount);
        }

        // tensor_type_fallback: a row length the type's block does not divide gets a related
        // 32-element type, or F16 when even that does not fit.
        static (GgmlType Type, string? Why) Fallback(TensorDescriptor t, GgmlType type)
        {
            long n = t.RowLength;
            int block = GgmlTypeInfo.BlockSize(type);
            if (n % block == 0) return (type, null);
            GgmlType to = type switch
            {
                GgmlType.Q2_K or GgmlType.Q3_K => GgmlType.Q4_0,
                GgmlType.Q4_K => GgmlType.Q5_0,
                GgmlType.Q5_K => GgmlType.Q5_1,
                GgmlType.Q6_K => GgmlType.Q8_0,
                _ => throw new NotSupportedException($"tensor '{t.Name}': row length {n} is not a multiple of {type}'s block size {block} and {type} has no fallback type (llama.cpp refuses it too); choose F16 or a K-quant"),
            };
            if (n % GgmlTypeInfo.BlockSize(to) != 0) to = GgmlType.F16;
            return (to, $"row length {n} is not a multiple of {block} (required by {type}): {to} instead");
        }
    }
}
