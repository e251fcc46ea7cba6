using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Fuzz;

/// <summary>
/// Small valid GGUF files (a few KB, under AFL's size limits) that start a fuzzing corpus:
/// every metadata value type, nested arrays, a tiny vocabulary and tensors of several types.
/// </summary>
public static class SeedCorpus
{
    public static void Write(string dir)
    {
        Directory.CreateDirectory(dir);
        Save(Path.Combine(dir, "tiny-model.gguf"), TinyModel(alignment: 32));
        Save(Path.Combine(dir, "tiny-model-align64.gguf"), TinyModel(alignment: 64));
        var values = new GgufWriter();
        values.Add("u8", GgufValue.Of((byte)1));
        values.Add("i16", GgufValue.Of((short)-2));
        values.Add("f64", GgufValue.Of(2.5));
        values.Add("b", GgufValue.Of(true));
        values.Add("u64s", GgufValue.Of(new ulong[] { 1, 2 }));
        values.Add("nested", GgufValue.Of(new[] { GgufValue.Of(new[] { "a", "b" }), GgufValue.Of(new[] { 1.0f }) }));
        Save(Path.Combine(dir, "values.gguf"), values);
    }

    static GgufWriter TinyModel(uint alignment)
    {
        var w = new GgufWriter(alignment);
        w.Add("general.architecture", GgufValue.Of("llama"));
        w.Add("llama.context_length", GgufValue.Of(64u));
        w.Add("llama.embedding_length", GgufValue.Of(32u));
        w.Add("llama.block_count", GgufValue.Of(1u));
        w.Add("llama.feed_forward_length", GgufValue.Of(64u));
        w.Add("llama.attention.head_count", GgufValue.Of(4u));
        w.Add("llama.attention.head_count_kv", GgufValue.Of(2u));
        w.Add("tokenizer.ggml.model", GgufValue.Of("llama"));
        string[] tokens = ["<unk>", "<s>", "</s>", "<0x0A>", "▁a", "▁b", "a", "b"];
        w.Add("tokenizer.ggml.tokens", GgufValue.Of(tokens));
        w.Add("tokenizer.ggml.scores", GgufValue.Of(tokens.Select((_, i) => -(float)i).ToArray()));
        w.Add("tokenizer.ggml.token_type", GgufValue.Of(new[] { 2, 3, 3, 6, 1, 1, 1, 1 }));
        w.AddTensor("token_embd.weight", GgmlType.F32, [32, 8], new byte[32 * 8 * 4]);
        w.AddTensor("blk.0.attn_q.weight", GgmlType.Q8_0, [32, 32], new byte[34 * 32]);
        w.AddTensor("blk.0.ffn_up.weight", GgmlType.F16, [32, 2], new byte[32 * 2 * 2]);
        return w;
    }

    static void Save(string path, GgufWriter w) => w.Write(path);
}
