using System.Diagnostics;
using System.Text.Json;
using LlCuda.Tests.Models;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cuda;

/// <summary>
/// Builds FakeCuda/fake_cuda.c and fake_forward.c (a CPU stand-in for libcuda.so.1,
/// libnvrtc.so.13 and libcublas.so.13) once per test class, into a temporary folder the
/// published binary finds through LD_LIBRARY_PATH.
/// </summary>
public sealed class FakeCudaLibraries : IDisposable
{
    readonly ScratchDirectory _dir = new();

    /// <summary>tests/LlCuda.Tests/Cuda/FakeCuda: the fake's C sources.</summary>
    public static string SourceFolder => Path.Combine(TestPaths.RepoRoot, "tests", "LlCuda.Tests", "Cuda", "FakeCuda");

    /// <summary>The sources of the library: the driver, NVRTC and cuBLAS, and the forward pass's kernels.</summary>
    public static string[] LibrarySources => [Path.Combine(SourceFolder, "fake_cuda.c"), Path.Combine(SourceFolder, "fake_forward.c")];

    public FakeCudaLibraries()
    {
        if (FakeCudaFactAttribute.Compiler is null) return;
        string library = _dir.File("libcuda.so.1");
        Compile(["-shared", "-fPIC", "-o", library, .. LibrarySources]);
        // One file serves all three sonames: each library only has its own symbols looked up.
        File.Copy(library, _dir.File("libnvrtc.so.13"));
        File.Copy(library, _dir.File("libcublas.so.13"));
        // The fake NVRTC has no built-in cuda_fp16.h (like some real versions): CUDA_HOME points
        // at a toolkit folder that has one, so the compiler's include-folder fallback is exercised.
        Directory.CreateDirectory(Path.Combine(CudaHome, "include"));
        File.WriteAllText(Path.Combine(CudaHome, "include", "cuda_fp16.h"), "// stand-in\n");
    }

    /// <summary>Runs gcc -O1 -Wall -Wextra -Werror with <paramref name="arguments"/> (libm linked); throws with gcc's errors.</summary>
    public static void Compile(IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(FakeCudaFactAttribute.Compiler!) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in (string[])["-O1", "-Wall", "-Wextra", "-Werror", .. arguments, "-lm"]) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        string errors = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"gcc {string.Join(' ', psi.ArgumentList)} failed: {errors}{stdout.Result}");
    }

    public string Folder => _dir.Path;

    /// <summary>
    /// Runs the published binary on the fake: the fake's folder on LD_LIBRARY_PATH, a fresh
    /// LLCUDA_HOME, no library overrides or device mask from the calling environment.
    /// </summary>
    public CliResult Run(string home, string[] args, Dictionary<string, string?>? extra = null, int timeoutSeconds = 120)
    {
        var env = new Dictionary<string, string?>
        {
            ["LD_LIBRARY_PATH"] = Folder,
            ["LLCUDA_HOME"] = home,
            ["CUDA_HOME"] = CudaHome,
            ["LLCUDA_NVRTC_LIB"] = null,
            ["LLCUDA_CUBLAS_LIB"] = null,
            ["CUDA_VISIBLE_DEVICES"] = null,
        };
        foreach (var (k, v) in extra ?? []) env[k] = v;
        return CliRunner.Published(args, timeoutSeconds: timeoutSeconds, environment: env);
    }

    /// <summary>A CUDA_HOME whose include/ has cuda_fp16.h (and no libraries).</summary>
    public string CudaHome => _dir.File("cuda-home");

    public void Dispose() => _dir.Dispose();
}

/// <summary>Needs the published binary and a C compiler (to build the fake CUDA libraries).</summary>
public sealed class FakeCudaFactAttribute : FactAttribute
{
    public static string? Compiler { get; } = new[] { "/usr/bin/gcc", "/usr/bin/cc" }.FirstOrDefault(File.Exists);

    public FakeCudaFactAttribute()
    {
        if (!File.Exists(CliRunner.PublishedBinary))
            Skip = $"{CliRunner.PublishedBinary} not found: run ./build.sh (./test.sh does) to publish it";
        else if (Compiler is null)
            Skip = "no C compiler (gcc) to build the fake CUDA libraries";
    }
}

/// <summary>
/// The published NativeAOT binary against fake CUDA libraries: proves on a machine without a
/// GPU that the libraries are probed and bound, every imported signature is called the way
/// the fake (written to the C declarations) expects, and the selftest and system-info work end to end.
/// </summary>
public class FakeCudaTests(FakeCudaLibraries fake) : IClassFixture<FakeCudaLibraries>
{
    CliResult Run(string home, string[] args, Dictionary<string, string?>? extra = null) => fake.Run(home, args, extra);

