using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Engine;
using LlCuda.Models.Llama;
using Spectre.Console;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda bench -m FILE [-p 512] [-n 128] [-r 3] [--threads N] [--engine E] [-o md|json]`:
/// llama-bench-style rows (model, size, params, backend, threads, test, t/s mean ± sd).
/// With `--parallel 1,4,8,...`: llama-batched-bench's rows instead, B requests of -p prompt and -n
/// generated tokens each through the serving engine at once, t/s = aggregate decode rate.
/// Model load is not timed; each test's first run is a warm-up.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var pp = new Option<int>("--n-prompt", "-p") { Description = "Prompt tokens of the pp test (0 = skip)", DefaultValueFactory = _ => 512 };
        var tg = new Option<int>("--n-gen", "-n") { Description = "Generated tokens of the tg test (0 = skip)", DefaultValueFactory = _ => 128 };
        var reps = new Option<int>("--repetitions", "-r") { Description = "Measured repetitions per test (after one warm-up)", DefaultValueFactory = _ => 3 };
        var format = new Option<string>("--output", "-o") { Description = "md (table) or json", DefaultValueFactory = _ => "md" }.AcceptOnlyFromAmong("md", "json");
        var parallel = new Option<string?>("--parallel", "-npl") { Description = "Comma-separated counts of concurrent sequences (e.g. 1,4,8,16): measure aggregate decode t/s through the serving engine, like llama-batched-bench" };
        var runner = RunnerCliOptions.Create();
        var command = new Command("bench", "Measure prompt processing and generation speed (like llama-bench)") { model, pp, tg, reps, format, parallel, json };
        runner.AddTo(command);
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            int nPrompt = r.GetValue(pp), nGen = r.GetValue(tg), repetitions = r.GetValue(reps);
            if (nPrompt < 0 || nGen < 0) throw new UsageException("-p and -n must be >= 0");
            if (repetitions < 1) throw new UsageException($"-r {repetitions} is out of range: expected at least 1");
            var options = runner.Read(r);
            int[] batches = ParseParallel(r.GetValue(parallel));
            // The cache must hold the longest test (every sequence of the largest batch).
            int longest = batches.Length > 0 ? nPrompt + nGen : Math.Max(Math.Max(nPrompt, nGen), 1);
            if (options.ContextLength <= 0) options = options with { ContextLength = -longest };
            if (batches.Length > 0)
            {
                if (nPrompt < 1 || nGen < 2) throw new UsageException("--parallel needs -p >= 1 and -n >= 2 (prompt and generated tokens per sequence)");
                options = options with { MaxSequences = batches.Max() };
            }
            string path = r.GetValue(model)!;
            var loaded = runner.Load(r, path, options);
            InferenceEngine? engine = null;
            var results = new List<ThroughputResult>();
            try
            {
                if (batches.Length > 0)
                {
                    // The engine owns the model from here and disposes it.
                    engine = new InferenceEngine(new EngineOptions { MaxSequences = batches.Max(), MaxTokensPerStep = Math.Max(512, batches.Max()), MaxQueuedRequests = batches.Max() });
                    engine.LoadModel(loaded);
                    foreach (int b in batches) results.Add(BatchedBenchmark.Run(engine, nPrompt, nGen, b, repetitions));
                }
                else
                {
                    if (nPrompt > 0) results.Add(ThroughputBenchmark.PromptProcessing(loaded.Runner, nPrompt, repetitions));
                    if (nGen > 0) results.Add(ThroughputBenchmark.TextGeneration(loaded.Runner, nGen, repetitions));
                }
            }
            catch
            {
                if (engine is null) loaded.Dispose();
                engine?.Dispose();
                throw;
            }

            var info = new BenchModelInfo(
                Path.GetFileName(path), loaded.File.Tensors.Sum(t => t.ByteSize), loaded.File.Tensors.Sum(t => t.ElementCount),
                loaded.Runner.BackendName, options.Threads > 0 ? options.Threads : Environment.ProcessorCount,
                // Measured after the tests: activation buffers and the prefill scratch are allocated on first use.
                loaded.Runner is LlamaCudaRunner gpu ? gpu.DeviceBytes : null, (loaded.Runner as LlamaCudaRunner)?.Device.Name);
            if (engine is not null) engine.Dispose(); else loaded.Dispose();
            if (r.GetValue(json) || r.GetValue(format) == "json") WriteJson(console.Out, info, results);
            else WriteTable(console, info, results);
            return ExitCodes.Success;
        }));
        return command;
    }

    static int[] ParseParallel(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return [];
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int b) || b < 1 || b > 4096)
                throw new UsageException($"--parallel '{text}': '{part}' is not a sequence count (expected numbers 1..4096 separated by commas, e.g. 1,4,8,16)");
            counts.Add(b);
        }
        return [.. counts];
    }

    /// <param name="VramBytes">Device memory the runner holds (weights, KV cache, buffers); null on the CPU.</param>
    sealed record BenchModelInfo(string Model, long Bytes, long Parameters, string Backend, int Threads, long? VramBytes, string? Gpu);

    static void WriteTable(CliConsole console, BenchModelInfo m, List<ThroughputResult> results)
    {
        var t = new Table().AddColumn("model").AddColumn(new TableColumn("size").RightAligned()).AddColumn(new TableColumn("params").RightAligned())
            .AddColumn("backend").AddColumn(new TableColumn("threads").RightAligned()).AddColumn(new TableColumn("test").RightAligned())
            .AddColumn(new TableColumn("t/s").RightAligned());
        if (m.VramBytes is not null) t.AddColumn(new TableColumn("vram").RightAligned());
        foreach (var r in results)
        {
            var cells = new List<string> { m.Model, ModelInfoCommand.Bytes(m.Bytes), $"{m.Parameters / 1e9:F2} B", m.Backend,
                m.VramBytes is null ? m.Threads.ToString(CultureInfo.InvariantCulture) : "-", r.Test,
                string.Create(CultureInfo.InvariantCulture, $"{r.Mean:F2} ± {r.StdDev:F2}") };
            if (m.VramBytes is { } vram) cells.Add(ModelInfoCommand.Bytes(vram));
            t.AddRow([.. cells]);
        }
        if (m.Gpu is not null) console.Error.WriteLine($"llcuda: ran on {m.Gpu}");
        console.Ui.Write(t);
    }

    static void WriteJson(TextWriter output, BenchModelInfo m, List<ThroughputResult> results)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            var pp = results.FirstOrDefault(x => x.Test.StartsWith("pp", StringComparison.Ordinal));
            var tg = results.FirstOrDefault(x => x.Test.StartsWith("tg", StringComparison.Ordinal));
            if (pp is not null) w.WriteNumber("pp_tps", Math.Round(pp.Mean, 3)); else w.WriteNull("pp_tps");
            if (tg is not null) w.WriteNumber("tg_tps", Math.Round(tg.Mean, 3)); else w.WriteNull("tg_tps");
            w.WriteStartArray("rows");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("model", m.Model);
                w.WriteNumber("size", m.Bytes);
                w.WriteNumber("params", m.Parameters);
                w.WriteString("backend", m.Backend);
                w.WriteNumber("threads", m.Threads);
                if (m.VramBytes is { } vram) w.WriteNumber("vram_bytes", vram); else w.WriteNull("vram_bytes");
                if (m.Gpu is not null) w.WriteString("gpu", m.Gpu);
                w.WriteString("test", r.Test);
                w.WriteNumber("tps_mean", Math.Round(r.Mean, 3));
                w.WriteNumber("tps_sd", Math.Round(r.StdDev, 3));
                w.WriteNumber("tps_median", Math.Round(r.Median, 3));
                w.WriteStartArray("samples");
                foreach (var s in r.TokensPerSecond) w.WriteNumberValue(Math.Round(s, 3));
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
