using System.Text.Json;
using LlCuda.Cuda;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class SelftestCommandTests
{
    [Fact]
    public void SelftestCpu_PassesTheResolverCheck()
    {
        var r = CliRunner.InProcess("selftest", "--device", "cpu");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("PASS  resolver", r.Stdout, StringComparison.Ordinal);
    }

    [NoCudaDriverFact]
    public void SelftestCuda_WithoutDriver_FailsTheDriverCheckAndSkipsTheRest()
    {
        var r = CliRunner.InProcess("selftest", "--device", "cuda", "--json");
        Assert.Equal(1, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.False(doc.RootElement.GetProperty("passed").GetBoolean());
        var checks = doc.RootElement.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(["driver", "nvrtc", "launch", "graph", "cublas", "bandwidth", "rmsnorm", "swiglu", "matvec-q4_0", "matvec-q4_1", "matvec-q5_0", "matvec-q5_1", "matvec-q8_0", "matvec-q4_k", "matvec-q5_k", "matvec-q6_k", "matvec-f16", "matvec-bf16", "matvec-f32",
            "model-f32", "model-f16", "model-bf16", "model-q8_0", "model-q4_0", "model-q4_1", "model-q5_0", "model-q5_1", "model-q4_k_m", "model-q5_k_m", "model-q6_k", "model-paged", "cleanup"],
            checks.Select(c => c.GetProperty("check").GetString()));
        Assert.Equal("fail", checks[0].GetProperty("status").GetString());
        Assert.Contains("libcuda.so.1", checks[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.All(checks.Skip(1), c => Assert.Equal("skip", c.GetProperty("status").GetString()));
    }

    [Fact]
    public void Selftest_UnknownDevice_IsAUsageError()
    {
        var r = CliRunner.InProcess("selftest", "--device", "tpu");
        Assert.Equal(2, r.ExitCode);
    }

    [Fact]
    public void SystemInfoJson_HasACudaSectionThatMatchesTheDriverProbe()
    {
        var r = CliRunner.InProcess("system-info", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        var cuda = doc.RootElement.GetProperty("cuda");
        Assert.Equal(CudaDriver.IsInstalled, cuda.GetProperty("driver_found").GetBoolean());
        if (!CudaDriver.IsInstalled)
        {
            Assert.Contains("install the NVIDIA driver", cuda.GetProperty("driver_problem").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, cuda.GetProperty("gpus").GetArrayLength());
        }
    }

    [NoCudaDriverFact]
    public void SystemInfoText_WithoutDriver_SaysSo()
    {
        var r = CliRunner.InProcess("system-info");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("nvidia driver: not found", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("nvrtc: ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("cublas: ", r.Stdout, StringComparison.Ordinal);
    }

    // The NativeAOT binary binds the CUDA libraries through our DllImport resolver; libc under a
    // logical name proves that works there, on any machine.
    [PublishedBinaryFact]
    public void PublishedBinary_SelftestCpu_ResolvesLogicalLibraryNames()
    {
        var r = CliRunner.Published(["selftest", "--device", "cpu", "--json"]);
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.True(doc.RootElement.GetProperty("passed").GetBoolean(), r.Stdout);
    }

    [PublishedBinaryFact]
    public void PublishedBinary_SelftestCuda_ReportsTheDriverState()
    {
        var r = CliRunner.Published(["selftest", "--device", "cuda", "--json"], timeoutSeconds: 300);
        using var doc = JsonDocument.Parse(r.Stdout);
        var driver = doc.RootElement.GetProperty("checks")[0];
        Assert.Equal("driver", driver.GetProperty("check").GetString());
        if (CudaTestEnvironment.SkipReason is null)
        {
            Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        }
        else
        {
            Assert.Equal(1, r.ExitCode);
            Assert.Equal("fail", driver.GetProperty("status").GetString());
        }
    }
}
