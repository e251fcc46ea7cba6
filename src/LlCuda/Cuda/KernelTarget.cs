namespace LlCuda.Cuda;

/// <summary>
/// What NVRTC compiles a kernel for on one GPU: a CUBIN for a real architecture (sm_90), which
/// loads with no further compilation, or PTX for a virtual one (compute_90), which the driver
/// compiles at load time for a GPU newer than this NVRTC knows.
/// </summary>
/// <param name="Architecture">"sm_90" or "compute_90".</param>
/// <param name="IsCubin">True for sm_XY (CUBIN), false for compute_XY (PTX).</param>
public readonly record struct KernelTarget(string Architecture, bool IsCubin)
{
    /// <summary>
    /// Picks the target for <paramref name="device"/> given the real architectures this NVRTC
    /// supports (ascending sm numbers). A CUBIN for sm_XY runs on any GPU of the same major
    /// version with a minor of at least Y, so the best is the newest supported sm of the device's
    /// major not above it; a GPU newer than every supported architecture gets PTX for the newest
    /// one (forward compatible through the driver's JIT); a GPU older than all of them cannot be used.
    /// </summary>
    /// <param name="nvrtcVersion">For the message only ("13.0").</param>
    public static KernelTarget Choose(ComputeCapability device, IReadOnlyList<int> supportedSm, string nvrtcVersion)
    {
        if (supportedSm.Count == 0)
            throw CudaException.Refused(CudaCheck.NvrtcLibrary, "nvrtcGetSupportedArchs", $"NVRTC {nvrtcVersion} reports no supported GPU architecture: reinstall the CUDA runtime libraries");
        int best = -1;
        foreach (int sm in supportedSm)
            if (sm / 10 == device.Major && sm <= device.Sm && sm > best) best = sm;
        if (best >= 0) return new KernelTarget($"sm_{best}", IsCubin: true);
        int newest = supportedSm.Max();
        if (device.Sm > newest) return new KernelTarget($"compute_{newest}", IsCubin: false);
        int oldest = supportedSm.Min();
        throw CudaException.Refused(CudaCheck.NvrtcLibrary, "nvrtcGetSupportedArchs",
            $"this GPU (compute capability {device}) is older than NVRTC {nvrtcVersion} can compile for (sm_{oldest} to sm_{newest}): " +
            "install the CUDA 12 runtime libraries (LLCUDA_NVRTC_LIB may name libnvrtc.so.12), or run on the CPU (--device cpu)");
    }

    /// <summary>
    /// The NVRTC options for this target: C++17, every function a device function unless marked
    /// otherwise (our .cu files have no host code), and line info so compute-sanitizer and
    /// Nsight name source lines (it changes no generated instruction).
    /// </summary>
    public IReadOnlyList<string> CompilerOptions() =>
    [
        $"--gpu-architecture={Architecture}",
        "--std=c++17",
        "-default-device",
        "--generate-line-info",
    ];

    public override string ToString() => Architecture;
}
