using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Models.Quantization;
using Spectre.Console;

namespace LlCuda.Cli.Commands;

/// <summary>
/// What `model synth` and `quantize` share: the progress bar on a terminal, Ctrl+C that cancels
/// cleanly (GgufWriter deletes its temporary file, so nothing is left), and the per-tensor report.
/// </summary>
internal static class ModelWriteSupport
{
    /// <summary>128 + SIGINT, what shells report for an interrupted command.</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>
    /// Runs <paramref name="write"/> with a progress callback (a Spectre.Console bar on stderr
    /// when stderr is this process's terminal, nothing otherwise) and a token that SIGINT or
    /// SIGTERM cancels. Returns null when interrupted, after saying so on stderr.
    /// </summary>
    public static T? Run<T>(CliConsole console, string outputPath, Func<Action<ModelWriteProgress>?, CancellationToken, T> write) where T : class
    {
        using var cancel = new InterruptSignals();
        try
        {
            if (!StderrIsTerminal(console)) return write(null, cancel.Token);
            var ui = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            T? result = null;
            ui.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(Path.GetFileName(outputPath)), maxValue: 1);
                    result = write(p =>
                    {
                        task.MaxValue = Math.Max(1, p.BytesTotal);
                        task.Value = p.BytesWritten;
                        task.Description = Markup.Escape($"[{p.TensorIndex + 1}/{p.TensorCount}] {p.Tensor}");
                    }, cancel.Token);
                });
            return result;
        }
        catch (OperationCanceledException) when (cancel.Interrupted)
        {
            console.WriteError($"interrupted; {outputPath} was not written");
            return null;
        }
    }

    // Only the process's own stderr can be a terminal; tests capture it in a StringWriter.
    static bool StderrIsTerminal(CliConsole console) => ReferenceEquals(console.Error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>One stderr note per tensor whose shape forced another type than the mix asked for.</summary>
    public static void WriteFallbackNotes(CliConsole console, IEnumerable<TensorPlan> plans)
    {
        foreach (var p in plans.Where(p => p.Fallback is not null))
            console.Error.WriteLine($"llcuda: note: {p.Name}: {p.Fallback}");
    }

    /// <summary>"Q4_K_M" -> "Q4_K 154, Q6_K 30, F32 65": tensors per type, most first.</summary>
    public static string TypeCounts(IEnumerable<TensorPlan> plans) =>
        string.Join(", ", plans.GroupBy(p => p.TargetType).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}"));

    /// <summary>The "tensors" array of the --json outputs: name, shape, source type, type, fallback.</summary>
    public static void WriteTensors(Utf8JsonWriter w, IEnumerable<TensorPlan> plans, bool withSource)
    {
        w.WriteStartArray("tensors");
        foreach (var p in plans)
        {
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteStartArray("shape");
            foreach (long d in p.Tensor.Dimensions) w.WriteNumberValue(d);
            w.WriteEndArray();
            if (withSource) w.WriteString("from", p.Tensor.Type.ToString());
            w.WriteString("type", p.TargetType.ToString());
            w.WriteNumber("bytes", p.TargetBytes);
            if (p.Fallback is { } f) w.WriteString("fallback", f);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Reads a --threads value: 0 (one per core) or a positive count.</summary>
    public static int Threads(int value) => value >= 0
        ? value
        : throw new UsageException($"--threads {value} is out of range: expected 0 (one per core) or a positive count");

    public static string Seconds(double s) => s.ToString("F1", CultureInfo.InvariantCulture);
}
