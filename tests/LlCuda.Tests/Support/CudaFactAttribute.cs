using LlCuda.Cuda;

namespace LlCuda.Tests.Support;

/// <summary>
/// A fact that needs an NVIDIA GPU: skips with the reason ("no NVIDIA driver: libcuda.so.1
/// not found", "no CUDA device: ...") on machines without one, so the suite passes in CI and
/// runs the GPU tests on the GPU host.
/// </summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaTestEnvironment.SkipReason is { } reason) Skip = reason;
    }
}

/// <summary>
/// A fact about the messages a machine without the NVIDIA driver gets; skips where the driver
/// is installed (the GPU host), where [CudaFact] tests cover the other side.
/// </summary>
public sealed class NoCudaDriverFactAttribute : FactAttribute
{
    public NoCudaDriverFactAttribute()
    {
        if (CudaDriver.IsInstalled) Skip = "the NVIDIA driver is installed: this test checks what a machine without it reports";
    }
}

/// <summary>Whether this machine can run GPU tests, decided once per test run.</summary>
public static class CudaTestEnvironment
{
    static readonly Lazy<string?> Reason = new(() =>
    {
        if (!CudaDriver.IsInstalled) return "no NVIDIA driver: libcuda.so.1 not found";
        if (!CudaDriver.TryInitialize(out string why)) return $"no CUDA device: {why}";
        return CudaDriver.DeviceCount == 0 ? "no CUDA device: cuDeviceGetCount returned 0" : null;
    });

    /// <summary>Null when GPU tests can run; otherwise why not.</summary>
    public static string? SkipReason => Reason.Value;
}
