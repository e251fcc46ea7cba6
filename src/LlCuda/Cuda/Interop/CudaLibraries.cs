namespace LlCuda.Cuda.Interop;

/// <summary>A native library llcuda loads by probing: the name its imports use, where to look, what to install.</summary>
/// <param name="LogicalName">The name in the <c>[LibraryImport]</c> attributes ("llcuda-nvrtc"); never a file.</param>
/// <param name="Description">How messages name it ("NVRTC (CUDA's runtime compiler)").</param>
/// <param name="Candidates">Sonames and paths to try, in order; computed at probe time (they depend on the driver version).</param>
/// <param name="InstallHint">What the user should install or set when none loads.</param>
internal sealed record CudaLibrarySpec(string LogicalName, string Description, Func<IReadOnlyList<string>> Candidates, string InstallHint);

/// <summary>
/// The three CUDA libraries and where each is looked for. The candidate lists and the failure
/// message are pure functions so they can be tested on machines without CUDA.
/// </summary>
internal static class CudaLibraries
{
    public const string DriverLogicalName = "llcuda-cuda";
    public const string NvrtcLogicalName = "llcuda-nvrtc";
    public const string CublasLogicalName = "llcuda-cublas";
    public const string ResolverCheckLogicalName = "llcuda-resolver-check";

    /// <summary>CUDA major versions whose NVRTC and cuBLAS llcuda can use, newest first.</summary>
    public static readonly int[] SupportedMajors = [13, 12];

    /// <summary>
    /// Where CUDA installs its libraries when the loader cache does not know them (a toolkit
    /// unpacked without ldconfig, a container without /etc/ld.so.conf.d/cuda*.conf).
    /// </summary>
    public static readonly string[] ToolkitFolders = ["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"];

    const string ToolkitInstallHint =
        "install the CUDA 12 or 13 runtime libraries (nvrtc, cublas), e.g. 'apt install cuda-nvrtc-13-0 libcublas-13-0' from NVIDIA's repository or 'pip install nvidia-cuda-nvrtc-cu12 nvidia-cublas-cu12', " +
        "and put their folder on LD_LIBRARY_PATH or set CUDA_HOME";

    /// <summary>libcuda.so.1: the user-space half of the NVIDIA driver. Only the soname: the driver's
    /// libcuda must match its kernel module, so a copy found elsewhere would be the wrong one.</summary>
    public static readonly CudaLibrarySpec Driver = new(DriverLogicalName, "the NVIDIA driver (libcuda.so.1)",
        () => ["libcuda.so.1"],
        "install the NVIDIA driver (it provides libcuda.so.1; check with 'nvidia-smi'); inside a container, run it with the GPU exposed (docker --gpus all)");

    public static readonly CudaLibrarySpec Nvrtc = new(NvrtcLogicalName, "NVRTC (CUDA's runtime compiler, libnvrtc)",
        () => ToolkitCandidates("libnvrtc", DriverMajorOrNull(), Environment.GetEnvironmentVariable("CUDA_HOME"), Environment.GetEnvironmentVariable("LLCUDA_NVRTC_LIB")),
        ToolkitInstallHint + " (or LLCUDA_NVRTC_LIB to the library file)");

    public static readonly CudaLibrarySpec Cublas = new(CublasLogicalName, "cuBLAS (libcublas)",
        () => ToolkitCandidates("libcublas", DriverMajorOrNull(), Environment.GetEnvironmentVariable("CUDA_HOME"), Environment.GetEnvironmentVariable("LLCUDA_CUBLAS_LIB")),
        ToolkitInstallHint + " (or LLCUDA_CUBLAS_LIB to the library file)");

    /// <summary>libc under a logical name: proves the resolver works in this build (<see cref="ResolverCheckApi"/>).</summary>
    public static readonly CudaLibrarySpec ResolverCheck = new(ResolverCheckLogicalName, "the C library (libc.so.6)",
        () => ["libc.so.6"], "llcuda needs glibc 2.36 or newer (Linux x64)");

    /// <summary>
    /// Where to look for a toolkit library <paramref name="stem"/> ("libnvrtc"): an explicit
    /// override first, then for each CUDA major version, newest first, the soname (found through
    /// LD_LIBRARY_PATH and the loader cache), then $CUDA_HOME and the standard folders.
    /// Majors newer than the driver supports are skipped: a CUBIN from NVRTC 13 or a cuBLAS 13
    /// does not run on a driver that only knows CUDA 12.
    /// </summary>
    /// <param name="driverMajor">The CUDA major version the driver supports (cuDriverGetVersion / 1000); null when unknown.</param>
    /// <param name="cudaHome">$CUDA_HOME, or null.</param>
    /// <param name="overridePath">A file the user named (LLCUDA_NVRTC_LIB), tried first; or null.</param>
    public static IReadOnlyList<string> ToolkitCandidates(string stem, int? driverMajor, string? cudaHome, string? overridePath)
    {
        var result = new List<string>();
        if (!string.IsNullOrWhiteSpace(overridePath)) result.Add(overridePath);
        var folders = new List<string>();
        if (!string.IsNullOrWhiteSpace(cudaHome))
        {
            folders.Add(Path.Combine(cudaHome, "lib64"));
            folders.Add(Path.Combine(cudaHome, "targets", "x86_64-linux", "lib"));
        }
        folders.AddRange(ToolkitFolders);
        foreach (int major in SupportedMajors)
        {
            if (driverMajor is { } d && major > d) continue;
            string soname = $"{stem}.so.{major}";
            result.Add(soname);
            foreach (var folder in folders.Distinct(StringComparer.Ordinal)) result.Add(Path.Combine(folder, soname));
        }
        return result;
    }

    /// <summary>
    /// The one-line error when no candidate loaded: what is missing, every name tried, the
    /// loader's reason where a file existed but failed to load (a missing dependency), and what to do.
    /// </summary>
    /// <param name="failures">Loader messages for candidates that exist but did not load; may be empty.</param>
    public static string NotFoundMessage(CudaLibrarySpec spec, IReadOnlyList<string> tried, IReadOnlyList<string> failures)
    {
        string triedText = tried.Count == 0
            ? "no candidate (the NVIDIA driver supports no CUDA version llcuda can use: 12 or newer is needed; update the driver)"
            : string.Join(", ", tried);
        string reasons = failures.Count == 0 ? "" : $"; the loader said: {string.Join("; ", failures)}";
        return $"{spec.Description} not found: dlopen failed for {triedText}{reasons}; {spec.InstallHint}";
    }

    // The driver's CUDA version bounds which toolkit libraries can work with it. cuDriverGetVersion
    // needs no cuInit, so this works even where cuInit fails (no device).
    static int? DriverMajorOrNull() =>
        NativeLibraryResolver.TryLoad(Driver, out _, out _) && CudaDriverApi.DriverGetVersion(out int version) == CudaDriverApi.Success
            ? version / 1000
            : null;
}
