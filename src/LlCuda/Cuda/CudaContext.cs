using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// The primary context of one device: the context the CUDA runtime (and so cuBLAS) uses too,
/// retained on open and released on dispose. Every wrapper created from it (buffers, streams,
/// modules) must be disposed before it.
/// </summary>
/// <remarks>
/// Thread-safety: a context may be used from any number of threads. The driver keeps the
/// "current context" per thread; every wrapper binds this context to the calling thread before
/// its driver calls (<see cref="Bind"/>: a thread-static compare, one cuCtxSetCurrent the first
/// time a thread uses it), so callers never manage it. Dispose must not race with other use.
/// </remarks>
public sealed class CudaContext : IDisposable
{
    static long _nextId;

    // Which context wrapper is current on this thread. Ids, not handles: a released primary
    // context can come back with the same handle value but is a new context.
    [ThreadStatic] static long t_currentId;

    readonly long _id = Interlocked.Increment(ref _nextId);
    int _disposed;

    CudaContext(CudaDevice device, nint handle)
    {
        Device = device;
        Handle = handle;
    }

    /// <summary>Opens device <paramref name="ordinal"/>'s primary context and makes it current on the calling thread.</summary>
    public static CudaContext Open(int ordinal = 0)
    {
        var device = CudaDevice.Get(ordinal);
        CudaCheck.Driver(CudaDriverApi.DevicePrimaryCtxRetain(out nint handle, device.Handle), "cuDevicePrimaryCtxRetain");
        var context = new CudaContext(device, handle);
        try
        {
            context.Bind();
        }
        catch
        {
            context.Dispose();
            throw;
        }
        return context;
    }

    public CudaDevice Device { get; }

    internal nint Handle { get; }

    /// <summary>True after Dispose; wrappers check it so they do not free into a released context.</summary>
    public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Makes this context current on the calling thread (once per thread; cheap afterwards).</summary>
    public void Bind()
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (t_currentId == _id) return;
        CudaCheck.Driver(CudaDriverApi.CtxSetCurrent(Handle), "cuCtxSetCurrent");
        t_currentId = _id;
    }

    /// <summary>Free and total device memory in bytes, as the driver sees them now (other processes included).</summary>
    public (long FreeBytes, long TotalBytes) GetMemoryInfo()
    {
        Bind();
        CudaCheck.Driver(CudaDriverApi.MemGetInfo(out nuint free, out nuint total), "cuMemGetInfo_v2");
        return ((long)free, (long)total);
    }

    /// <summary>Waits for all work in this context on every stream; throws the first asynchronous error (a kernel fault).</summary>
    public void Synchronize()
    {
        Bind();
        CudaCheck.Driver(CudaDriverApi.CtxSynchronize(), "cuCtxSynchronize");
    }

    /// <summary>Releases the primary context (the device's memory is freed when the last retainer releases it).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (t_currentId == _id)
        {
            CudaCheck.Release(CudaDriverApi.CtxSetCurrent(0), "cuCtxSetCurrent(NULL)");
            t_currentId = 0;
        }
        CudaCheck.Release(CudaDriverApi.DevicePrimaryCtxRelease(Device.Handle), "cuDevicePrimaryCtxRelease_v2");
    }

    public override string ToString() => $"primary context of {Device}";
}
