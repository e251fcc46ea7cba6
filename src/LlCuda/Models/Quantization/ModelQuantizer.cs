using System.Diagnostics;
using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Models.Quantization;

/// <summary>Options of <see cref="ModelQuantizer.Quantize"/>.</summary>
public sealed record ModelQuantizeOptions
{
    /// <summary>File type or bare tensor type to convert to.</summary>
    public required QuantizationTarget Target { get; init; }
    /// <summary>Every matrix gets the target's default type: no mix rules (shape fallbacks still apply), as llama-quantize --pure.</summary>
    public bool Pure { get; init; }
    /// <summary>Worker threads (0 = one per core).</summary>
    public int Threads { get; init; }
    /// <summary>Called on the writing thread as data is written.</summary>
    public Action<ModelWriteProgress>? Progress { get; init; }
    public CancellationToken Cancellation { get; init; }
}

/// <summary>What a quantization did.</summary>
/// <param name="Tensors">Every tensor's plan, in file order.</param>
/// <param name="InputBytes">Tensor data bytes of the input.</param>
/// <param name="OutputBytes">Tensor data bytes of the output.</param>
/// <param name="Parameters">Elements of all tensors.</param>
public sealed record ModelQuantizeResult(IReadOnlyList<TensorPlan> Tensors, long InputBytes, long OutputBytes, long Parameters, double Seconds)
{
    public IEnumerable<TensorPlan> Fallbacks => Tensors.Where(t => t.Fallback is not null);
    public double OutputBitsPerWeight => Parameters == 0 ? 0 : OutputBytes * 8.0 / Parameters;
}

/// <summary>
/// Re-quantizes a GGUF model to one file type, as llama.cpp's llama_model_quantize does without
/// an importance matrix: same per-tensor types, same bytes (the quantizers are bit-exact), same
/// tensor order and metadata (all keys copied; general.quantization_version and
/// general.file_type re-set at the end; split keys dropped). Quantized inputs are dequantized
/// first (llama.cpp needs --allow-requantize for that); tensors already in their target type are
/// copied untouched. The input is memory-mapped and the output streamed, so memory stays at a
/// few batch buffers whatever the model size; the output appears atomically.
/// </summary>
public static class ModelQuantizer
{
    /// <summary>ggml's GGML_QNT_VERSION: the quantized block layouts' version.</summary>
    public const uint QuantizationVersion = 2;

    // Keys of split models that a single output file must not carry.
    static readonly string[] SplitKeys = ["split.no", "split.count", "split.tensors.count"];

    public static ModelQuantizeResult Quantize(string inputPath, string outputPath, ModelQuantizeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        using var input = GgufFile.Open(inputPath);
        var model = QuantizationModelInfo.FromMetadata(input.Metadata, input.Source);
        if (input.Tensors.Count == 0)
            throw new GgufFormatException($"{input.Source}: the file has no tensors (a vocabulary-only file?); there is nothing to quantize");
        var plans = TensorTypePlanner.Plan(model, input.Tensors.Select(t => new TensorDescriptor(t.Name, t.Dimensions, t.Type)), options.Target, options.Pure);
        CheckConvertible(input.Source, plans);

        var writer = new GgufWriter(input.Alignment);
        foreach (var (key, value) in input.Metadata)
        {
            if (key is "general.alignment" || key is "general.quantization_version" or "general.file_type" || SplitKeys.Contains(key)) continue;
            writer.Add(key, value);
        }
        // llama.cpp removes and re-appends these two, so they end the metadata.
        writer.Add("general.quantization_version", GgufValue.Of(QuantizationVersion));
        writer.Add("general.file_type", GgufValue.Of((uint)options.Target.FileType));

        long outputBytes = plans.Sum(p => p.TargetBytes);
        var sink = new StreamingTensorSink(writer, plans.Count, outputBytes, options.Threads, options.Progress, options.Cancellation);
        foreach (var plan in plans)
        {
            var info = input.GetTensor(plan.Name);
            if (!plan.Converts)
            {
                sink.AddCopied(plan, (first, count, s) => s.Write(input.GetTensorRows(info, first, count)));
                continue;
            }
            sink.AddConverted(plan, (first, count, dst) =>
            {
                var src = input.GetTensorRows(info, first, count);
                long rowBytes = src.Length / count;
                int n = (int)info.RowLength;
                for (int r = 0; r < count; r++)
                    Dequantize.Row(info.Type, src.Slice((int)(r * rowBytes), (int)rowBytes), dst.Slice(r * n, n));
            });
        }
        writer.Write(outputPath);
        return new ModelQuantizeResult(plans, input.Tensors.Sum(t => t.ByteSize), outputBytes, input.Tensors.Sum(t => t.ElementCount), clock.Elapsed.TotalSeconds);
    }

    /// <summary>Fails before anything is written when a conversion cannot be done.</summary>
    internal static void CheckConvertible(string source, IReadOnlyList<TensorPlan> plans)
    {
        foreach (var p in plans.Where(p => p.Converts))
        {
            if (!Dequantize.Supports(p.Tensor.Type))
                throw new NotSupportedException($"{source}: tensor '{p.Name}' is {p.Tensor.Type}, which llcuda cannot read yet (supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K)");
            if (!LlCuda.Tensors.Quantize.Supports(p.TargetType))
                throw new NotSupportedException($"{source}: tensor '{p.Name}' would need type {p.TargetType}, which llcuda cannot write yet");
        }
    }
}
