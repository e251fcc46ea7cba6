using System.CommandLine;
using LlCuda.Cli.Hosting;
using LlCuda.Storage;

namespace LlCuda.Cli.Commands;

/// <summary>`llcuda storage pin|unpin NAME:TAG`: a pinned model is never evicted by the byte budget.</summary>
internal static class StoragePinCommand
{
    public static Command Create(CliConsole console, bool pin)
    {
        var reference = new Argument<string>("NAME:TAG") { Description = "Model reference" };
        var command = new Command(pin ? "pin" : "unpin", pin ? "Keep a model from being evicted by the byte budget" : "Let the byte budget evict a model again") { reference };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var parsed = ModelReference.Parse(r.GetValue(reference)!);
            ModelStore.FromEnvironment().SetPinned(parsed, pin);
            console.Error.WriteLine($"llcuda: {(pin ? "pinned" : "unpinned")} {parsed}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
