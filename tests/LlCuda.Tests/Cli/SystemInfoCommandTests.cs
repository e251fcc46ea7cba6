using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

public class SystemInfoCommandTests
{
    [Fact]
    public void SystemInfoJson_ListsInstructionSetsAndKernelPath()
    {
        var r = CliRunner.InProcess("system-info", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(Avx2.IsSupported, doc.RootElement.GetProperty("instruction_sets").GetProperty("AVX2").GetBoolean());
        Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("kernel_path").GetString()));
    }

    // The NativeAOT binary only uses instruction sets it was compiled for; it once ran the scalar
    // kernels on an AVX-512 machine. On any AVX2 machine it must take a vector path.
    [PublishedBinaryFact]
    public void PublishedBinary_OnAnAvx2Machine_UsesVectorKernels()
    {
        var r = CliRunner.Published(["system-info", "--json"]);
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.True(doc.RootElement.GetProperty("native_aot").GetBoolean());
        if (Avx2.IsSupported && Fma.IsSupported)
            Assert.NotEqual("Scalar", doc.RootElement.GetProperty("kernel_path").GetString());
    }

    [PublishedBinaryFact]
    public void PublishedBinary_LlcudaCpuPathScalar_SelectsTheScalarKernels()
    {
        var r = CliRunner.Published(["system-info", "--json"], environment: new Dictionary<string, string?> { ["LLCUDA_CPU_PATH"] = "scalar" });
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("Scalar", doc.RootElement.GetProperty("kernel_path").GetString());
    }
}
