using System.Text.Json;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>`llcuda storage push/pull --storage-url` between two local stores through a real HTTP filer (nginx WebDAV) on 127.0.0.1.</summary>
public class StorageFilerSyncTests(NginxDavServer server) : IClassFixture<NginxDavServer>
{
    static CliResult Run(string home, params string[] args) =>
        CliRunner.Published(args, environment: new Dictionary<string, string?> { ["LLCUDA_HOME"] = home });

    [NginxFact]
    public void PushThenPullThroughTheFiler_RunsTheSameModel()
    {
        if (!File.Exists(CliRunner.PublishedBinary)) return; // ./test.sh builds it first
        string url = server.BaseUri.ToString().TrimEnd('/');
        string a = TestPaths.NewTempDir(), b = TestPaths.NewTempDir();
        Assert.Equal(0, Run(a, "storage", "put", TestPaths.Stories260K, "--name", "stories:filer").ExitCode);
        var push = Run(a, "storage", "push", "stories:filer", "--storage-url", url, "--json");
        Assert.True(push.ExitCode == 0, push.Stderr);
        using (var doc = JsonDocument.Parse(push.Stdout)) Assert.Equal(2, doc.RootElement.GetProperty("blobs_moved").GetInt32());
        // The layout on the filer: blobs under their digest, the manifest under the name.
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "llcuda", "manifests", "stories", "filer")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(server.DataDirectory, "llcuda", "blobs", "sha256")).Length);

        var pull = Run(b, "storage", "pull", "stories:filer", "--storage-url", url);
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        var infer = Run(b, "infer", "-m", "stories:filer", "-p", "", "-n", "24", "--temp", "0", "--device", "cpu");
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.StartsWith("Once upon a time, there was a little girl named Lily.", infer.Stdout.Trim(), StringComparison.Ordinal);

        var missing = Run(b, "storage", "pull", "nothing:here", "--storage-url", url);
        Assert.Equal(66, missing.ExitCode);
        Assert.Contains("unknown model 'nothing:here' on the filer", missing.Stderr, StringComparison.Ordinal);
        // A registry-style name cannot live on a filer: a usage error, not a crash.
        var hostName = Run(b, "storage", "pull", "127.0.0.1:1/x:y", "--storage-url", url);
        Assert.Equal(2, hostName.ExitCode);
        Assert.Single(hostName.Stderr.TrimEnd('\n').Split('\n'));
        // put --storage-url stores locally and sends it to the filer in one go.
        var put = Run(a, "storage", "put", TestPaths.Stories260K, "--name", "stories:put", "--storage-url", url);
        Assert.True(put.ExitCode == 0, put.Stderr);
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "llcuda", "manifests", "stories", "put")));
        // Neither a registry reference nor --storage-url.
        Assert.Equal(2, Run(a, "storage", "push", "stories:filer").ExitCode);
    }
}
