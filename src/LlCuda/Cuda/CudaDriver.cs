using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// The NVIDIA driver as this process sees it: loads libcuda.so.1 and calls cuInit once.
/// Thread-safe; the outcome (success or the reason for failure) is fixed for the process.
/// </summary>
public static class CudaDriver
{
    static readonly Lazy<string?> InitFailure = new(InitializeOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>True when libcuda.so.1 loads and cuInit succeeds; otherwise <paramref name="reason"/> says why, in one line.</summary>
    public static bool TryInitialize(out string reason)
    {
        reason = InitFailure.Value ?? "";
        return InitFailure.Value is null;
    }

    /// <summary>Loads the driver and initializes it, or throws a <see cref="CudaException"/> that says what to install or check.</summary>
    public static void Initialize()
    {
        NativeLibraryResolver.Load(CudaLibraries.Driver, "cuInit");
        if (InitFailure.Value is { } failure) throw CudaException.Refused(CudaCheck.DriverLibrary, "cuInit", failure);
    }

    /// <summary>True when libcuda.so.1 can be loaded (the driver is installed), whether or not a GPU is usable.</summary>
    public static bool IsInstalled => NativeLibraryResolver.TryLoad(CudaLibraries.Driver, out _, out _);

    /// <summary>The CUDA version the driver supports, as 1000 * major + 10 * minor (13000 for 13.0). Needs no cuInit.</summary>
    public static int Version
    {
        get
        {
            NativeLibraryResolver.Load(CudaLibraries.Driver, "cuDriverGetVersion");
            CudaCheck.Driver(CudaDriverApi.DriverGetVersion(out int version), "cuDriverGetVersion");
            return version;
        }
    }

    /// <summary>
    /// The NVIDIA kernel module's version ("580.65.06") from /proc/driver/nvidia/version, or null
    /// where there is none (no driver, a container without /proc/driver/nvidia). The driver API
    /// only reports the CUDA version it supports; this is the number nvidia-smi shows.
    /// </summary>
    public static string? KernelModuleVersion
    {
        get
        {
            try
            {
                return ParseKernelModuleVersion(File.ReadAllText("/proc/driver/nvidia/version"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    /// <summary>The version from the text of /proc/driver/nvidia/version ("NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.65.06  Sun Jul 27 ..."); null if absent.</summary>
    internal static string? ParseKernelModuleVersion(string text)
    {
        const string marker = "Kernel Module";
        int at = text.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return null;
        // The open module's line reads "... Open Kernel Module for x86_64  580.65.06 ...": take the
        // first word after the marker that is a dotted number.
        string line = text[(at + marker.Length)..].Split('\n')[0];
        return line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(w => w.Contains('.', StringComparison.Ordinal) && w.All(c => char.IsAsciiDigit(c) || c == '.'));
    }

    /// <summary>"13.0" for 13000.</summary>
    public static string FormatVersion(int version) => $"{version / 1000}.{version % 1000 / 10}";

    /// <summary>Number of CUDA devices visible to this process (CUDA_VISIBLE_DEVICES applies).</summary>
    public static int DeviceCount
    {
        get
        {
            Initialize();
            CudaCheck.Driver(CudaDriverApi.DeviceGetCount(out int count), "cuDeviceGetCount");
            return count;
        }
    }

    /// <summary>Release calls (cuMemFree, cuStreamDestroy, ...) that failed in Dispose in this process; they are counted, not thrown.</summary>
    public static long ReleaseFailures => CudaCheck.ReleaseFailures;

    /// <summary>The last failed release call, or null.</summary>
    public static string? LastReleaseFailure => CudaCheck.LastReleaseFailure;

    static string? InitializeOnce()
    {
        if (!NativeLibraryResolver.TryLoad(CudaLibraries.Driver, out _, out string message)) return message;
        int result = CudaDriverApi.Init(0);
        if (result == CudaDriverApi.Success) return null;
        // cuInit fails without a GPU (100), with a mismatched kernel module (803), with the
        // toolkit's stub library (34): all are setup problems with their own advice.
        return CudaCheck.DriverError(result, "cuInit").Message;
    }
}
