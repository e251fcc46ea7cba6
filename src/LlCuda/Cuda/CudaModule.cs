using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// Compiled kernels (a CUBIN or PTX image) loaded into a context. The kernels it hands out
/// are valid until it is disposed.
/// </summary>
/// <remarks>Thread-safety: <see cref="GetKernel"/> may be called from several threads; Dispose must not race with use.</remarks>
public sealed class CudaModule : IDisposable
{
    nint _handle;
    readonly Dictionary<string, CudaKernel> _kernels = new(StringComparer.Ordinal);
    readonly Lock _gate = new();

    CudaModule(CudaContext context, nint handle, string name)
    {
        Context = context;
        _handle = handle;
        Name = name;
    }

    /// <summary>Loads <paramref name="image"/> (CUBIN, or NUL-terminated PTX the driver compiles); <paramref name="name"/> ("vector_add.cu") is for messages.</summary>
    public static CudaModule Load(CudaContext context, ReadOnlySpan<byte> image, string name)
    {
        context.Bind();
        int result = CudaDriverApi.ModuleLoadData(out nint handle, image);
        if (result != CudaDriverApi.Success) throw CudaCheck.DriverError(result, $"cuModuleLoadData({name})");
        return new CudaModule(context, handle, name);
    }

    public CudaContext Context { get; }

    /// <summary>The source file it was compiled from.</summary>
    public string Name { get; }

    /// <summary>The <c>extern "C"</c> kernel <paramref name="kernelName"/>; looked up once, then cached.</summary>
    public CudaKernel GetKernel(string kernelName)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            if (_kernels.TryGetValue(kernelName, out var kernel)) return kernel;
            Context.Bind();
            CudaCheck.Driver(CudaDriverApi.ModuleGetFunction(out nint function, _handle, kernelName), "cuModuleGetFunction", $"'{kernelName}' in {Name}");
            kernel = new CudaKernel(this, function, kernelName);
            _kernels.Add(kernelName, kernel);
            return kernel;
        }
    }

    /// <summary>Unloads the module; its kernels must not be launched afterwards (queued launches still run).</summary>
    public void Dispose()
    {
        nint handle;
        lock (_gate)
        {
            handle = _handle;
            _handle = 0;
            _kernels.Clear();
        }
        if (handle == 0 || Context.IsDisposed) return;
        Context.Bind();
        CudaCheck.Release(CudaDriverApi.ModuleUnload(handle), "cuModuleUnload");
    }
}
