using Spectre.Console;

namespace LlCuda.Cli.Hosting;

/// <summary>
/// The one place command output goes through: Spectre.Console for tables and markup on
/// standard output, plain writers for machine-readable output (JSON, ids) and for errors.
/// Tests build one over string writers to capture everything a command prints.
/// </summary>
public sealed class CliConsole
{
    public CliConsole(TextWriter output, TextWriter error, bool ansi)
    {
        Out = output;
        Error = error;
        Ui = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = ansi ? InteractionSupport.Detect : InteractionSupport.No,
        });
        // Spectre assumes 80 columns when output is not a terminal; tables in files and pipes
        // read better unwrapped.
        if (!ansi) Ui.Profile.Width = 200;
    }

    /// <summary>The process's own console (colors only when stdout is a terminal).</summary>
    public static CliConsole System() =>
        new(global::System.Console.Out, global::System.Console.Error, ansi: !global::System.Console.IsOutputRedirected);

    /// <summary>Rich output (tables, markup) to standard output.</summary>
    public IAnsiConsole Ui { get; }

    /// <summary>Raw standard output, for JSON and other script-facing text.</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error: diagnostics, timings, errors.</summary>
    public TextWriter Error { get; }

    /// <summary>Prints a one-line error ("llcuda: error: ...") to standard error.</summary>
    public void WriteError(string message) => Error.WriteLine($"llcuda: error: {message.ReplaceLineEndings(" ")}");
}
