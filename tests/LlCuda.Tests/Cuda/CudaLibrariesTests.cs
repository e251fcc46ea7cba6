using LlCuda.Cuda;
using LlCuda.Cuda.Interop;

using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cuda;

public class CudaLibrariesTests
{
    [Fact]
    public void ToolkitCandidates_UnknownDriver_TriesNewestMajorFirstBySonameThenStandardFolders()
    {
        var candidates = CudaLibraries.ToolkitCandidates("libnvrtc", driverMajor: null, cudaHome: null, overridePath: null);
        Assert.Equal(
        [
            "libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.13", "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so.13",
            "libnvrtc.so.12", "/usr/local/cuda/lib64/libnvrtc.so.12", "/usr/local/cuda/targets/x86_64-linux/lib/libnvrtc.so.12",
        ], candidates);
    }

    [Fact]
    public void ToolkitCandidates_Cuda12Driver_SkipsCuda13Libraries()
    {
        var candidates = CudaLibraries.ToolkitCandidates("libcublas", driverMajor: 12, cudaHome: null, overridePath: null);
        Assert.DoesNotContain(candidates, c => c.EndsWith(".so.13", StringComparison.Ordinal));
        Assert.Equal("libcublas.so.12", candidates[0]);
    }

    [Fact]
    public void ToolkitCandidates_Cuda11Driver_HasNoCandidateAndTheMessageSaysUpdateTheDriver()
    {
        var candidates = CudaLibraries.ToolkitCandidates("libnvrtc", driverMajor: 11, cudaHome: null, overridePath: null);
        Assert.Empty(candidates);
        string message = CudaLibraries.NotFoundMessage(CudaLibraries.Nvrtc, candidates, []);
        Assert.Contains("update the driver", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToolkitCandidates_OverrideAndCudaHome_ComeBeforeTheStandardFolders()
    {
        var candidates = CudaLibraries.ToolkitCandidates("libnvrtc", driverMajor: 13, cudaHome: "/opt/cuda-13.0", overridePath: "/x/libnvrtc.so.13.0.48");
        Assert.Equal("/x/libnvrtc.so.13.0.48", candidates[0]);
        Assert.Equal("libnvrtc.so.13", candidates[1]);
        Assert.Equal("/opt/cuda-13.0/lib64/libnvrtc.so.13", candidates[2]);
        Assert.Equal("/opt/cuda-13.0/targets/x86_64-linux/lib/libnvrtc.so.13", candidates[3]);
        Assert.True(candidates.ToList().IndexOf("/usr/local/cuda/lib64/libnvrtc.so.13") > 3);
    }

    [Fact]
    public void NotFoundMessage_NamesEveryCandidateTheLoaderReasonAndWhatToInstall()
    {
        string message = CudaLibraries.NotFoundMessage(CudaLibraries.Cublas, ["libcublas.so.13", "libcublas.so.12"],
            ["/usr/local/cuda/lib64/libcublas.so.13: libcublasLt.so.13: cannot open shared object file"]);
        Assert.StartsWith("cuBLAS (libcublas) not found: dlopen failed for libcublas.so.13, libcublas.so.12", message, StringComparison.Ordinal);
        Assert.Contains("libcublasLt.so.13: cannot open shared object file", message, StringComparison.Ordinal);
        Assert.Contains("install the CUDA 12 or 13 runtime libraries (nvrtc, cublas)", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void Probe_OfLibrariesThatDoNotExist_FailsWithTheCandidatesTheCallAndTheHint()
    {
        var spec = new CudaLibrarySpec("llcuda-test-missing-" + Guid.NewGuid().ToString("N"), "the test library (libllcuda-missing)",
            () => ["libllcuda-missing.so.7", "/nonexistent/folder/libllcuda-missing.so.7"], "install the llcuda test package");
        Assert.False(NativeLibraryResolver.TryLoad(spec, out _, out string message));
        Assert.Contains("libllcuda-missing.so.7, /nonexistent/folder/libllcuda-missing.so.7", message, StringComparison.Ordinal);
        Assert.EndsWith("install the llcuda test package", message, StringComparison.Ordinal);

        var e = Assert.Throws<CudaException>(() => NativeLibraryResolver.Load(spec, "cuTestCall"));
        Assert.True(e.IsLibraryMissing);
        Assert.Equal("cuTestCall", e.Call);
        Assert.StartsWith("cuTestCall: the test library (libllcuda-missing) not found", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_OfAFileThatIsNotALibrary_ReportsTheLoadersReason()
    {
        string path = Path.Combine(Path.GetTempPath(), $"llcuda-not-a-library-{Guid.NewGuid():N}.so");
        File.WriteAllText(path, "not an ELF file");
        try
        {
            var spec = new CudaLibrarySpec("llcuda-test-bad-" + Guid.NewGuid().ToString("N"), "the test library", () => [path], "reinstall it");
            Assert.False(NativeLibraryResolver.TryLoad(spec, out _, out string message));
            Assert.Contains($"the loader said: {path}:", message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ResolverCheck_LogicalNameResolvesToLibcAndCallsThrough()
    {
        Assert.True(ResolverCheckApi.Verify(out string detail), detail);
        Assert.Contains("libc.so.6", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 06:54:38 UTC 2025\nGCC version:  gcc version 13.3.0\n", "580.65.06")]
    [InlineData("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.20  Release Build\n", "570.133.20")]
    [InlineData("NVRM version: NVIDIA UNIX x86_64 Kernel Module\n580.1\n", null)]
    [InlineData("", null)]
    public void ParseKernelModuleVersion_ReadsTheNumberAfterKernelModule(string text, string? expected)
    {
        Assert.Equal(expected, CudaDriver.ParseKernelModuleVersion(text));
    }

    [NoCudaDriverFact]
    public void DriverProbe_OnAMachineWithoutTheDriver_SaysInstallTheNvidiaDriver()
    {
        Assert.False(CudaDriver.TryInitialize(out string reason));
        Assert.Contains("libcuda.so.1", reason, StringComparison.Ordinal);
        Assert.Contains("install the NVIDIA driver", reason, StringComparison.Ordinal);
        var e = Assert.Throws<CudaException>(CudaDriver.Initialize);
        Assert.True(e.IsLibraryMissing);
    }
}
