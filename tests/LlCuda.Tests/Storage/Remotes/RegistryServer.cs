using System.Diagnostics;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>
/// A CNCF distribution registry (Debian's docker-registry 2.8) on 127.0.0.1:free port with
/// filesystem storage in a temp folder and deletes enabled; optionally behind htpasswd basic
/// auth. Started on first use, stopped by pid on dispose.
/// </summary>
public sealed class RegistryServer : IDisposable
{
    readonly Lazy<Uri> _started;
    readonly string _dir = TestPaths.NewTempDir();
    Process? _process;

    public RegistryServer() : this(null) { }

    RegistryServer(RemoteCredentialsForTest? auth)
    {
        Auth = auth;
        _started = new(Launch);
    }

    /// <summary>A registry that asks for basic auth with the given user (needs htpasswd).</summary>
    public static RegistryServer WithBasicAuth(string user, string password) => new(new RemoteCredentialsForTest(user, password));

    public RemoteCredentialsForTest? Auth { get; }

    public Uri BaseUri => _started.Value;

    public string Directory => _dir;

    Uri Launch()
    {
        string exe = TestServers.Find("docker-registry") ?? throw new InvalidOperationException(TestServers.RegistrySkipReason);
        int port = TestServers.FreePort();
        string authYaml = "";
        if (Auth is { } a)
        {
            string htpasswd = Path.Combine(_dir, "htpasswd");
            var psi = new ProcessStartInfo(TestServers.Find("htpasswd")!) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])["-Bbn", a.User, a.Password]) psi.ArgumentList.Add(arg);
            using var p = Process.Start(psi)!;
            string line = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            File.WriteAllText(htpasswd, line);
            authYaml = $"auth:\n  htpasswd:\n    realm: llcuda-test\n    path: {htpasswd}\n";
        }
        string config = Path.Combine(_dir, "config.yml");
        File.WriteAllText(config, $"""
            version: 0.1
            log:
              level: warn
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {Path.Combine(_dir, "data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
              secret: llcuda-test-secret
            {authYaml}
            """);
        _process = TestServers.Start(exe, ["serve", config], port, Path.Combine(_dir, "registry.log"));
        return new Uri($"http://127.0.0.1:{port}/");
    }

    public void Dispose()
    {
        TestServers.Stop(_process);
        try { System.IO.Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

public sealed record RemoteCredentialsForTest(string User, string Password);
