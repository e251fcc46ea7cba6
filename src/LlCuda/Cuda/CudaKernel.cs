using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// One kernel of a loaded <see cref="CudaModule"/>. A launch queues the kernel on a stream and
/// returns; faults inside the kernel surface at the next synchronizing call.
/// </summary>
/// <remarks>Thread-safety: launches from several threads are safe (each onto its own stream);
/// <see cref="SetMaxDynamicSharedMemory"/> changes the kernel for every thread.</remarks>
public sealed class CudaKernel
{
    readonly CudaModule _module;
    readonly nint _function;

    internal CudaKernel(CudaModule module, nint function, string name)
    {
        _module = module;
        _function = function;
        Name = name;
    }

    /// <summary>The kernel's name in its .cu file.</summary>
    public string Name { get; }

    /// <summary>
    /// Queues the kernel on <paramref name="stream"/> over a <paramref name="grid"/> of
    /// <paramref name="block"/>-shaped blocks with <paramref name="sharedMemoryBytes"/> of dynamic
    /// shared memory. <paramref name="arguments"/> must match the kernel's parameters in order
    /// and size (see <see cref="KernelArgument"/>); nothing is allocated per launch.
    /// </summary>
    public void Launch(CudaStream stream, Dim3 grid, Dim3 block, uint sharedMemoryBytes, params ReadOnlySpan<KernelArgument> arguments)
    {
        _module.Context.Bind();
        int result = CudaDriverApi.LaunchKernel(_function, grid, block, sharedMemoryBytes, stream.Handle, arguments);
        if (result != CudaDriverApi.Success)
            throw CudaCheck.DriverError(result, "cuLaunchKernel", Describe(grid, block, sharedMemoryBytes, arguments.Length));
    }

    /// <summary>Allows launches with up to <paramref name="bytes"/> of dynamic shared memory (above 48 KiB needs this opt-in).</summary>
    public void SetMaxDynamicSharedMemory(int bytes)
    {
        int limit = _module.Context.Device.MaxSharedMemoryPerBlockOptIn;
        if (bytes > limit)
            throw CudaException.Refused(CudaCheck.DriverLibrary, "cuFuncSetAttribute",
                $"kernel '{Name}' in {_module.Name} asks for {bytes} bytes of shared memory per block but {_module.Context.Device.Name} allows at most {limit}: a bug in llcuda's launch configuration for this GPU");
        _module.Context.Bind();
        CudaCheck.Driver(CudaDriverApi.FuncSetAttribute(_function, CudaDriverApi.FuncAttributeMaxDynamicSharedSizeBytes, bytes), "cuFuncSetAttribute(max dynamic shared memory)", $"'{Name}' in {_module.Name}");
    }

    /// <summary>How launch errors name the kernel: "'vector_add' in vector_add.cu (grid 4096x1x1, block 256x1x1, 0 B shared, 4 args)".</summary>
    internal string Describe(Dim3 grid, Dim3 block, uint sharedMemoryBytes, int argumentCount) =>
        $"'{Name}' in {_module.Name} (grid {grid}, block {block}, {sharedMemoryBytes} B shared, {argumentCount} args)";

    public override string ToString() => $"{Name} ({_module.Name})";
}
