using System.Runtime.InteropServices;

namespace LlCuda.Cuda.Interop;

/// <summary>
/// Raw imports of the CUDA driver API (libcuda.so.1, installed by the NVIDIA driver, not by
/// the CUDA toolkit). Nothing outside <c>LlCuda.Cuda</c> calls these: the typed wrappers check
/// every result through <see cref="CudaCheck"/>.
/// </summary>
/// <remarks>
/// <para>Every function returns a <c>CUresult</c>: 0 (CUDA_SUCCESS) or an error code whose
/// name and text come from <see cref="GetErrorName"/> / <see cref="GetErrorString"/>. The codes
/// the wrappers treat specially are listed as constants below. Errors from 700 to 720
/// (illegal address, launch failed, ...) are "sticky": the context is unusable afterwards and
/// every later call in the process returns the same code, so the process must restart.</para>
/// <para>Entry points are the exported symbols, which for several functions are the
/// <c>_v2</c> names cuda.h maps the plain names to (64-bit sizes and CUdeviceptr since CUDA
/// 3.2, per-primary-context release since CUDA 11). The plain names still exist in libcuda
/// with the old 32-bit signatures, so the suffixes here are not optional.</para>
/// <para>Types: CUdevice is int; CUdeviceptr is a 64-bit unsigned integer (ulong); size_t is
/// nuint; CUcontext, CUstream, CUevent, CUmodule, CUfunction, CUgraph, CUgraphExec are opaque
/// pointers (nint). Enums are int.</para>
/// <para>Threading: the driver API is thread-safe, but most calls act on the context current
/// on the calling thread (<see cref="CtxSetCurrent"/>), which is per thread.</para>
/// </remarks>
internal static unsafe partial class CudaDriverApi
{
    /// <summary>The name the imports use; <see cref="NativeLibraryResolver"/> maps it to the probed libcuda.so.1.</summary>
    public const string Library = CudaLibraries.DriverLogicalName;

    // CUresult values the wrappers act on (cuda.h, CUresult enum).
    public const int Success = 0;
    public const int ErrorInvalidValue = 1;
    public const int ErrorOutOfMemory = 2;
    public const int ErrorNotInitialized = 3;
    public const int ErrorDeinitialized = 4;
    public const int ErrorStubLibrary = 34;          // libcuda.so.1 is the toolkit's stub, not a driver
    public const int ErrorInsufficientDriver = 35;   // driver older than the runtime/toolkit needs
    public const int ErrorNoDevice = 100;
    public const int ErrorInvalidDevice = 101;
    public const int ErrorInvalidImage = 200;
    public const int ErrorNoBinaryForGpu = 209;
    public const int ErrorInvalidPtx = 218;
    public const int ErrorUnsupportedPtxVersion = 222;
    public const int ErrorNotFound = 500;
    public const int ErrorNotReady = 600;
    public const int ErrorIllegalAddress = 700;       // first sticky error
    public const int ErrorLaunchOutOfResources = 701;
    public const int ErrorLaunchFailed = 719;         // sticky errors span 700..720
    public const int ErrorSystemDriverMismatch = 803;
    public const int ErrorCompatNotSupportedOnDevice = 804;
    public const int ErrorStreamCaptureUnsupported = 900;
    public const int ErrorStreamCaptureInvalidated = 901;
    public const int ErrorGraphExecUpdateFailure = 910;  // the new graph's shape differs; the result info says how

    // CUdevice_attribute values used by CudaDevice.
    public const int AttributeMaxThreadsPerBlock = 1;
    public const int AttributeMultiprocessorCount = 16;
    public const int AttributeMemoryClockRateKHz = 36;
    public const int AttributeGlobalMemoryBusWidthBits = 37;
    public const int AttributeL2CacheBytes = 38;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
    public const int AttributeMaxSharedMemoryPerBlockOptIn = 97;

    // Flags.
    public const uint StreamNonBlocking = 0x1;        // does not synchronize with the legacy default stream
    public const uint EventDefault = 0x0;
    public const uint EventDisableTiming = 0x2;
    public const uint MemHostAllocPortable = 0x1;     // pinned for every context, not only the current one
    public const int StreamCaptureModeThreadLocal = 1; // only this thread's unsafe calls break a capture
    public const int FuncAttributeMaxDynamicSharedSizeBytes = 8;

