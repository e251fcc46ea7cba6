using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// Turns the result codes of the three CUDA libraries into <see cref="CudaException"/>s, with
/// advice per code. The checks are tiny so they inline into the wrappers; the throwing half
/// is separate so the wrappers stay small.
/// </summary>
internal static class CudaCheck
{
    public const string DriverLibrary = "CUDA driver";
    public const string NvrtcLibrary = "NVRTC";
    public const string CublasLibrary = "cuBLAS";

    static long _releaseFailures;
    static string? _lastReleaseFailure;

    /// <summary>Throws unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public static void Driver(int result, string call, string? kernel = null)
    {
        if (result != CudaDriverApi.Success) ThrowDriver(result, call, kernel);
    }

    [DoesNotReturn]
    static void ThrowDriver(int result, string call, string? kernel) => throw DriverError(result, call, kernel);

    /// <summary>The exception for a failed driver call (name and text from libcuda itself).</summary>
    public static CudaException DriverError(int result, string call, string? kernel = null) =>
        CudaException.Failed(DriverLibrary, call, result, DriverErrorName(result), DriverErrorText(result), kernel, DriverAdvice(result));

    /// <summary>Throws unless <paramref name="result"/> is NVRTC_SUCCESS.</summary>
    public static void Nvrtc(int result, string call)
    {
        if (result != NvrtcApi.Success) ThrowNvrtc(result, call);
    }

    [DoesNotReturn]
    static void ThrowNvrtc(int result, string call) =>
        throw CudaException.Failed(NvrtcLibrary, call, result, Marshal.PtrToStringUTF8(NvrtcApi.GetErrorString(result)), null, null, NvrtcAdvice(result));

    /// <summary>Throws unless <paramref name="result"/> is CUBLAS_STATUS_SUCCESS.</summary>
    public static void Cublas(int result, string call)
    {
        if (result != CublasApi.Success) ThrowCublas(result, call);
    }

    [DoesNotReturn]
    static void ThrowCublas(int result, string call) =>
        throw CudaException.Failed(CublasLibrary, call, result, CublasText(CublasApi.GetStatusName, result), CublasText(CublasApi.GetStatusString, result), null, CublasAdvice(result));

    /// <summary>
    /// Checks a release call made from Dispose (cuMemFree, cuStreamDestroy, ...) without
    /// throwing: Dispose runs in finally blocks, where a throw would hide the error that got
    /// us there, and after a sticky error every release fails the same way. Failures are
    /// counted so the selftest (and a curious user) can see leaks.
    /// </summary>
    public static void Release(int result, string call)
    {
        if (result != CudaDriverApi.Success) RecordReleaseFailure($"{call}: {DriverErrorName(result)} ({result})");
    }

    /// <summary>Counts a failed release of any library (see <see cref="Release"/>); <paramref name="description"/> names the call and code.</summary>
    public static void RecordReleaseFailure(string description)
    {
        Interlocked.Increment(ref _releaseFailures);
        Volatile.Write(ref _lastReleaseFailure, description);
    }

    /// <summary>Release calls that failed in this process (see <see cref="Release"/>).</summary>
    public static long ReleaseFailures => Interlocked.Read(ref _releaseFailures);

    /// <summary>The last failed release call and its code, or null.</summary>
    public static string? LastReleaseFailure => Volatile.Read(ref _lastReleaseFailure);

    public static string DriverErrorName(int code) =>
        CudaDriverApi.GetErrorName(code, out nint s) == CudaDriverApi.Success && s != 0 ? Marshal.PtrToStringUTF8(s)! : $"CUDA_ERROR_{code}";

    static string? DriverErrorText(int code) =>
        CudaDriverApi.GetErrorString(code, out nint s) == CudaDriverApi.Success && s != 0 ? Marshal.PtrToStringUTF8(s) : null;

    static string? CublasText(Func<int, nint> get, int code)
    {
        // cublasGetStatusName/String arrived in cuBLAS 11.4.2; we require 12, but stay safe.
        try { return get(code) is var s and not 0 ? Marshal.PtrToStringUTF8(s) : null; }
        catch (EntryPointNotFoundException) { return null; }
    }

    /// <summary>What to do about a driver error code (pure).</summary>
    internal static string DriverAdvice(int code) => code switch
    {
        CudaDriverApi.ErrorOutOfMemory => "free GPU memory (other processes: nvidia-smi) or use a smaller model or context",
        CudaDriverApi.ErrorNoDevice => "no CUDA GPU is visible to this process: check nvidia-smi and CUDA_VISIBLE_DEVICES",
        CudaDriverApi.ErrorInvalidDevice => "the GPU ordinal is out of range: see 'llcuda system-info' for the GPUs present",
        CudaDriverApi.ErrorStubLibrary => "the libcuda.so.1 found is the CUDA toolkit's stub: install the NVIDIA driver, or take the toolkit's stubs folder off LD_LIBRARY_PATH",
        CudaDriverApi.ErrorInsufficientDriver or CudaDriverApi.ErrorCompatNotSupportedOnDevice => "the NVIDIA driver is too old for this CUDA version: update the driver",
        CudaDriverApi.ErrorSystemDriverMismatch => "libcuda.so.1 and the loaded kernel module are different driver versions: reboot, or reinstall the driver",
        CudaDriverApi.ErrorInvalidImage or CudaDriverApi.ErrorNoBinaryForGpu or CudaDriverApi.ErrorInvalidPtx or CudaDriverApi.ErrorUnsupportedPtxVersion =>
            "the compiled kernel does not fit this GPU or driver: delete the kernel cache (~/.cache/llcuda/kernels or $LLCUDA_HOME/cache/kernels) and retry; if it persists, use NVRTC of a CUDA version the driver supports",
        CudaDriverApi.ErrorNotFound => "a kernel name does not exist in its module: a bug in llcuda (the .cu file and the C# name disagree)",
        CudaDriverApi.ErrorLaunchOutOfResources => "the launch asks for more threads, registers or shared memory than the GPU has per block: a bug in llcuda's launch configuration",
        CudaDriverApi.ErrorStreamCaptureUnsupported or CudaDriverApi.ErrorStreamCaptureInvalidated => "an operation that cannot be captured ran while a CUDA graph was being captured: a bug in llcuda",
        >= CudaDriverApi.ErrorIllegalAddress and <= 720 => "a kernel faulted and the GPU context is unusable: restart the process; to find the kernel, run under 'compute-sanitizer --tool memcheck'",
        _ => "unexpected: please report it with the output of 'llcuda system-info'",
    };

    static string NvrtcAdvice(int code) => code switch
    {
        NvrtcApi.ErrorInvalidOption => "this NVRTC does not accept an option llcuda passed (an architecture newer than it knows?): install a newer CUDA runtime (nvrtc)",
        NvrtcApi.ErrorCompilation => "the kernel source did not compile: a bug in llcuda (the log follows)",
        _ => "unexpected: please report it with the output of 'llcuda system-info'",
    };

    static string CublasAdvice(int code) => code switch
    {
        1 => "cuBLAS found no usable CUDA context: check that the driver works ('llcuda selftest --device cuda')",
        3 => "out of GPU memory: free GPU memory or use a smaller model or context",
        8 => "this GPU lacks a feature the operation needs (bf16 needs compute capability 8.0)",
        13 => "a cuBLAS kernel failed to launch: check the GPU with 'llcuda selftest --device cuda'",
        _ => "unexpected: please report it with the output of 'llcuda system-info'",
    };
}
