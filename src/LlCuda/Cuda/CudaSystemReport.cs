namespace LlCuda.Cuda;

/// <summary>One GPU as `llcuda system-info` shows it.</summary>
/// <param name="FreeBytes">Free memory now; null when the device's context could not be opened.</param>
public sealed record CudaGpuInfo(int Ordinal, string Name, ComputeCapability ComputeCapability, long TotalBytes, long? FreeBytes, int Multiprocessors);

/// <param name="DriverVersion">The CUDA version the driver supports ("13.0"); null without a driver.</param>
/// <param name="KernelModuleVersion">The NVIDIA kernel module's version ("580.65.06"), when /proc says.</param>
/// <summary>
/// What this machine offers the CUDA backend: the driver, its GPUs, NVRTC and cuBLAS, each
/// either found (with versions) or with the one-line reason it is missing.
/// <see cref="Collect"/> never throws, so system-info works on any machine.
/// </summary>
public sealed record CudaSystemReport(
    string? DriverProblem, string? DriverVersion, string? KernelModuleVersion, IReadOnlyList<CudaGpuInfo> Gpus,
    string? NvrtcVersion, string? NvrtcProblem, string? CublasVersion, string? CublasProblem)
{
    /// <summary>True when libcuda.so.1 loaded and cuInit succeeded.</summary>
    public bool DriverUsable => DriverProblem is null;

    /// <summary>Probes everything; failures become the *Problem strings.</summary>
    public static CudaSystemReport Collect()
    {
        string? driverVersion = null, driverProblem = null;
        var gpus = new List<CudaGpuInfo>();
        try
        {
            if (CudaDriver.IsInstalled) driverVersion = CudaDriver.FormatVersion(CudaDriver.Version);
            if (!CudaDriver.TryInitialize(out string reason)) driverProblem = reason;
            else
            {
                foreach (var device in CudaDevice.All())
                    gpus.Add(new CudaGpuInfo(device.Ordinal, device.Name, device.ComputeCapability, device.TotalMemoryBytes, FreeMemory(device.Ordinal), device.MultiprocessorCount));
            }
        }
        catch (CudaException e)
        {
            driverProblem ??= e.Message;
        }

        string? nvrtcVersion = null, nvrtcProblem = null;
        try
        {
            string loaded = Nvrtc.Load("nvrtcVersion");
            var (major, minor) = Nvrtc.Version;
            nvrtcVersion = $"{major}.{minor} ({loaded})";
        }
        catch (CudaException e)
        {
            nvrtcProblem = e.Message;
        }

        string? cublasVersion = null, cublasProblem = null;
        try
        {
            cublasVersion = CublasHandle.TryGetVersion(out string problem);
            if (cublasVersion is null) cublasProblem = problem;
        }
        catch (Exception e) when (e is CudaException or EntryPointNotFoundException)
        {
            cublasProblem = e.Message;
        }
        return new CudaSystemReport(driverProblem, driverVersion, CudaDriver.KernelModuleVersion, gpus, nvrtcVersion, nvrtcProblem, cublasVersion, cublasProblem);
    }

    // Free memory needs a context; the primary one is retained and released right away.
    static long? FreeMemory(int ordinal)
    {
        try
        {
            using var context = CudaContext.Open(ordinal);
            return context.GetMemoryInfo().FreeBytes;
        }
        catch (CudaException)
        {
            return null;   // a GPU in exclusive-process mode held by another process, say
        }
    }
}
