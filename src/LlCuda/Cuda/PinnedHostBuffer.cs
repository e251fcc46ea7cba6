using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// Page-locked host memory (cuMemHostAlloc): the GPU reads and writes it by DMA, so copies to
/// and from it are truly asynchronous and run at full PCIe/NVLink speed (pageable memory is
/// staged through a driver buffer at about half the speed). Pinned memory cannot be swapped,
/// so allocate it for transfer buffers, not for whole models.
/// </summary>
/// <remarks>Thread-safety: like a plain array; Dispose must not race with use or with queued copies.</remarks>
public sealed class PinnedHostBuffer : IDisposable
{
    nint _address;
    readonly CudaContext _context;

    PinnedHostBuffer(CudaContext context, nint address, long bytes)
    {
        _context = context;
        _address = address;
        ByteLength = bytes;
    }

    /// <summary>Allocates <paramref name="bytes"/> bytes of pinned memory, usable from every context (portable).</summary>
    public static PinnedHostBuffer Allocate(CudaContext context, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemHostAlloc(out nint address, (nuint)bytes, CudaDriverApi.MemHostAllocPortable), "cuMemHostAlloc");
        return new PinnedHostBuffer(context, address, bytes);
    }

    /// <summary>Size in bytes.</summary>
    public long ByteLength { get; }

    internal nint Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(_address == 0, this);
            return _address;
        }
    }

    /// <summary>The memory as <typeparamref name="T"/> elements (as many whole ones as fit, at most int.MaxValue); valid until Dispose.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        long count = ByteLength / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        return NativeSpan.Create<T>(Address, (int)Math.Min(count, int.MaxValue));
    }

    public void Dispose()
    {
        nint address = Interlocked.Exchange(ref _address, 0);
        if (address == 0 || _context.IsDisposed) return;
        _context.Bind();
        CudaCheck.Release(CudaDriverApi.MemFreeHost(address), "cuMemFreeHost");
    }
}
