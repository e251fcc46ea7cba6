using System.Runtime.InteropServices;
using LLama.Native;
using LlCuda.Gguf;
using LlCuda.Tensors;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Tensors;

/// <summary>
/// A small random llama-architecture F32 model, written with GgufWriter (one per test class
/// run, in a temp folder): the input that <see cref="LlamaCppModelQuantizeTests"/> hands to
/// llama.cpp's model quantizer.
/// </summary>
public sealed class RandomLlamaF32Model : IDisposable
{
    // Every 2D tensor has rows of 256 or 512 floats, so every K-quant applies (no fallback to
    // another type) and the file stays small: about 3.7 MB.
    public const int Embd = 256, Ffn = 512, Vocab = 256, Layers = 1, Heads = 2;

    public string Directory { get; } = TestPaths.NewTempDir();
    public string Path { get; }

    public RandomLlamaF32Model()
    {
        Path = System.IO.Path.Combine(Directory, "random-llama-f32.gguf");
        var w = new GgufWriter();
        // What llama.cpp's loader needs to load the hyperparameters of a llama model; the
        // quantizer never loads a vocabulary, so none is written.
        w.Add("general.architecture", GgufValue.Of("llama"));
        w.Add("general.name", GgufValue.Of("llcuda random quant test"));
        w.Add("llama.context_length", GgufValue.Of(256u));
        w.Add("llama.embedding_length", GgufValue.Of((uint)Embd));
        w.Add("llama.block_count", GgufValue.Of((uint)Layers));
        w.Add("llama.feed_forward_length", GgufValue.Of((uint)Ffn));
        w.Add("llama.attention.head_count", GgufValue.Of((uint)Heads));
        w.Add("llama.attention.head_count_kv", GgufValue.Of((uint)Heads));
        w.Add("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(1e-5f));
        w.Add("general.file_type", GgufValue.Of(0u));

        int seed = 100;
        // Each weight tensor draws from a different distribution so the comparison covers the
        // quantizers' edge cases (zero, constant and one-sided blocks, ties, outliers).
        void Add(string name, long rowLength, long rows, string kind)
        {
            float[] data = QuantTestData.Make(kind, seed++, checked((int)(rowLength * rows)));
            long[] dims = rows == 1 ? [rowLength] : [rowLength, rows];
            w.AddTensor(name, GgmlType.F32, dims, MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        }

        Add("token_embd.weight", Embd, Vocab, "normal");
        for (int l = 0; l < Layers; l++)
        {
            Add($"blk.{l}.attn_norm.weight", Embd, 1, "uniform");
            Add($"blk.{l}.attn_q.weight", Embd, Embd, "edge");
            Add($"blk.{l}.attn_k.weight", Embd, Embd, "grid");
            Add($"blk.{l}.attn_v.weight", Embd, Embd, "sparse");
            Add($"blk.{l}.attn_output.weight", Embd, Embd, "outliers");
            Add($"blk.{l}.ffn_norm.weight", Embd, 1, "uniform");
            Add($"blk.{l}.ffn_gate.weight", Embd, Ffn, "large");
            Add($"blk.{l}.ffn_up.weight", Embd, Ffn, "uniform");
            Add($"blk.{l}.ffn_down.weight", Ffn, Embd, "normal");
        }
        Add("output_norm.weight", Embd, 1, "uniform");
        Add("output.weight", Embd, Vocab, "edge");
        w.Write(Path);
    }

    public void Dispose()
    {
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }
}

/// <summary>
/// The check against llama.cpp itself: quantize a GgufWriter-written F32 model with
/// llama_model_quantize (LLamaSharp 0.30.0, pure = every 2D tensor gets the requested type,
/// no imatrix), then require (a) our quantization of each F32 tensor to equal llama.cpp's
/// bytes and (b) our dequantization of llama.cpp's bytes to equal ggml's dequantize_row_*.
/// </summary>
public class LlamaCppModelQuantizeTests(RandomLlamaF32Model model) : IClassFixture<RandomLlamaF32Model>
{
    public static TheoryData<LLamaFtype, GgmlType> FileTypes => new()
    {
        { LLamaFtype.MOSTLY_F16, GgmlType.F16 },
        { LLamaFtype.MOSTLY_BF16, GgmlType.BF16 },
        { LLamaFtype.MOSTLY_Q4_0, GgmlType.Q4_0 },
        { LLamaFtype.MOSTLY_Q4_1, GgmlType.Q4_1 },
        { LLamaFtype.MOSTLY_Q5_0, GgmlType.Q5_0 },
        { LLamaFtype.MOSTLY_Q5_1, GgmlType.Q5_1 },
        { LLamaFtype.MOSTLY_Q8_0, GgmlType.Q8_0 },
        { LLamaFtype.MOSTLY_Q2_K, GgmlType.Q2_K },
        // With pure = true the K_M/K_S mixes collapse to their base type.
        { LLamaFtype.MOSTLY_Q3_K_M, GgmlType.Q3_K },
        { LLamaFtype.MOSTLY_Q4_K_M, GgmlType.Q4_K },
        { LLamaFtype.MOSTLY_Q5_K_M, GgmlType.Q5_K },
        { LLamaFtype.MOSTLY_Q6_K, GgmlType.Q6_K },
    };

    [Theory]
    [MemberData(nameof(FileTypes))]
    public void LlamaModelQuantize_RandomF32Model_OurBytesAndDequantMatchLlamaCpp(LLamaFtype ftype, GgmlType expectedType)
    {
        string quantPath = System.IO.Path.Combine(model.Directory, $"random-llama-{expectedType}.gguf");
        QuantizeWithLlamaCpp(model.Path, quantPath, ftype);

        using var f32 = GgufFile.Open(model.Path);
        using var quant = GgufFile.Open(quantPath);
        int quantized = 0;
        foreach (var t in quant.Tensors)
        {
            var source = f32.GetTensor(t.Name);
            if (source.Dimensions.Length == 1)
            {
                // Norm vectors stay F32 in every llama.cpp file type.
                Assert.Equal(GgmlType.F32, t.Type);
                continue;
            }
            Assert.True(t.Type == expectedType, $"{t.Name}: llama.cpp wrote {t.Type}, expected {expectedType} (pure)");
            quantized++;

            // (a) quantization, byte for byte.
            ReadOnlySpan<float> x = MemoryMarshal.Cast<byte, float>(f32.GetTensorData(source));
            ReadOnlySpan<byte> theirs = quant.GetTensorData(t);
            var ours = new byte[theirs.Length];
            Quantize.Row(t.Type, x, ours);
            int firstDiff = theirs.CommonPrefixLength(ours);
            Assert.True(firstDiff == theirs.Length,
                $"{t.Name} ({t.Type}): our bytes differ from llama.cpp's at byte {firstDiff} of {theirs.Length} " +
                $"(block {firstDiff / GgmlTypeInfo.BlockBytes(t.Type)})");

            // (b) dequantization of llama.cpp's bytes, bit for bit against ggml's own.
            if (t.Type is GgmlType.F16 or GgmlType.BF16) continue; // covered by the all-65536-values tests
            var mine = new float[x.Length];
            Dequantize.Row(t.Type, theirs, mine);
            float[] reference = GgmlReference.DequantizeRow(t.Type, theirs, x.Length);
            Assert.True(MemoryMarshal.AsBytes(mine.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(reference.AsSpan())),
                $"{t.Name} ({t.Type}): our dequantization differs from ggml's dequantize_row");
        }
        // token_embd, 4 attention, 3 feed-forward and output: 9 matrices per one-layer model.
        Assert.Equal(2 + 7 * RandomLlamaF32Model.Layers, quantized);
    }

    static void QuantizeWithLlamaCpp(string input, string output, LLamaFtype ftype)
    {
        uint rc;
        lock (LlamaCppReference.Gate)
        {
            // NativeApi's static constructor installs LLamaSharp's library resolver (CPU variant
            // selection); LLamaModelQuantizeParams.Default() alone does not trigger it.
            NativeApi.llama_empty_call();
            var p = LLamaModelQuantizeParams.Default();
            p.ftype = ftype;
            p.nthread = 1;
            p.pure = true;                   // no per-tensor type mixing: every matrix gets ftype's base type
            p.quantize_output_tensor = true; // output.weight too (llama.cpp skips it by default)
            p.allow_requantize = false;
            rc = NativeApi.llama_model_quantize(input, output, ref p);
        }
        Assert.True(rc == 0, $"llama_model_quantize({ftype}) returned {rc} for {input} (see llama.cpp's log above)");
    }
}
