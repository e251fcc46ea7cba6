using System.Text.Json;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Storage.Remotes;

/// <summary>`llcuda storage push` / `pull` between two local stores through a real registry on 127.0.0.1.</summary>
public class StoragePushPullTests(RegistryServer server) : IClassFixture<RegistryServer>
{
    const string KnownText = "Once upon a time, there was a little girl named Lily.";

    static CliResult Run(string home, params string[] args) =>
        CliRunner.Published(args, environment: new Dictionary<string, string?> { ["LLCUDA_HOME"] = home });

    string Remote(string repoTag) => $"{server.BaseUri.Authority}/{repoTag}";

    [RegistryFact]
    public void PushThenPullIntoAnotherStore_RunsTheSameModel_AndASecondPushSendsNothing()
    {
        if (!File.Exists(CliRunner.PublishedBinary)) return; // ./test.sh builds it first
        string a = TestPaths.NewTempDir(), b = TestPaths.NewTempDir();
        var put = Run(a, "storage", "put", TestPaths.Stories260K, "--name", "stories:260k");
        Assert.True(put.ExitCode == 0, put.Stderr);

        var push = Run(a, "storage", "push", "stories:260k", Remote("library/stories:260k"), "--json");
        Assert.True(push.ExitCode == 0, push.Stderr);
        using (var doc = JsonDocument.Parse(push.Stdout))
        {
            Assert.Equal(2, doc.RootElement.GetProperty("blobs_moved").GetInt32()); // weights + config
            Assert.InRange(doc.RootElement.GetProperty("bytes_moved").GetInt64() - new FileInfo(TestPaths.Stories260K).Length, 50, 4096); // the config is small JSON
        }
        var again = Run(a, "storage", "push", "stories:260k", Remote("library/stories:260k"), "--json");
        Assert.True(again.ExitCode == 0, again.Stderr);
        using (var doc = JsonDocument.Parse(again.Stdout))
        {
            Assert.Equal(0, doc.RootElement.GetProperty("blobs_moved").GetInt32());
            Assert.Equal(2, doc.RootElement.GetProperty("blobs_skipped").GetInt32());
        }

        // Store b knows the model under the remote reference; it loads and generates.
        var pull = Run(b, "storage", "pull", Remote("library/stories:260k"));
        Assert.True(pull.ExitCode == 0, pull.Stderr);
        var infer = Run(b, "infer", "-m", Remote("library/stories:260k"), "-p", "", "-n", "24", "--temp", "0", "--device", "cpu");
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.StartsWith(KnownText, infer.Stdout.Trim(), StringComparison.Ordinal);
        var verify = Run(b, "storage", "verify");
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);

