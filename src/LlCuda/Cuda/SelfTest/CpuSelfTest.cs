using System.Diagnostics;
using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda.SelfTest;

/// <summary>
/// `llcuda selftest --device cpu`: nothing of the CPU engine to check yet, but the native
/// library resolver the CUDA backend depends on can be proven here, on any machine.
/// </summary>
public static class CpuSelfTest
{
    /// <summary>Runs the CPU-side checks.</summary>
    public static IReadOnlyList<SelfTestResult> Run()
    {
        var clock = Stopwatch.StartNew();
        bool ok = ResolverCheckApi.Verify(out string detail);
        return [new SelfTestResult("resolver", ok ? SelfTestStatus.Pass : SelfTestStatus.Fail, detail, clock.Elapsed)];
    }
}