    // ---- initialization, version, devices -------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cuInit")]
    public static partial int Init(uint flags);

    [LibraryImport(Library, EntryPoint = "cuDriverGetVersion")]
    public static partial int DriverGetVersion(out int version);   // 1000 * major + 10 * minor: 13000 = 13.0

    [LibraryImport(Library, EntryPoint = "cuDeviceGetCount")]
    public static partial int DeviceGetCount(out int count);

    [LibraryImport(Library, EntryPoint = "cuDeviceGet")]
    public static partial int DeviceGet(out int device, int ordinal);

    [LibraryImport(Library, EntryPoint = "cuDeviceGetName")]
    public static partial int DeviceGetName(Span<byte> name, int length, int device);

    [LibraryImport(Library, EntryPoint = "cuDeviceGetAttribute")]
    public static partial int DeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport(Library, EntryPoint = "cuDeviceTotalMem_v2")]
    public static partial int DeviceTotalMem(out nuint bytes, int device);

    // ---- primary context ------------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRetain")]
    public static partial int DevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport(Library, EntryPoint = "cuDevicePrimaryCtxRelease_v2")]
    public static partial int DevicePrimaryCtxRelease(int device);

    [LibraryImport(Library, EntryPoint = "cuCtxSetCurrent")]
    public static partial int CtxSetCurrent(nint context);

    [LibraryImport(Library, EntryPoint = "cuCtxSynchronize")]
    public static partial int CtxSynchronize();

    // ---- memory ---------------------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cuMemGetInfo_v2")]
    public static partial int MemGetInfo(out nuint free, out nuint total);

    [LibraryImport(Library, EntryPoint = "cuMemAlloc_v2")]
    public static partial int MemAlloc(out ulong devicePointer, nuint bytes);

    [LibraryImport(Library, EntryPoint = "cuMemFree_v2")]
    public static partial int MemFree(ulong devicePointer);

    [LibraryImport(Library, EntryPoint = "cuMemHostAlloc")]
    public static partial int MemHostAlloc(out nint hostPointer, nuint bytes, uint flags);

    [LibraryImport(Library, EntryPoint = "cuMemFreeHost")]
    public static partial int MemFreeHost(nint hostPointer);

    // Pageable (managed) spans are pinned for the call only. That is enough: for pageable host
    // memory the driver returns from HtoD once the source is staged and from DtoH once the copy
    // has completed (driver API docs, "API synchronization behavior").
    [LibraryImport(Library, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    public static partial int MemcpyHtoDAsync(ulong destination, ReadOnlySpan<byte> source, nuint bytes, nint stream);

    [LibraryImport(Library, EntryPoint = "cuMemcpyHtoDAsync_v2")]
    public static partial int MemcpyHtoDAsync(ulong destination, nint source, nuint bytes, nint stream);

    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoHAsync_v2")]
    public static partial int MemcpyDtoHAsync(Span<byte> destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoHAsync_v2")]
    public static partial int MemcpyDtoHAsync(nint destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Library, EntryPoint = "cuMemcpyDtoDAsync_v2")]
    public static partial int MemcpyDtoDAsync(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Library, EntryPoint = "cuMemsetD8Async")]
    public static partial int MemsetD8Async(ulong destination, byte value, nuint count, nint stream);

    // ---- streams and events ---------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cuStreamCreate")]
    public static partial int StreamCreate(out nint stream, uint flags);

    [LibraryImport(Library, EntryPoint = "cuStreamDestroy_v2")]
    public static partial int StreamDestroy(nint stream);

    [LibraryImport(Library, EntryPoint = "cuStreamSynchronize")]
    public static partial int StreamSynchronize(nint stream);

    [LibraryImport(Library, EntryPoint = "cuEventCreate")]
    public static partial int EventCreate(out nint @event, uint flags);

    [LibraryImport(Library, EntryPoint = "cuEventRecord")]
    public static partial int EventRecord(nint @event, nint stream);

    [LibraryImport(Library, EntryPoint = "cuEventSynchronize")]
    public static partial int EventSynchronize(nint @event);

    [LibraryImport(Library, EntryPoint = "cuEventElapsedTime")]
    public static partial int EventElapsedTime(out float milliseconds, nint start, nint end);

    [LibraryImport(Library, EntryPoint = "cuEventDestroy_v2")]
    public static partial int EventDestroy(nint @event);

    // ---- modules and launches -------------------------------------------------------------

    // The image (CUBIN or PTX, NUL-terminated for PTX) is read during the call only.
    [LibraryImport(Library, EntryPoint = "cuModuleLoadData")]
    public static partial int ModuleLoadData(out nint module, ReadOnlySpan<byte> image);

    [LibraryImport(Library, EntryPoint = "cuModuleGetFunction", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ModuleGetFunction(out nint function, nint module, string name);

    [LibraryImport(Library, EntryPoint = "cuModuleUnload")]
    public static partial int ModuleUnload(nint module);

    [LibraryImport(Library, EntryPoint = "cuFuncSetAttribute")]
    public static partial int FuncSetAttribute(nint function, int attribute, int value);

    [LibraryImport(Library, EntryPoint = "cuLaunchKernel")]
    private static partial int LaunchKernelRaw(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, nint stream, void** kernelParams, void** extra);

    /// <summary>
    /// cuLaunchKernel with <paramref name="arguments"/> passed the way the driver wants them: an
    /// array of pointers, one per kernel parameter, each pointing at that parameter's value.
    /// Both the pointer array and the values live on the stack (the values are the caller's
    /// span, pinned by <c>fixed</c>), so a launch allocates nothing. The driver copies the
    /// values before returning, so nothing has to outlive the call.
    /// </summary>
    public static int LaunchKernel(nint function, Dim3 grid, Dim3 block, uint sharedMemoryBytes, nint stream, ReadOnlySpan<KernelArgument> arguments)
    {
        void** pointers = stackalloc void*[Math.Max(arguments.Length, 1)];
        fixed (KernelArgument* values = arguments)
        {
            for (int i = 0; i < arguments.Length; i++) pointers[i] = &values[i];
            return LaunchKernelRaw(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedMemoryBytes, stream, pointers, null);
        }
    }

    // ---- graphs ---------------------------------------------------------------------------

    [LibraryImport(Library, EntryPoint = "cuStreamBeginCapture_v2")]
    public static partial int StreamBeginCapture(nint stream, int mode);

    [LibraryImport(Library, EntryPoint = "cuStreamEndCapture")]
    public static partial int StreamEndCapture(nint stream, out nint graph);

    [LibraryImport(Library, EntryPoint = "cuGraphInstantiateWithFlags")]
    public static partial int GraphInstantiateWithFlags(out nint graphExec, nint graph, ulong flags);

    [LibraryImport(Library, EntryPoint = "cuGraphLaunch")]
    public static partial int GraphLaunch(nint graphExec, nint stream);

    /// <summary>CUgraphExecUpdateResultInfo (CUDA 12): why an update was refused, and where.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct GraphExecUpdateResultInfo
    {
        public int Result;          // CUgraphExecUpdateResult: 0 success, 1 error, 2 topology changed, 3 node type changed, 4 function changed, 5 parameters changed, 6 not supported, ...
        public nint ErrorNode;
        public nint ErrorFromNode;
    }

    [LibraryImport(Library, EntryPoint = "cuGraphExecUpdate_v2")]
    public static partial int GraphExecUpdate(nint graphExec, nint graph, out GraphExecUpdateResultInfo resultInfo);

    [LibraryImport(Library, EntryPoint = "cuGraphExecDestroy")]
    public static partial int GraphExecDestroy(nint graphExec);

    [LibraryImport(Library, EntryPoint = "cuGraphDestroy")]
    public static partial int GraphDestroy(nint graph);

    // ---- errors ---------------------------------------------------------------------------

    // Both return CUDA_ERROR_INVALID_VALUE (and leave the string null) for an unknown code. The
    // strings are static storage in libcuda: never freed.
    [LibraryImport(Library, EntryPoint = "cuGetErrorName")]
    public static partial int GetErrorName(int error, out nint name);

    [LibraryImport(Library, EntryPoint = "cuGetErrorString")]
    public static partial int GetErrorString(int error, out nint text);
}
