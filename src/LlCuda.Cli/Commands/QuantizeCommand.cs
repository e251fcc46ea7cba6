using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Gguf;
using LlCuda.Models.Quantization;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda quantize IN.gguf OUT.gguf TYPE [--threads N] [--pure] [--json]`: re-quantizes a model
/// to one of llama.cpp's file types (Q4_K_M, Q4_0, Q6_K ...), choosing each tensor's type as
/// llama-quantize does, or to one bare type with --pure.
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create(CliConsole console)
    {
        var input = new Argument<string>("input") { Description = "GGUF model to read (F32, F16, BF16 or quantized)" };
        var output = new Argument<string>("output") { Description = "GGUF file to write (written atomically)" };
        var type = new Argument<string>("type") { Description = $"Target: {string.Join(", ", QuantizationTarget.Names)}" };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (0 = one per core); the output does not depend on it" };
        var pure = new Option<bool>("--pure") { Description = "Every matrix in the type's base type (no llama.cpp mix rules)" };
        var json = CommonOptions.Json();
        var command = new Command("quantize", "Re-quantize a GGUF model (llama.cpp's file types and per-tensor mixes: Q4_K_M, Q5_K_M, Q6_K, Q4_0 ...)")
        {
            input, output, type, threads, pure, json,
        };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var target = QuantizationTarget.Parse(r.GetValue(type)!);
            int threadCount = ModelWriteSupport.Threads(r.GetValue(threads));
            string inPath = r.GetValue(input)!, outPath = r.GetValue(output)!;
            var result = ModelWriteSupport.Run(console, outPath, (progress, cancellation) => ModelQuantizer.Quantize(inPath, outPath, new ModelQuantizeOptions
            {
                Target = target,
                Pure = r.GetValue(pure),
                Threads = threadCount,
                Progress = progress,
                Cancellation = cancellation,
            }));
            if (result is null) return ModelWriteSupport.InterruptedExitCode;

            if (r.GetValue(json)) WriteJson(console.Out, inPath, outPath, target, result);
            else
            {
                ModelWriteSupport.WriteFallbackNotes(console, result.Tensors);
                int converted = result.Tensors.Count(t => t.Converts);
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {outPath}: {target.Name} ({ModelWriteSupport.TypeCounts(result.Tensors)}), {converted} of {result.Tensors.Count} tensors converted, {ModelInfoCommand.Bytes(result.InputBytes)} -> {ModelInfoCommand.Bytes(result.OutputBytes)} ({result.OutputBitsPerWeight:F2} bpw) in {ModelWriteSupport.Seconds(result.Seconds)} s"));
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    static void WriteJson(TextWriter output, string inPath, string outPath, QuantizationTarget target, ModelQuantizeResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("input", Path.GetFullPath(inPath));
            w.WriteString("output", Path.GetFullPath(outPath));
            w.WriteString("type", target.Name);
            w.WriteNumber("file_type", target.FileType);
            w.WriteString("file_type_name", GgufFileType.Name(target.FileType));
            w.WriteNumber("parameters", result.Parameters);
            w.WriteNumber("input_bytes", result.InputBytes);
            w.WriteNumber("output_bytes", result.OutputBytes);
            w.WriteNumber("bits_per_weight", Math.Round(result.OutputBitsPerWeight, 4));
            w.WriteNumber("seconds", Math.Round(result.Seconds, 3));
            w.WriteNumber("fallbacks", result.Fallbacks.Count());
            ModelWriteSupport.WriteTensors(w, result.Tensors, withSource: true);
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
