using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>
/// Which real servers this machine has for the remote-storage tests. The first question runs
/// scripts/install-test-servers.sh (apt-get: docker-registry, nginx-light, apache2-utils; a
/// no-op when installed), so `dotnet test` alone works on a fresh Debian machine too.
/// </summary>
public static class TestServers
{
    static readonly Lazy<bool> Installed = new(() =>
    {
        var script = Path.Combine(TestPaths.RepoRoot, "scripts", "install-test-servers.sh");
        if (!File.Exists(script)) return false;
        using var p = Process.Start(new ProcessStartInfo("bash", [script]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        // apt-get on a fresh machine takes ~15 s; more than 5 minutes means it is stuck.
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(entireProcessTree: true); return false; }
        return true;
    });

    public static string? Find(string name)
    {
        _ = Installed.Value;
        foreach (var dir in (ReadOnlySpan<string>)["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"])
            if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    public static string? RegistrySkipReason => Find("docker-registry") is null
        ? "docker-registry (CNCF distribution) is not installed and scripts/install-test-servers.sh could not install it (needs root or sudo and apt)" : null;

    public static string? NginxSkipReason => Find("nginx") is null
        ? "nginx is not installed and scripts/install-test-servers.sh could not install nginx-light (needs root or sudo and apt)" : null;

    public static string? HtpasswdSkipReason => RegistrySkipReason ?? (Find("htpasswd") is null
        ? "htpasswd (apache2-utils) is not installed, so no bcrypt hash for the registry's basic auth" : null);

    /// <summary>A port free on 127.0.0.1 right now (the OS picks it; the server binds it moments later).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>Starts a server process, output appended to LOG, and waits until PORT accepts connections.</summary>
    public static Process Start(string file, IEnumerable<string> args, int port, string log)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
        var writer = TextWriter.Synchronized(new StreamWriter(log, append: true) { AutoFlush = true });
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) writer.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) writer.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (p.HasExited)
                throw new InvalidOperationException($"{file} exited with code {p.ExitCode} before listening on 127.0.0.1:{port}; its log: {SafeRead(log)}");
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, port);
                return p;
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        Stop(p);
        throw new InvalidOperationException($"{file} did not listen on 127.0.0.1:{port} within 15 s; its log: {SafeRead(log)}");
    }

    /// <summary>Stops the server we started, by its pid, and reaps it.</summary>
    public static void Stop(Process? p)
    {
        if (p is null) return;
        try
        {
            if (!p.HasExited) { Process.GetProcessById(p.Id).Kill(entireProcessTree: true); p.WaitForExit(5000); }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException) { /* already gone */ }
        p.Dispose();
    }

    static string SafeRead(string path) { try { return File.ReadAllText(path); } catch (IOException) { return "(no log)"; } }
}

public sealed class RegistryFactAttribute : FactAttribute
{
    public RegistryFactAttribute() { if (TestServers.RegistrySkipReason is { } r) Skip = r; }
}

public sealed class HtpasswdFactAttribute : FactAttribute
{
    public HtpasswdFactAttribute() { if (TestServers.HtpasswdSkipReason is { } r) Skip = r; }
}

public sealed class NginxFactAttribute : FactAttribute
{
    public NginxFactAttribute() { if (TestServers.NginxSkipReason is { } r) Skip = r; }
}
