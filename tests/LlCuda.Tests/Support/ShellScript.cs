using System.Diagnostics;

namespace LlCuda.Tests.Support;

/// <summary>
/// Runs /bin/sh scripts for the crash and concurrency tests that start the published binary in
/// the background. Kills run inside the shell: the pid .NET reports for a child is not always
/// killable from the test host (sandboxed pid namespaces answer "No such process").
/// </summary>
public static class ShellScript
{
    /// <summary>Runs <paramref name="script"/> with <paramref name="environment"/> added; returns its stdout and stderr.</summary>
    public static (string Stdout, string Stderr) Run(string script, IReadOnlyDictionary<string, string> environment, int timeoutSeconds = 120)
    {
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var sh = Process.Start(psi)!;
        var stderr = sh.StandardError.ReadToEndAsync();
        string stdout = sh.StandardOutput.ReadToEnd();
        Assert.True(sh.WaitForExit(timeoutSeconds * 1000), $"the script did not finish in {timeoutSeconds} s");
        return (stdout, stderr.Result);
    }

    /// <summary>
    /// Starts <paramref name="command"/> (shell syntax; $LLCUDA is the published binary) in the
    /// background, waits until a file named like <paramref name="namePattern"/> of more than
    /// <paramref name="minSize"/> (find's -size) appears in <paramref name="watchDirectory"/>,
    /// then kill -9s it; asserts it was still running then (exit 137).
    /// </summary>
    public static void KillWhenFileAppears(string command, string watchDirectory, string namePattern, string minSize, IReadOnlyDictionary<string, string> environment)
    {
        string script = $$"""
            {{command}} >/dev/null 2>&1 & pid=$!
            for i in $(seq 1 6000); do
              if [ -n "$(find "$WATCH" -maxdepth 1 -name '{{namePattern}}' -size +{{minSize}} 2>/dev/null)" ]; then break; fi
              kill -0 $pid 2>/dev/null || break
              sleep 0.01
            done
            kill -9 $pid
            wait $pid
            echo "rc=$?"
            """;
        var env = new Dictionary<string, string>(environment) { ["WATCH"] = watchDirectory, ["LLCUDA"] = CliRunner.PublishedBinary };
        var (stdout, stderr) = Run(script, env);
        Assert.True(stdout.Trim() == "rc=137", $"'{command}' was not killed mid-way: {stdout} {stderr}");
    }
}
