using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Models.Quantization;
using LlCuda.Models.Synthesis;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda model synth [--preset P] [--dim --layers --heads --kv-heads --ffn --ctx]
/// --vocab-from VOCAB.gguf --type TYPE [--pure] [--std S] [--seed N] [--threads N] -o OUT.gguf [--json]`:
/// a Llama-architecture model with random weights of real shapes, for tests and benchmarks.
/// </summary>
internal static class ModelSynthCommand
{
    public static Command Create(CliConsole console)
    {
        var preset = new Option<string>("--preset") { Description = $"Model shape to start from: {string.Join(", ", SyntheticModelShape.Presets.Keys)}", DefaultValueFactory = _ => "tiny" }
            .AcceptOnlyFromAmong([.. SyntheticModelShape.Presets.Keys]);
        var dim = new Option<int?>("--dim") { Description = "Override the model width (embedding length)" };
        var layers = new Option<int?>("--layers") { Description = "Override the number of transformer blocks" };
        var heads = new Option<int?>("--heads") { Description = "Override the number of query heads" };
        var kvHeads = new Option<int?>("--kv-heads") { Description = "Override the number of key/value heads (grouped-query attention)" };
        var ffn = new Option<int?>("--ffn") { Description = "Override the feed-forward hidden width" };
        var ctx = new Option<int?>("--ctx") { Description = "Override the training context length" };
        var vocab = new Option<string>("--vocab-from") { Description = "GGUF whose vocabulary (tokenizer.* keys) the model gets; its token count sets n_vocab", Required = true };
        var type = new Option<string>("--type") { Description = $"Weight type: a llama.cpp file type (mixes follow llama.cpp's rules) or a bare K-quant: {string.Join(", ", QuantizationTarget.Names)}", Required = true };
        var pure = new Option<bool>("--pure") { Description = "Every matrix in the type's base type (no llama.cpp mix rules)" };
        var std = new Option<float>("--std") { Description = "Standard deviation of the random weights", DefaultValueFactory = _ => SyntheticModel.DefaultStd };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (same seed and shape, same weights)" };
        var threads = new Option<int>("--threads", "-t") { Description = "Worker threads (0 = one per core); the output does not depend on it" };
        var output = new Option<string>("--output", "-o") { Description = "Path of the GGUF file to write (written atomically)", Required = true };
        var json = CommonOptions.Json();
        var command = new Command("synth", "Write a Llama-architecture GGUF with random weights of real shapes (for tests and benchmarks)")
        {
            preset, dim, layers, heads, kvHeads, ffn, ctx, vocab, type, pure, std, seed, threads, output, json,
        };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var basis = SyntheticModelShape.Preset(r.GetValue(preset)!);
            var shape = basis with
            {
                EmbeddingLength = r.GetValue(dim) ?? basis.EmbeddingLength,
                BlockCount = r.GetValue(layers) ?? basis.BlockCount,
                HeadCount = r.GetValue(heads) ?? basis.HeadCount,
                HeadCountKv = r.GetValue(kvHeads) ?? basis.HeadCountKv,
                FeedForwardLength = r.GetValue(ffn) ?? basis.FeedForwardLength,
                ContextLength = r.GetValue(ctx) ?? basis.ContextLength,
            };
            Usage(shape.Validate);
            var target = QuantizationTarget.Parse(r.GetValue(type)!);
            float sigma = r.GetValue(std);
            if (!(sigma > 0 && float.IsFinite(sigma)))
                throw new UsageException($"--std {sigma.ToString(CultureInfo.InvariantCulture)} is out of range: expected a positive number such as 0.02");
            string vocabPath = r.GetValue(vocab)!;
            if (!File.Exists(vocabPath))
                throw new FileNotFoundException($"--vocab-from {vocabPath}: no such file (give a GGUF with a tokenizer, e.g. ../shared/vocab/ggml-vocab-llama-spm.gguf)", vocabPath);
            string outPath = r.GetValue(output)!;
            int threadCount = ModelWriteSupport.Threads(r.GetValue(threads));

            var result = ModelWriteSupport.Run(console, outPath, (progress, cancellation) => SyntheticModel.Write(outPath, new SyntheticModelOptions
            {
                Shape = shape,
                Target = target,
                Pure = r.GetValue(pure),
                VocabularyPath = vocabPath,
                Std = sigma,
                Seed = r.GetValue(seed),
                Threads = threadCount,
                Progress = progress,
                Cancellation = cancellation,
            }));
            if (result is null) return ModelWriteSupport.InterruptedExitCode;

            if (r.GetValue(json)) WriteJson(console.Out, outPath, r.GetValue(preset)!, shape, target, result);
            else
            {
                ModelWriteSupport.WriteFallbackNotes(console, result.Tensors);
                console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"wrote {outPath}: {shape.EmbeddingLength}x{shape.BlockCount} llama, {result.Parameters:N0} parameters, vocab {result.VocabularySize}, {target.Name} ({ModelWriteSupport.TypeCounts(result.Tensors)}), {ModelInfoCommand.Bytes(result.DataBytes)} in {ModelWriteSupport.Seconds(result.Seconds)} s"));
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    static void Usage(Action validate)
    {
        try { validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }

    static void WriteJson(TextWriter output, string path, string preset, SyntheticModelShape shape, QuantizationTarget target, SyntheticModelResult result)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("output", Path.GetFullPath(path));
            w.WriteString("preset", preset);
            w.WriteString("type", target.Name);
            w.WriteNumber("file_type", target.FileType);
            w.WriteStartObject("shape");
            w.WriteNumber("embedding_length", shape.EmbeddingLength);
            w.WriteNumber("block_count", shape.BlockCount);
            w.WriteNumber("head_count", shape.HeadCount);
            w.WriteNumber("head_count_kv", shape.HeadCountKv);
            w.WriteNumber("feed_forward_length", shape.FeedForwardLength);
            w.WriteNumber("context_length", shape.ContextLength);
            w.WriteNumber("vocab_size", result.VocabularySize);
            w.WriteEndObject();
            w.WriteNumber("parameters", result.Parameters);
            w.WriteNumber("data_bytes", result.DataBytes);
            w.WriteNumber("seconds", Math.Round(result.Seconds, 3));
            w.WriteNumber("fallbacks", result.Fallbacks.Count());
            ModelWriteSupport.WriteTensors(w, result.Tensors, withSource: false);
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
