using System.CommandLine;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;

namespace LlCuda.Cli.Commands;

/// <summary>`llcuda storage gc`: removes blobs no tag references and temp files over an hour old.</summary>
internal static class StorageGcCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("gc", "Remove unreferenced blobs and stale temporary files");
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var result = ModelStore.FromEnvironment().CollectGarbage();
            console.Out.WriteLine($"removed {result.BlobsRemoved} blobs ({ModelInfoCommand.Bytes(result.BytesFreed)}) and {result.TempFilesRemoved} stale temporary files");
            return ExitCodes.Success;
        }));
        return command;
    }
}
