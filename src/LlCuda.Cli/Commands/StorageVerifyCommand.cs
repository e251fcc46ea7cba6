using System.CommandLine;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda storage verify [NAME:TAG]`: re-hashes blobs (one model's, or all) and names every
/// blob whose bytes do not match its digest or that is missing; exits 65 when any is.
/// </summary>
internal static class StorageVerifyCommand
{
    public static Command Create(CliConsole console)
    {
        var reference = new Argument<string?>("NAME:TAG") { Description = "Model to verify (default: every blob)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("verify", "Re-hash stored blobs and report any that are corrupt or missing") { reference };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var parsed = r.GetValue(reference) is { } text ? ModelReference.Parse(text) : null;
            var store = ModelStore.FromEnvironment();
            var started = DateTime.UtcNow;
            var result = StorageProgress.Run(console, "verify", (progress, _) =>
                store.Verify(parsed, progress is null ? null : (d, p) => progress(d.ToString()[..19], p)));
            double seconds = (DateTime.UtcNow - started).TotalSeconds;
            foreach (var p in result.Problems)
            {
                string users = p.UsedBy.Count == 0 ? "no tag" : string.Join(", ", p.UsedBy.Distinct());
                console.Out.WriteLine($"corrupt: {p.Digest} ({p.Problem}; used by {users})");
            }
            console.Error.WriteLine($"llcuda: verified {result.BlobsChecked} blobs ({ModelInfoCommand.Bytes(result.BytesChecked)}) in {seconds:F2} s, {result.BytesChecked / Math.Max(seconds, 1e-9) / 1e6:F0} MB/s");
            if (result.Problems.Count == 0)
            {
                console.Out.WriteLine("ok: every blob matches its digest");
                return ExitCodes.Success;
            }
            console.WriteError($"{result.Problems.Count} corrupt or missing blobs: remove the models that use them (llcuda storage rm), run llcuda storage gc, then put or pull them again");
            return ExitCodes.DataError;
        }));
        return command;
    }
}
