using System.CommandLine;
using LlCuda.Cli.Commands;
using LlCuda.Cli.Hosting;

namespace LlCuda.Cli;

/// <summary>The llcuda command tree. Each command lives in its own file under Commands/.</summary>
public static class LlCudaCli
{
    public static RootCommand Build(CliConsole console)
    {
        var root = new RootCommand("llcuda: local LLM inference on CPUs and NVIDIA GPUs (GGUF models)");
        var model = new Command("model", "Inspect and create model files");
        model.Subcommands.Add(ModelInfoCommand.Create(console));
        model.Subcommands.Add(ModelSynthCommand.Create(console));
        root.Subcommands.Add(model);
        root.Subcommands.Add(StorageCommand.Create(console));
        root.Subcommands.Add(InferCommand.Create(console));
        root.Subcommands.Add(BatchCommand.Create(console));
        root.Subcommands.Add(LogitsCommand.Create(console));
        root.Subcommands.Add(BenchCommand.Create(console));
        root.Subcommands.Add(QuantizeCommand.Create(console));
        root.Subcommands.Add(SystemInfoCommand.Create(console));
        root.Subcommands.Add(SelftestCommand.Create(console));
        root.Subcommands.Add(TokenizeCommand.Create(console));
        root.Subcommands.Add(DetokenizeCommand.Create(console));
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; parse errors are one line each and exit code 2.</summary>
    public static int Run(string[] args, CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        var result = Build(console).Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var error in result.Errors) console.WriteError($"{error.Message} (see 'llcuda --help')");
            return ExitCodes.Usage;
        }
        return result.Invoke(new InvocationConfiguration { Output = console.Out, Error = console.Error });
    }
}
