using System.Runtime.InteropServices;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;
using Spectre.Console;

namespace LlCuda.Cli.Commands;

/// <summary>
/// The progress bar (bytes and bytes/s) of put, get and verify: on stderr when stderr is this
/// process's terminal, nothing otherwise (pipes, files, tests). SIGINT/SIGTERM cancel cleanly:
/// a put deletes its temp file, so nothing partial is left.
/// </summary>
internal static class StorageProgress
{
    public static T Run<T>(CliConsole console, string label, Func<Action<string, BlobProgress>?, CancellationToken, T> work)
    {
        using var cancel = new InterruptSignals();
        try
        {
            if (!ReferenceEquals(console.Error, Console.Error) || Console.IsErrorRedirected) return work(null, cancel.Token);
            var ui = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            T result = default!;
            ui.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                         new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(Markup.Escape(label), maxValue: 1);
                    result = work((what, p) =>
                    {
                        task.Description = Markup.Escape(what);
                        task.MaxValue = Math.Max(1, p.BytesTotal);
                        task.Value = p.BytesDone;
                    }, cancel.Token);
                });
            return result;
        }
        catch (OperationCanceledException) when (cancel.Interrupted)
        {
            throw new OperationCanceledException($"interrupted; {label} did not finish and left nothing partial in the store");
        }
    }
}
