using LlCuda.Cuda;

namespace LlCuda.Tests.Cuda;

public class KernelTargetTests
{
    // What NVRTC 13.0 reports (Maxwell to Volta dropped), and NVRTC 12.0's list.
    static readonly int[] Nvrtc13 = [75, 80, 86, 87, 88, 89, 90, 100, 103, 110, 120, 121];
    static readonly int[] Nvrtc12_0 = [50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90];

    [Theory]
    [InlineData(9, 0, "sm_90")]
    [InlineData(8, 9, "sm_89")]
    [InlineData(8, 6, "sm_86")]
    [InlineData(7, 5, "sm_75")]
    [InlineData(12, 0, "sm_120")]
    [InlineData(10, 0, "sm_100")]
    public void Choose_SupportedGpu_CompilesACubinForItsOwnArchitecture(int major, int minor, string expected)
    {
        var target = KernelTarget.Choose(new ComputeCapability(major, minor), Nvrtc13, "13.0");
        Assert.Equal(new KernelTarget(expected, IsCubin: true), target);
    }

    [Fact]
    public void Choose_MinorVersionNvrtcDoesNotList_UsesTheNewestCubinOfTheSameMajorBelowIt()
    {
        // A CUBIN for sm_86 runs on sm_8.9; nothing of another major qualifies.
        Assert.Equal(new KernelTarget("sm_86", true), KernelTarget.Choose(new ComputeCapability(8, 9), [75, 80, 86, 90], "11.8"));
        Assert.Equal(new KernelTarget("sm_121", true), KernelTarget.Choose(new ComputeCapability(12, 9), Nvrtc13, "13.0"));
    }

    [Fact]
    public void Choose_GpuNewerThanNvrtc_FallsBackToPtxOfTheNewestArchitecture()
    {
        var target = KernelTarget.Choose(new ComputeCapability(10, 0), Nvrtc12_0, "12.0");
        Assert.Equal(new KernelTarget("compute_90", IsCubin: false), target);
        Assert.Contains("--gpu-architecture=compute_90", target.CompilerOptions());
    }

    [Fact]
    public void Choose_GpuOlderThanNvrtcSupports_RefusesNamingTheRangeAndTheFix()
    {
        var e = Assert.Throws<CudaException>(() => KernelTarget.Choose(new ComputeCapability(6, 1), Nvrtc13, "13.0"));
        Assert.Contains("compute capability 6.1", e.Message, StringComparison.Ordinal);
        Assert.Contains("sm_75 to sm_121", e.Message, StringComparison.Ordinal);
        Assert.Contains("CUDA 12 runtime libraries", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Choose_EmptyArchitectureList_Refuses()
    {
        Assert.Throws<CudaException>(() => KernelTarget.Choose(new ComputeCapability(9, 0), [], "13.0"));
    }

    [Fact]
    public void CompilerOptions_NameTheArchitectureCxx17DeviceDefaultAndLineInfo()
    {
        var options = new KernelTarget("sm_90", true).CompilerOptions();
        Assert.Equal(["--gpu-architecture=sm_90", "--std=c++17", "-default-device", "--generate-line-info"], options);
    }

    [Theory]
    [InlineData(9, 0, 90, "sm_90")]
    [InlineData(12, 0, 120, "sm_120")]
    [InlineData(8, 6, 86, "sm_86")]
    public void ComputeCapability_SmNumberAndName(int major, int minor, int sm, string name)
    {
        var cc = new ComputeCapability(major, minor);
        Assert.Equal(sm, cc.Sm);
        Assert.Equal(name, cc.RealArchitecture);
        Assert.Equal(cc, ComputeCapability.FromSm(sm));
        Assert.Equal($"{major}.{minor}", cc.ToString());
    }
}
