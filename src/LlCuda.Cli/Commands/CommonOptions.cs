using System.CommandLine;

namespace LlCuda.Cli.Commands;

/// <summary>Options shared by several commands, so their names and help read the same everywhere.</summary>
internal static class CommonOptions
{
    public static Option<string> Model() => new("--model", "-m")
    {
        Description = "GGUF model: a file path, or name[:tag] in the model store (llcuda storage list)",
        Required = true,
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON object instead of text (for scripts)",
    };
}
