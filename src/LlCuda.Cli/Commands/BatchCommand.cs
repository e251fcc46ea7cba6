using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Engine;
using Spectre.Console;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda batch -m FILE -i prompts.jsonl -o results.jsonl [--concurrency N] [sampling] [--json]`:
/// runs every request of a JSON Lines file through the serving engine (continuous batching),
/// appending one result line per request as it finishes. Re-running the same command resumes:
/// ids already in the output are skipped. Bad lines are reported with their line numbers and
/// skipped; the rest still run.
/// </summary>
/// <remarks>
/// The input is streamed and at most --concurrency requests are submitted at a time, in input
/// order, so memory does not grow with the input (beyond one set of ids, to find duplicates).
/// </remarks>
internal static class BatchCommand
{
    public static Command Create(CliConsole console)
    {
        var model = CommonOptions.Model();
        var json = new Option<bool>("--json") { Description = "Print the final summary as one JSON object on stdout (for scripts)" };
        var input = new Option<string>("--input", "-i")
        {
            Description = $"JSON Lines file of requests, one {{\"id\": string or number, \"prompt\": \"...\"}} per line, optionally with {BatchInput.FieldHelp}; blank lines and other fields are ignored",
            Required = true,
        };
        var output = new Option<string>("--output", "-o")
        {
            Description = "JSON Lines file the results are appended to, one {\"id\", \"text\", \"tokens\", \"prompt_tokens\", \"ttft_ms\", \"latency_ms\", \"finish_reason\"} per line; ids already in it are skipped (resume)",
            Required = true,
        };
        int defaultConcurrency = new EngineOptions().MaxSequences;
        var concurrency = new Option<int>("--concurrency") { Description = "Requests in flight at once (sequences the engine batches together)", DefaultValueFactory = _ => defaultConcurrency };
        var count = new Option<int>("--n-predict", "-n") { Description = "Tokens to generate per request unless its line gives max_tokens (-1 = until the context is full)", DefaultValueFactory = _ => 128 };
        var stop = new Option<string[]>("--stop") { Description = "Stop when the text contains this string, unless the line gives \"stop\" (repeatable)", AllowMultipleArgumentsPerToken = false };
        var special = new Option<bool>("--special") { Description = "Parse special-token text in the prompts (e.g. <|im_start|>)" };
        var sampling = SamplingCliOptions.Create();
        var runner = RunnerCliOptions.Create();
        var command = new Command("batch", "Run a JSON Lines file of prompts through the batching engine, resumably") { model, input, output, concurrency, count, stop, special, json };
        sampling.AddTo(command);
        runner.AddTo(command);
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            int n = r.GetValue(concurrency);
            if (n < 1) throw new UsageException($"--concurrency {n} is out of range: expected 1 or more requests in flight");
            var samplingOptions = sampling.Read(r);
            var defaults = new InferRequest
            {
                MaxTokens = r.GetValue(count),
                Temperature = samplingOptions.Temperature,
                TopK = samplingOptions.TopK,
                TopP = samplingOptions.TopP,
                MinP = samplingOptions.MinP,
                RepeatPenalty = samplingOptions.RepeatPenalty,
                FrequencyPenalty = samplingOptions.FrequencyPenalty,
                PresencePenalty = samplingOptions.PresencePenalty,
                PenaltyWindow = samplingOptions.PenaltyWindow,
                Seed = samplingOptions.Seed,
                Stop = r.GetValue(stop) ?? [],
                ParseSpecial = r.GetValue(special),
            };
            try { defaults.ToGeneration(); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
            var job = new BatchJob(console, r.GetValue(input)!, r.GetValue(output)!, n, defaults, r.GetValue(json));
            try
            {
                return job.Run(() =>
                {
                    var options = runner.Read(r) with { MaxSequences = n, KvBlockSize = new EngineOptions().KvBlockSize };
                    return runner.Load(r, r.GetValue(model)!, options);
                });
            }
            catch (BatchFileException e)
            {
                console.WriteError(e.Message);
                return e.ExitCode;
            }
        }));
        return command;
    }
}

/// <summary>One run of `llcuda batch`: the files, the engine, the counters and the report.</summary>
internal sealed class BatchJob(CliConsole console, string inputPath, string outputPath, int concurrency, InferRequest defaults, bool json)
{
    readonly Lock _report = new();
    readonly Stopwatch _clock = new();
    IAnsiConsole? _ui;   // the progress bar's console while it is shown: messages go through it
    int _lines, _done, _skipped, _bad, _failed, _interrupted;
    long _tokens, _promptTokens;
    (string Message, int ExitCode)? _fatal;   // the input or the results file failed: the run stopped

    public int Run(Func<LoadedModel> load)
    {
        if (Path.GetFullPath(inputPath) == Path.GetFullPath(outputPath))
            throw new BatchFileException($"-i and -o are the same file ({inputPath}); write the results to another file", ExitCodes.Usage);
        using var input = OpenInput();
        using var results = BatchResults.Open(outputPath, Note);
        if (results.Done.Count > 0)
            Note($"llcuda: batch: {outputPath} already holds {results.Done.Count} results; their ids are skipped");

        // The queue never holds more than the requests this command keeps in flight.
        var engine = new InferenceEngine(new EngineOptions
        {
            MaxSequences = concurrency,
            MaxTokensPerStep = Math.Max(new EngineOptions().MaxTokensPerStep, concurrency),
            MaxQueuedRequests = concurrency,
        });
        try { engine.LoadModel(load()); }
        catch
        {
            engine.Dispose();
            if (results.Created)
            {
                // Nothing ran: leave no empty results file behind.
                results.Dispose();
                File.Delete(outputPath);
            }
            throw;
        }

        // The first signal stops cleanly (results so far are kept); a second one kills.
        using var stop = new InterruptSignals();
        using (engine)
        {
            _clock.Start();
            if (StderrIsTerminal()) WithProgress(() => Feed(input, results, engine, stop));
            else Feed(input, results, engine, stop).GetAwaiter().GetResult();
            _clock.Stop();
        }

        Summarize();
        if (_fatal is { } fatal)
        {
            console.WriteError(fatal.Message);
            return fatal.ExitCode;
        }
        if (_interrupted > 0 || stop.Interrupted)
        {
            console.WriteError($"interrupted; {_interrupted} requests in flight were stopped. Run the same command again to resume");
            return ModelWriteSupport.InterruptedExitCode;
        }
        return _bad + _failed > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;
    }

    FileStream OpenInput()
    {
        if (Directory.Exists(inputPath))
            throw new BatchFileException($"{inputPath} is a directory; give -i a JSON Lines file of requests", ExitCodes.NoInput);
        if (!File.Exists(inputPath))
            throw new BatchFileException($"{inputPath}: no such file; give -i a JSON Lines file with one {{\"id\": ..., \"prompt\": \"...\"}} per line", ExitCodes.NoInput);
        try { return new FileStream(inputPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan); }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new BatchFileException($"{inputPath}: cannot be read ({e.Message}); check its permissions", ExitCodes.NoInput);
        }
    }

    // Streams the input and keeps `concurrency` requests in flight, submitted in input order.
    async Task Feed(FileStream input, BatchResults results, InferenceEngine engine, InterruptSignals stop)
    {
        var reader = new ByteLineReader(input);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal); // id key -> line it first appeared on
        using var slots = new SemaphoreSlim(concurrency);
        try
        {
            while (reader.TryRead(out var line))
            {
                if (line.IsBlank) continue;
                Interlocked.Increment(ref _lines);
                if (!BatchInput.TryParse(line.Bytes, line.Number, defaults, out var item, out string error))
                {
                    Bad(line.Number, error);
                    continue;
                }
                if (seen.TryGetValue(item!.Id.Key, out int first))
                {
                    Bad(line.Number, $"id {item.Id.Json} repeats the id of line {first}; ids must be unique (the first is kept, this line is skipped)");
                    continue;
                }
                seen.Add(item.Id.Key, line.Number);
                if (results.Done.Contains(item.Id.Key))
                {
                    Interlocked.Increment(ref _skipped);
                    continue;
                }
                await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                if (stop.Interrupted)
                {
                    // A slot freed as the stop came: submit nothing more.
                    slots.Release();
                    break;
                }
                _ = RunOne(item, results, engine, slots, stop);
            }
        }
        catch (OperationCanceledException) when (stop.Interrupted) { }
        catch (IOException e)
        {
            stop.Cancel();
            lock (_report) _fatal ??= ($"{inputPath}: reading failed after line {reader.LinesRead} ({e.Message}); run the same command again to resume", ExitCodes.NoInput);
        }
        // Every slot back: every request submitted has finished, failed or been stopped.
        for (int i = 0; i < concurrency; i++) await slots.WaitAsync().ConfigureAwait(false);
    }

    async Task RunOne(BatchItem item, BatchResults results, InferenceEngine engine, SemaphoreSlim slots, InterruptSignals stop)
    {
        try
        {
            // InferAsync submits before its first await, so requests enter the engine in input order.
            var response = await engine.InferAsync(item.Request, stop.Token).ConfigureAwait(false);
            results.Write(item.Id, response);
            Interlocked.Add(ref _tokens, response.CompletionTokens);
            Interlocked.Add(ref _promptTokens, response.PromptTokens);
            Interlocked.Increment(ref _done);
        }
        catch (OperationCanceledException) when (stop.Interrupted)
        {
            Interlocked.Increment(ref _interrupted);
        }
        catch (IOException e)
        {
            // The results file cannot take more: stop feeding rather than run requests whose results would be lost.
            lock (_report) _fatal ??= (e.Message, ExitCodes.CannotWrite);
            Interlocked.Increment(ref _failed);
            stop.Cancel();
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _failed);
            Note($"{inputPath}:{item.Line}: id {item.Id.Json} failed: {e.Message}");
        }
        finally
        {
            slots.Release();
        }
    }

    void Bad(int line, string error)
    {
        Interlocked.Increment(ref _bad);
        Note($"{inputPath}:{line}: {error}");
    }

    /// <summary>A line on stderr (above the progress bar while it is shown).</summary>
    void Note(string message)
    {
        lock (_report)
        {
            if (_ui is { } ui) ui.WriteLine(message);
            else console.Error.WriteLine(message);
        }
    }

    // Only the process's own stderr can be a terminal; tests capture it in a StringWriter.
    bool StderrIsTerminal() => ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;

    void WithProgress(Func<Task> feed)
    {
        int total = ByteLineReader.CountNonBlank(inputPath);
        var ui = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        lock (_report) _ui = ui;
        try
        {
            ui.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async ctx =>
                {
                    var task = ctx.AddTask("batch", maxValue: Math.Max(1, total));
                    var work = feed();
                    while (!work.IsCompleted)
                    {
                        Update(task, total);
                        await Task.WhenAny(work, Task.Delay(250)).ConfigureAwait(false);
                    }
                    Update(task, total);
                    await work.ConfigureAwait(false);
                }).GetAwaiter().GetResult();
        }
        finally
        {
            lock (_report) _ui = null;
        }
    }

    void Update(ProgressTask task, int total)
    {
        int finished = Volatile.Read(ref _done) + Volatile.Read(ref _skipped) + Volatile.Read(ref _bad) + Volatile.Read(ref _failed);
        task.Value = finished;
        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{finished}/{total} | {TokensPerSecond:F1} tok/s"));
    }

    double TokensPerSecond => _clock.Elapsed.TotalSeconds > 0 ? Interlocked.Read(ref _tokens) / _clock.Elapsed.TotalSeconds : 0;

    void Summarize()
    {
        if (json)
        {
            using var stream = new MemoryStream();
            using (var w = new Utf8JsonWriter(stream))
            {
                w.WriteStartObject();
                w.WriteString("output", Path.GetFullPath(outputPath));
                w.WriteNumber("lines", _lines);
                w.WriteNumber("done", _done);
                w.WriteNumber("skipped", _skipped);
                w.WriteNumber("bad_lines", _bad);
                w.WriteNumber("failed", _failed);
                w.WriteNumber("interrupted", _interrupted);
                w.WriteNumber("tokens", _tokens);
                w.WriteNumber("prompt_tokens", _promptTokens);
                w.WriteNumber("seconds", Math.Round(_clock.Elapsed.TotalSeconds, 3));
                w.WriteNumber("tokens_per_second", Math.Round(TokensPerSecond, 3));
                w.WriteEndObject();
            }
            console.Out.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
            return;
        }
        string interrupted = _interrupted > 0 ? $", {_interrupted} interrupted" : "";
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"llcuda: batch: {_done} done, {_skipped} skipped (already in output), {_bad} bad lines, {_failed} failed{interrupted} | {_tokens} tokens in {_clock.Elapsed.TotalSeconds:F1} s, {TokensPerSecond:F1} tok/s"));
    }
}
