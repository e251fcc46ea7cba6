using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// A CUDA stream: work queued on it runs in order, asynchronously to the host. Created
/// non-blocking, so it never waits for (or on) the legacy default stream, which cuBLAS or
/// another library might use.
/// </summary>
/// <remarks>Thread-safety: queuing from several threads is allowed by the driver but their
/// order is then undefined; use one stream per thread of work. Dispose must not race with use.</remarks>
public sealed class CudaStream : IDisposable
{
    nint _handle;

    CudaStream(CudaContext context, nint handle)
    {
        Context = context;
        _handle = handle;
    }

    /// <summary>Creates a stream in <paramref name="context"/>.</summary>
    public static CudaStream Create(CudaContext context)
    {
        context.Bind();
        CudaCheck.Driver(CudaDriverApi.StreamCreate(out nint handle, CudaDriverApi.StreamNonBlocking), "cuStreamCreate");
        return new CudaStream(context, handle);
    }

    public CudaContext Context { get; }

    internal nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>Waits until everything queued so far has run; throws the first asynchronous error (a kernel fault) as a <see cref="CudaException"/>.</summary>
    public void Synchronize()
    {
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.StreamSynchronize(Handle), "cuStreamSynchronize");
    }

    /// <summary>Destroys the stream; work already queued still completes (the driver defers the release).</summary>
    public void Dispose()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0 || Context.IsDisposed) return;   // a released context took its streams with it
        Context.Bind();
        CudaCheck.Release(CudaDriverApi.StreamDestroy(handle), "cuStreamDestroy_v2");
    }
}