    static List<JsonElement> Checks(CliResult r, out bool passed)
    {
        using var doc = JsonDocument.Parse(r.Stdout);
        passed = doc.RootElement.GetProperty("passed").GetBoolean();
        return [.. doc.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.Clone())];
    }

    [FakeCudaFact]
    public void Selftest_EveryCheckPasses_AndNothingLeaks()
    {
        using var home = new ScratchDirectory();
        var r = Run(home.Path, ["selftest", "--device", "cuda", "--quick", "--json"]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var checks = Checks(r, out bool passed);
        Assert.True(passed);
        // --quick: the emulated matvec kernels are exact but slow, so they are checked, not timed.
        Assert.Equal(["driver", "nvrtc", "launch", "graph", "cublas", "bandwidth", "rmsnorm", "swiglu", "matvec-q4_0", "matvec-q4_1", "matvec-q5_0", "matvec-q5_1", "matvec-q8_0", "matvec-q4_k", "matvec-q5_k", "matvec-q6_k", "matvec-f16", "matvec-bf16", "matvec-f32",
            "model-f32", "model-f16", "model-bf16", "model-q8_0", "model-q4_0", "model-q4_1", "model-q5_0", "model-q5_1", "model-q4_k_m", "model-q5_k_m", "model-q6_k", "model-paged", "cleanup"],
            checks.Select(c => c.GetProperty("check").GetString()));
        Assert.All(checks, c => Assert.Equal("pass", c.GetProperty("status").GetString()));
        string nvrtc = checks[1].GetProperty("detail").GetString()!;
        Assert.Contains("for sm_90 (CUBIN", nvrtc, StringComparison.Ordinal);
        Assert.Contains("matvec_q4_0.cu", nvrtc, StringComparison.Ordinal);
        Assert.True(checks.Single(c => c.GetProperty("check").GetString() == "bandwidth").GetProperty("value").GetDouble() > 0);
        Assert.Contains("every element exact", checks.Single(c => c.GetProperty("check").GetString() == "cublas").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("bad tables refused before any GPU work", checks.Single(c => c.GetProperty("check").GetString() == "model-paged").GetProperty("detail").GetString(), StringComparison.Ordinal);
        // The fake reports anything not released (memory, streams, events, modules, graphs, context) at exit.
        Assert.DoesNotContain("leaked", r.Stderr, StringComparison.Ordinal);
    }

    [FakeCudaFact]
    public void SystemInfo_ListsTheGpuNvrtcAndCublas()
    {
        using var home = new ScratchDirectory();
        var r = Run(home.Path, ["system-info", "--json"]);
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var cuda = doc.RootElement.GetProperty("cuda");
        Assert.True(cuda.GetProperty("driver_usable").GetBoolean());
        Assert.Equal("13.0", cuda.GetProperty("driver_cuda_version").GetString());
        var gpu = Assert.Single(cuda.GetProperty("gpus").EnumerateArray());
        Assert.Equal("llcuda fake GPU", gpu.GetProperty("name").GetString());
        Assert.Equal("9.0", gpu.GetProperty("compute_capability").GetString());
        Assert.Equal(600L << 20, gpu.GetProperty("free_bytes").GetInt64());
        Assert.Equal(16L << 30, gpu.GetProperty("total_bytes").GetInt64());
        Assert.Equal("13.0 (libnvrtc.so.13)", cuda.GetProperty("nvrtc_version").GetString());
        Assert.Equal("13.0.1 (libcublas.so.13)", cuda.GetProperty("cublas_version").GetString());
        Assert.DoesNotContain("leaked", r.Stderr, StringComparison.Ordinal);
    }

    [FakeCudaFact]
    public void Selftest_FaultingLaunch_NamesTheKernelAndTheFixAndExits1()
    {
        using var home = new ScratchDirectory();
        var r = Run(home.Path, ["selftest", "--device", "cuda", "--quick", "--json"], new() { ["FAKE_CUDA_FAIL_LAUNCH"] = "1" });
        Assert.Equal(1, r.ExitCode);
        var launch = Checks(r, out _).Single(c => c.GetProperty("check").GetString() == "launch");
        Assert.Equal("fail", launch.GetProperty("status").GetString());
        string detail = launch.GetProperty("detail").GetString()!;
        Assert.Contains("cuLaunchKernel of kernel 'vector_add' in vector_add.cu (grid 4096x1x1, block 256x1x1", detail, StringComparison.Ordinal);
        Assert.Contains("CUDA_ERROR_ILLEGAL_ADDRESS (700", detail, StringComparison.Ordinal);
        Assert.Contains("compute-sanitizer", detail, StringComparison.Ordinal);
        // Error paths release everything too.
        Assert.DoesNotContain("leaked", r.Stderr, StringComparison.Ordinal);
    }

    [FakeCudaFact]
    public void Selftest_TooLittleFreeMemory_FailsTheBandwidthCheckSayingHowMuchIsNeeded()
    {
        using var home = new ScratchDirectory();
        var r = Run(home.Path, ["selftest", "--device", "cuda", "--quick", "--no-models", "--json"], new() { ["FAKE_CUDA_FREE_MIB"] = "100" });
        Assert.Equal(1, r.ExitCode);
        var bandwidth = Checks(r, out _).Single(c => c.GetProperty("check").GetString() == "bandwidth");
        Assert.Equal("only 100 MiB of GPU memory is free; the bandwidth check needs at least 384 MiB", bandwidth.GetProperty("detail").GetString());
    }

    [FakeCudaFact]
    public void Selftest_CorruptKernelCache_IsRecompiledAndRewritten()
    {
        using var home = new ScratchDirectory();
        // Whole models would compile nothing new: the kernel files are what is checked here.
        Assert.Equal(0, Run(home.Path, ["selftest", "--device", "cuda", "--quick", "--no-models"]).ExitCode);
        string folder = Path.Combine(home.Path, "cache", "kernels");
        var files = Directory.GetFiles(folder, "*.cubin");
        // vector_add, copy, quantize_q8_1, rmsnorm_q8_1, swiglu_q8_1 and the 11 matvec files (the
        // nvrtc check compiles into a folder of its own; without the model checks nothing loads
        // rope_kv, attention or argmax).
        Assert.Equal(16, files.Length);
        var good = files.ToDictionary(f => f, File.ReadAllBytes);
        foreach (var f in files) File.WriteAllBytes(f, good[f][..^10]);

        var r = Run(home.Path, ["selftest", "--device", "cuda", "--quick", "--no-models"]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        foreach (var f in files) Assert.Equal(good[f], File.ReadAllBytes(f));
    }
}
