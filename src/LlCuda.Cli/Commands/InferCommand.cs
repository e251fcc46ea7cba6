using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Engine;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda infer -m FILE -p PROMPT [-n N] [sampling] [--threads N] [--ctx N] [--engine E] [--json]`:
/// generates text, streaming it to stdout as tokens arrive; prompt and generation statistics go
/// to stderr. With --json, exactly one object on stdout instead.
/// </summary>
internal static class InferCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Prompt text (\"\" = start from BOS alone)", Required = true };
        var count = new Option<int>("--n-predict", "-n") { Description = "Tokens to generate (-1 = until the context is full)", DefaultValueFactory = _ => 128 };
        var stop = new Option<string[]>("--stop") { Description = "Stop when the text contains this string (repeatable)", AllowMultipleArgumentsPerToken = false };
        var special = new Option<bool>("--special") { Description = "Parse special-token text in the prompt (e.g. <|im_start|>)" };
        var sampling = SamplingCliOptions.Create();
        var runner = RunnerCliOptions.Create();
        var command = new Command("infer", "Generate text from a prompt") { model, prompt, count, stop, special, json };
        sampling.AddTo(command);
        runner.AddTo(command);
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var request = new GenerationRequest
            {
                Prompt = r.GetValue(prompt)!,
                MaxTokens = r.GetValue(count),
                Sampling = sampling.Read(r),
                Stop = r.GetValue(stop) ?? [],
                ParseSpecial = r.GetValue(special),
            };
            Validate(request.Validate);
            var runnerOptions = runner.Read(r);
            using var loaded = runner.Load(r, r.GetValue(model)!, runnerOptions);
            var generator = new TextGenerator(loaded.Runner, loaded.Tokenizer);
            bool asJson = r.GetValue(json);
            GenerationResult result;
            try
            {
                result = generator.Generate(request, asJson ? null : text => { console.Out.Write(text); console.Out.Flush(); });
            }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            if (asJson) WriteJson(console.Out, result, loaded.LoadMilliseconds);
            else
            {
                console.Out.WriteLine();
                console.Out.Flush();
                var t = result.Timings;
                console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"llcuda: {loaded.Runner.BackendName}, load {loaded.LoadMilliseconds:F0} ms | prompt {t.PromptTokens} tokens, {t.PromptMs:F1} ms, {t.PromptTokensPerSecond:F1} tok/s | first token {t.TimeToFirstTokenMs:F1} ms | generated {result.Tokens.Length} tokens, {t.GenerationTokensPerSecond:F1} tok/s | finish: {result.FinishReason}"));
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    static void Validate(Action validate)
    {
        try { validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
    }

    static void WriteJson(TextWriter output, GenerationResult r, double loadMs)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteStartArray("prompt_tokens");
            foreach (int id in r.PromptTokens) w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            foreach (int id in r.Tokens) w.WriteNumberValue(id);
            w.WriteEndArray();
            w.WriteString("text", r.Text);
            w.WriteString("finish_reason", r.FinishReason);
            w.WriteStartObject("timings");
            w.WriteNumber("load_ms", Math.Round(loadMs, 3));
            w.WriteNumber("prompt_ms", Math.Round(r.Timings.PromptMs, 3));
            w.WriteNumber("ttft_ms", Math.Round(r.Timings.TimeToFirstTokenMs, 3));
            w.WriteNumber("gen_ms", Math.Round(r.Timings.GenerationMs, 3));
            w.WriteNumber("prompt_tps", Math.Round(r.Timings.PromptTokensPerSecond, 3));
            w.WriteNumber("gen_tps", Math.Round(r.Timings.GenerationTokensPerSecond, 3));
            w.WriteEndObject();
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
