using System.Diagnostics;
using LlCuda.Cli;
using LlCuda.Cli.Hosting;

namespace LlCuda.Tests.Support;

/// <summary>Result of one llcuda invocation.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs llcuda commands in-process (fast) or as the published executable (end to end).</summary>
public static class CliRunner
{
    /// <summary>Runs the command tree in this process with captured output.</summary>
    public static CliResult InProcess(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = LlCudaCli.Run(args, new CliConsole(stdout, stderr, ansi: false));
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>artifacts/bin/llcuda, published by ./build.sh (test.sh builds it first).</summary>
    public static string PublishedBinary => Path.Combine(TestPaths.RepoRoot, "artifacts", "bin", "llcuda");

    /// <summary>Runs the published executable; bounded to <paramref name="timeoutSeconds"/>.</summary>
    /// <param name="environment">Variables to set (a null value removes the variable) for this run only.</param>
    public static CliResult Published(string[] args, string? stdin = null, int timeoutSeconds = 120, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo(PublishedBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        }
        using var p = Process.Start(psi)!;
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        var outTask = p.StandardOutput.ReadToEndAsync();
        var errTask = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"llcuda {string.Join(' ', args)} did not finish in {timeoutSeconds} s");
        }
        return new CliResult(p.ExitCode, outTask.Result, errTask.Result);
    }
}

/// <summary>A fact that needs the published executable; skips with the reason when ./build.sh has not run.</summary>
public sealed class PublishedBinaryFactAttribute : FactAttribute
{
    public PublishedBinaryFactAttribute()
    {
        if (!File.Exists(CliRunner.PublishedBinary))
            Skip = $"{CliRunner.PublishedBinary} not found: run ./build.sh (./test.sh does) to publish it";
    }
}
