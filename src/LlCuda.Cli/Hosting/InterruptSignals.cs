using System.Runtime.InteropServices;

namespace LlCuda.Cli.Hosting;

/// <summary>
/// SIGINT and SIGTERM as a cancellation token while a long command runs: the first signal
/// cancels (the command cleans up: a temp file deleted, results so far kept); a second one falls
/// through to the default action, so a stuck process can still be killed.
/// </summary>
internal sealed class InterruptSignals : IDisposable
{
    readonly CancellationTokenSource _cancel = new();
    readonly PosixSignalRegistration _sigint, _sigterm;

    public InterruptSignals()
    {
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _cancel.Token;
    public bool Interrupted => _cancel.IsCancellationRequested;

    /// <summary>Cancels as a signal would (the command's own reasons to stop, e.g. a failed write).</summary>
    public void Cancel() => _cancel.Cancel();

    void OnSignal(PosixSignalContext c)
    {
        if (_cancel.IsCancellationRequested) return;
        c.Cancel = true;
        _cancel.Cancel();
    }

    public void Dispose()
    {
        _sigint.Dispose();
        _sigterm.Dispose();
        _cancel.Dispose();
    }
}
