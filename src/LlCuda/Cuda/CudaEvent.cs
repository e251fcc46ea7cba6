using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// A CUDA event: a marker in a stream, used to time GPU work without host-side noise (the
/// resolution is about half a microsecond).
/// </summary>
/// <remarks>Thread-safety: as <see cref="CudaStream"/>; recording one event from two threads at once gives an undefined order.</remarks>
public sealed class CudaEvent : IDisposable
{
    nint _handle;
    readonly CudaContext _context;

    CudaEvent(CudaContext context, nint handle)
    {
        _context = context;
        _handle = handle;
    }

    /// <summary>Creates an event that records timestamps.</summary>
    public static CudaEvent Create(CudaContext context)
    {
        context.Bind();
        CudaCheck.Driver(CudaDriverApi.EventCreate(out nint handle, CudaDriverApi.EventDefault), "cuEventCreate");
        return new CudaEvent(context, handle);
    }

    nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>Queues the event on <paramref name="stream"/>: it completes when the work queued before it has.</summary>
    public void Record(CudaStream stream)
    {
        _context.Bind();
        CudaCheck.Driver(CudaDriverApi.EventRecord(Handle, stream.Handle), "cuEventRecord");
    }

    /// <summary>Waits until the event has completed.</summary>
    public void Synchronize()
    {
        _context.Bind();
        CudaCheck.Driver(CudaDriverApi.EventSynchronize(Handle), "cuEventSynchronize");
    }

    /// <summary>GPU time in milliseconds from <paramref name="start"/> to <paramref name="end"/>, both recorded and completed.</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        start._context.Bind();
        CudaCheck.Driver(CudaDriverApi.EventElapsedTime(out float ms, start.Handle, end.Handle), "cuEventElapsedTime");
        return ms;
    }

    public void Dispose()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0 || _context.IsDisposed) return;
        _context.Bind();
        CudaCheck.Release(CudaDriverApi.EventDestroy(handle), "cuEventDestroy_v2");
    }
}