        // --name picks the local name; the blobs are already there, so nothing is fetched.
        var named = Run(b, "storage", "pull", Remote("library/stories:260k"), "--name", "tiny:v1", "--json");
        Assert.True(named.ExitCode == 0, named.Stderr);
        using (var doc = JsonDocument.Parse(named.Stdout)) Assert.Equal(0, doc.RootElement.GetProperty("blobs_moved").GetInt32());
        Assert.Equal(0, Run(b, "infer", "-m", "tiny:v1", "-p", "", "-n", "4", "--temp", "0", "--device", "cpu").ExitCode);
    }


    [RegistryFact]
    public void Pull_UnknownTagOrBadReference_IsAOneLineErrorAndTagsNothing()
    {
        if (!File.Exists(CliRunner.PublishedBinary)) return;
        string home = TestPaths.NewTempDir();
        var missing = Run(home, "storage", "pull", Remote("library/nothing:here"));
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Single(missing.Stderr.TrimEnd('\n').Split('\n'));
        var bad = Run(home, "storage", "pull", "not a reference");
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.TrimEnd('\n').Split('\n'));
        var list = Run(home, "storage", "list", "--json");
        Assert.Equal(0, list.ExitCode);
        Assert.DoesNotContain("nothing", list.Stdout, StringComparison.Ordinal);
    }

    [RegistryFact]
    public void Infer_ARegistryNameNotInTheStore_PullsItFirst()
    {
        if (!File.Exists(CliRunner.PublishedBinary)) return;
        string a = TestPaths.NewTempDir(), b = TestPaths.NewTempDir();
        Assert.Equal(0, Run(a, "storage", "put", TestPaths.Stories260K, "--name", "stories:auto").ExitCode);
        Assert.Equal(0, Run(a, "storage", "push", "stories:auto", Remote("auto/stories:v1")).ExitCode);
        var infer = Run(b, "infer", "-m", Remote("auto/stories:v1"), "-p", "", "-n", "24", "--temp", "0", "--device", "cpu");
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.StartsWith(KnownText, infer.Stdout.Trim(), StringComparison.Ordinal);
        Assert.Contains("auto/stories", Run(b, "storage", "list", "--json").Stdout, StringComparison.Ordinal);
        // A plain name that is not stored is not looked for anywhere else.
        var local = Run(b, "infer", "-m", "nowhere:v1", "-p", "", "-n", "4");
        Assert.Contains("unknown model 'nowhere:v1'", local.Stderr, StringComparison.Ordinal);
    }

    [RegistryFact]
    public void Pull_KilledMidWay_LeavesNoBlobOrTag_AndTheNextPullResumesAndCompletes()
    {
        if (!File.Exists(CliRunner.PublishedBinary)) return;
        string a = TestPaths.NewTempDir(), b = TestPaths.NewTempDir();
        // A valid GGUF with 512 MiB of zeros after its data: long enough a pull to kill.
        string big = LlCuda.Tests.Storage.StoreFixture.PaddedStories(512L << 20);
        Assert.Equal(0, Run(a, "storage", "put", big, "--name", "big:v1").ExitCode);
        Assert.Equal(0, Run(a, "storage", "push", "big:v1", Remote("kill/big:v1")).ExitCode);

        // Killed once the weights' .partial file has bytes.
        string blobs = Path.Combine(b, "blobs", "sha256");
        ShellScript.KillWhenFileAppears("\"$LLCUDA\" storage pull \"$REMOTE\"", blobs, "*.partial", "1k",
            new Dictionary<string, string> { ["LLCUDA_HOME"] = b, ["REMOTE"] = Remote("kill/big:v1") });
        // Nothing large under a real blob name, no tag, and verify is clean.
        Assert.DoesNotContain(Directory.GetFiles(blobs), f => !f.EndsWith(".partial", StringComparison.Ordinal) && new FileInfo(f).Length > 1 << 20);
        Assert.Single(Directory.GetFiles(blobs, "*.partial"));
        Assert.DoesNotContain("big", Run(b, "storage", "list", "--json").Stdout, StringComparison.Ordinal);
        Assert.Equal(0, Run(b, "storage", "verify").ExitCode);

        // The next pull resumes from the partial file and completes; the model verifies and runs.
        var again = Run(b, "storage", "pull", Remote("kill/big:v1"), "--name", "big:v1");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Empty(Directory.GetFiles(blobs, "*.partial"));
        Assert.Equal(0, Run(b, "storage", "verify", "big:v1").ExitCode);
        var infer = Run(b, "infer", "-m", "big:v1", "-p", "", "-n", "24", "--temp", "0", "--device", "cpu");
        Assert.True(infer.ExitCode == 0, infer.Stderr);
        Assert.StartsWith(KnownText, infer.Stdout.Trim(), StringComparison.Ordinal);
    }

    [RegistryFact]
    public void Pull_TwoProcessesPullingTheSameModel_BothSucceedWithOneDownload()
    {
        if (!File.Exists(CliRunner.PublishedBinary)) return;
        string a = TestPaths.NewTempDir(), b = TestPaths.NewTempDir();
        string big = LlCuda.Tests.Storage.StoreFixture.PaddedStories(256L << 20);
        Assert.Equal(0, Run(a, "storage", "put", big, "--name", "twice:v1").ExitCode);
        Assert.Equal(0, Run(a, "storage", "push", "twice:v1", Remote("twice/big:v1")).ExitCode);

        string script = """
            "$LLCUDA" storage pull "$REMOTE" --name one:v1 --json >"$OUT1" 2>&1 & p1=$!
            "$LLCUDA" storage pull "$REMOTE" --name two:v1 --json >"$OUT2" 2>&1 & p2=$!
            wait $p1; r1=$?
            wait $p2; r2=$?
            echo "rc=$r1,$r2"
            """;
        var (stdout, _) = ShellScript.Run(script, new Dictionary<string, string>
        {
            ["LLCUDA_HOME"] = b, ["LLCUDA"] = CliRunner.PublishedBinary, ["REMOTE"] = Remote("twice/big:v1"),
            ["OUT1"] = Path.Combine(a, "pull1.json"), ["OUT2"] = Path.Combine(a, "pull2.json"),
        });
        Assert.True(stdout.Trim() == "rc=0,0", $"{stdout} {File.ReadAllText(Path.Combine(a, "pull1.json"))} {File.ReadAllText(Path.Combine(a, "pull2.json"))}");
        // The weights were downloaded once: one pull moved them, the other found them in place.
        long Moved(string file) => JsonDocument.Parse(File.ReadAllText(Path.Combine(a, file))).RootElement.GetProperty("bytes_moved").GetInt64();
        Assert.True(Math.Min(Moved("pull1.json"), Moved("pull2.json")) < 1 << 20, "both pulls downloaded the weights");
        Assert.Equal(0, Run(b, "storage", "verify").ExitCode);
        Assert.Equal(0, Run(b, "infer", "-m", "two:v1", "-p", "", "-n", "4", "--temp", "0", "--device", "cpu").ExitCode);
    }
}
