using System.Text;
using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// One CUDA device and its fixed properties, read once when it is opened. Immutable, so
/// thread-safe. Memory that changes (free bytes) is on <see cref="CudaContext.GetMemoryInfo"/>.
/// </summary>
public sealed class CudaDevice
{
    CudaDevice(int ordinal, int handle)
    {
        Ordinal = ordinal;
        Handle = handle;
        Name = ReadName(handle);
        ComputeCapability = new ComputeCapability(
            Attribute(handle, CudaDriverApi.AttributeComputeCapabilityMajor, "compute capability major"),
            Attribute(handle, CudaDriverApi.AttributeComputeCapabilityMinor, "compute capability minor"));
        MultiprocessorCount = Attribute(handle, CudaDriverApi.AttributeMultiprocessorCount, "multiprocessor count");
        MaxThreadsPerBlock = Attribute(handle, CudaDriverApi.AttributeMaxThreadsPerBlock, "max threads per block");
        MaxSharedMemoryPerBlockOptIn = Attribute(handle, CudaDriverApi.AttributeMaxSharedMemoryPerBlockOptIn, "max shared memory per block (opt-in)");
        MemoryClockKHz = OptionalAttribute(handle, CudaDriverApi.AttributeMemoryClockRateKHz);
        MemoryBusWidthBits = OptionalAttribute(handle, CudaDriverApi.AttributeGlobalMemoryBusWidthBits);
        L2CacheBytes = OptionalAttribute(handle, CudaDriverApi.AttributeL2CacheBytes);
        CudaCheck.Driver(CudaDriverApi.DeviceTotalMem(out nuint total, handle), "cuDeviceTotalMem_v2");
        TotalMemoryBytes = (long)total;
    }

    /// <summary>Opens device <paramref name="ordinal"/> (0-based, after CUDA_VISIBLE_DEVICES).</summary>
    public static CudaDevice Get(int ordinal)
    {
        int count = CudaDriver.DeviceCount;
        if ((uint)ordinal >= (uint)count)
            throw CudaException.Refused(CudaCheck.DriverLibrary, "cuDeviceGet",
                $"CUDA device {ordinal} does not exist: this process sees {count} device{(count == 1 ? "" : "s")} (check nvidia-smi and CUDA_VISIBLE_DEVICES)");
        CudaCheck.Driver(CudaDriverApi.DeviceGet(out int handle, ordinal), "cuDeviceGet");
        return new CudaDevice(ordinal, handle);
    }

    /// <summary>Every device this process can see, in ordinal order.</summary>
    public static IReadOnlyList<CudaDevice> All()
    {
        int count = CudaDriver.DeviceCount;
        var devices = new CudaDevice[count];
        for (int i = 0; i < count; i++) devices[i] = Get(i);
        return devices;
    }

    /// <summary>Ordinal among visible devices.</summary>
    public int Ordinal { get; }

    /// <summary>The driver's CUdevice handle.</summary>
    internal int Handle { get; }

    /// <summary>Marketing name ("NVIDIA H100 80GB HBM3").</summary>
    public string Name { get; }

    public ComputeCapability ComputeCapability { get; }

    /// <summary>Streaming multiprocessors: the unit grid sizes are chosen against.</summary>
    public int MultiprocessorCount { get; }

    public int MaxThreadsPerBlock { get; }

    /// <summary>Most dynamic shared memory one block can have after cuFuncSetAttribute opts in (bytes).</summary>
    public int MaxSharedMemoryPerBlockOptIn { get; }

    /// <summary>Peak memory clock in kHz; 0 where the driver does not report it.</summary>
    public int MemoryClockKHz { get; }

    /// <summary>Memory bus width in bits; 0 where the driver does not report it.</summary>
    public int MemoryBusWidthBits { get; }

    /// <summary>L2 cache size in bytes; 0 where the driver does not report it.</summary>
    public int L2CacheBytes { get; }

    /// <summary>Total device memory in bytes.</summary>
    public long TotalMemoryBytes { get; }

    /// <summary>
    /// Theoretical memory bandwidth in bytes/s (2 transfers per clock x bus width), or 0 when
    /// the clock or width is unknown. A streaming kernel reaches 80-95% of it on HBM parts.
    /// </summary>
    public double PeakMemoryBandwidth => 2.0 * MemoryClockKHz * 1000.0 * MemoryBusWidthBits / 8.0;

    public override string ToString() => $"GPU {Ordinal}: {Name} (compute capability {ComputeCapability}, {TotalMemoryBytes / (double)(1L << 30):F1} GiB)";

    static string ReadName(int handle)
    {
        Span<byte> buffer = stackalloc byte[256];
        CudaCheck.Driver(CudaDriverApi.DeviceGetName(buffer, buffer.Length, handle), "cuDeviceGetName");
        int end = buffer.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? buffer : buffer[..end]);
    }

    static int Attribute(int handle, int attribute, string what)
    {
        CudaCheck.Driver(CudaDriverApi.DeviceGetAttribute(out int value, attribute, handle), $"cuDeviceGetAttribute({what})");
        return value;
    }

    // Informational attributes that newer drivers may retire; their absence must not stop a device from opening.
    static int OptionalAttribute(int handle, int attribute) =>
        CudaDriverApi.DeviceGetAttribute(out int value, attribute, handle) == CudaDriverApi.Success ? value : 0;
}
