using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// A sequence of stream work (kernel launches, copies, memsets) captured once and replayed
/// with one launch. A C# cuLaunchKernel costs ~3 us; a decode step of ~200 kernels replayed
/// as a graph costs one launch (DESIGN.md, "The GPU host as seen from C#").
/// </summary>
/// <remarks>
/// Kernel arguments are captured by value: a replay uses the same buffers and scalars, so
/// what changes per step must live in device memory the kernels read (or be updated with
/// <see cref="TryUpdate"/>). Thread-safety: launching one graph from two threads at once is
/// not allowed by CUDA; Dispose must not race with launches.
/// </remarks>
public sealed class CudaGraph : IDisposable
{
    nint _graph;
    nint _exec;
    readonly CudaContext _context;

    CudaGraph(CudaContext context, nint graph, nint exec)
    {
        _context = context;
        _graph = graph;
        _exec = exec;
    }

    /// <summary>
    /// Captures what <paramref name="record"/> queues on <paramref name="stream"/> (nothing runs
    /// during capture) and instantiates it. The capture is thread-local: other threads may keep
    /// using CUDA meanwhile, but on this thread only stream work is allowed (no allocation, no
    /// synchronization) until <paramref name="record"/> returns.
    /// </summary>
    public static CudaGraph Capture(CudaStream stream, Action<CudaStream> record)
    {
        nint graph = CaptureGraph(stream, record);
        try
        {
            CudaCheck.Driver(CudaDriverApi.GraphInstantiateWithFlags(out nint exec, graph, 0), "cuGraphInstantiateWithFlags");
            return new CudaGraph(stream.Context, graph, exec);
        }
        catch
        {
            CudaCheck.Release(CudaDriverApi.GraphDestroy(graph), "cuGraphDestroy");
            throw;
        }
    }

    static nint CaptureGraph(CudaStream stream, Action<CudaStream> record)
    {
        stream.Context.Bind();
        CudaCheck.Driver(CudaDriverApi.StreamBeginCapture(stream.Handle, CudaDriverApi.StreamCaptureModeThreadLocal), "cuStreamBeginCapture_v2");
        try
        {
            record(stream);
        }
        catch
        {
            // End the capture so the stream is usable again; the partial graph is discarded.
            if (CudaDriverApi.StreamEndCapture(stream.Handle, out nint partial) == CudaDriverApi.Success && partial != 0)
                CudaCheck.Release(CudaDriverApi.GraphDestroy(partial), "cuGraphDestroy");
            throw;
        }
        // Fails with CUDA_ERROR_STREAM_CAPTURE_INVALIDATED when record did something that cannot be captured.
        CudaCheck.Driver(CudaDriverApi.StreamEndCapture(stream.Handle, out nint graph), "cuStreamEndCapture");
        return graph;
    }

    /// <summary>Queues one replay of the whole graph on <paramref name="stream"/>.</summary>
    public void Launch(CudaStream stream)
    {
        ObjectDisposedException.ThrowIf(_exec == 0, this);
        _context.Bind();
        CudaCheck.Driver(CudaDriverApi.GraphLaunch(_exec, stream.Handle), "cuGraphLaunch");
    }

    /// <summary>
    /// Re-captures <paramref name="record"/> and updates the instantiated graph in place (new
    /// kernel arguments, same shape), which is much cheaper than instantiating again. Returns
    /// false, leaving the graph as it was, when the new capture differs in shape (other
    /// kernels or another node order): capture a new graph then.
    /// </summary>
    public bool TryUpdate(CudaStream stream, Action<CudaStream> record)
    {
        ObjectDisposedException.ThrowIf(_exec == 0, this);
        nint graph = CaptureGraph(stream, record);
        int result = CudaDriverApi.GraphExecUpdate(_exec, graph, out var info);
        if (result == CudaDriverApi.Success)
        {
            // The exec now mirrors the new graph; keep that one, drop the old.
            CudaCheck.Release(CudaDriverApi.GraphDestroy(_graph), "cuGraphDestroy");
            _graph = graph;
            return true;
        }
        CudaCheck.Release(CudaDriverApi.GraphDestroy(graph), "cuGraphDestroy");
        // CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE (910) with a reason in info.Result is the
        // documented "shape changed" answer; anything else is a real error.
        if (result == CudaDriverApi.ErrorGraphExecUpdateFailure && info.Result != 0) return false;
        throw CudaCheck.DriverError(result, "cuGraphExecUpdate_v2");
    }

    public void Dispose()
    {
        nint exec = Interlocked.Exchange(ref _exec, 0);
        nint graph = Interlocked.Exchange(ref _graph, 0);
        if (_context.IsDisposed) return;
        _context.Bind();
        if (exec != 0) CudaCheck.Release(CudaDriverApi.GraphExecDestroy(exec), "cuGraphExecDestroy");
        if (graph != 0) CudaCheck.Release(CudaDriverApi.GraphDestroy(graph), "cuGraphDestroy");
    }
}
