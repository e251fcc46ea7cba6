using System.CommandLine;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;

namespace LlCuda.Cli.Commands;

/// <summary>`llcuda storage rm NAME:TAG`: removes a tag; blobs no other tag uses go at the next gc.</summary>
internal static class StorageRmCommand
{
    public static Command Create(CliConsole console)
    {
        var reference = new Argument<string>("NAME:TAG") { Description = "Model reference to remove" };
        var command = new Command("rm", "Remove a model's tag (run gc to free its blobs)") { reference };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var parsed = ModelReference.Parse(r.GetValue(reference)!);
            ModelStore.FromEnvironment().Remove(parsed);
            console.Error.WriteLine($"llcuda: removed {parsed} (llcuda storage gc frees blobs no other tag uses)");
            return ExitCodes.Success;
        }));
        return command;
    }
}
