using System.Runtime.InteropServices;
using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>
/// A block of device memory (cuMemAlloc: 256-byte aligned, never managed/unified memory, so
/// no page faults or migrations on the hot path). Copies are queued on a stream.
/// </summary>
/// <remarks>
/// Thread-safety: the address may be used from any thread; copies are ordered by their
/// stream only. Dispose must not race with host code that still uses the buffer; GPU work
/// already queued on it is safe, because cuMemFree is one of CUDA's implicitly synchronizing
/// calls (which is also why buffers should not be freed in a hot loop).
/// </remarks>
public sealed class DeviceBuffer : IDisposable
{
    ulong _address;

    DeviceBuffer(CudaContext context, ulong address, long bytes)
    {
        Context = context;
        _address = address;
        ByteLength = bytes;
    }

    /// <summary>
    /// Allocates <paramref name="bytes"/> bytes. Checks free memory first, so asking for more
    /// than the GPU has free fails with a message that says how much is free, instead of the
    /// driver's bare out-of-memory.
    /// </summary>
    /// <param name="purpose">What the memory is for, for the message ("KV cache", "weights of blk.3").</param>
    public static DeviceBuffer Allocate(CudaContext context, long bytes, string purpose = "buffer")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        var (free, total) = context.GetMemoryInfo();
        if (bytes > free) throw OutOfMemory(context, bytes, free, total, purpose);
        int result = CudaDriverApi.MemAlloc(out ulong address, (nuint)bytes);
        // Free memory can shrink between the check and the call (another process), and the
        // allocator needs some slack for its own bookkeeping.
        if (result == CudaDriverApi.ErrorOutOfMemory)
        {
            (free, total) = context.GetMemoryInfo();
            throw OutOfMemory(context, bytes, free, total, purpose);
        }
        CudaCheck.Driver(result, "cuMemAlloc_v2");
        return new DeviceBuffer(context, address, bytes);
    }

    /// <summary>The message when a request does not fit (pure, for tests).</summary>
    internal static string OutOfMemoryMessage(string device, long bytes, long free, long total, string purpose) =>
        $"cannot allocate {Gib(bytes)} for {purpose} on {device}: only {Gib(free)} of {Gib(total)} is free " +
        "(free GPU memory: other processes are listed by nvidia-smi; or use a smaller model or context)";

    static CudaException OutOfMemory(CudaContext context, long bytes, long free, long total, string purpose) =>
        CudaException.Refused(CudaCheck.DriverLibrary, "cuMemAlloc_v2", OutOfMemoryMessage($"GPU {context.Device.Ordinal} ({context.Device.Name})", bytes, free, total, purpose));

    static string Gib(long bytes) => $"{bytes / (double)(1L << 30):F2} GiB";

    public CudaContext Context { get; }

    /// <summary>The device address (CUdeviceptr); valid until Dispose.</summary>
    public ulong Address
    {
        get
        {
            ObjectDisposedException.ThrowIf(_address == 0, this);
            return _address;
        }
    }

    /// <summary>Size in bytes.</summary>
    public long ByteLength { get; }

    /// <summary>
    /// Copies <paramref name="source"/> to this buffer at <paramref name="offsetBytes"/>. From
    /// managed (pageable) memory the driver stages the data before returning, so the span may be
    /// reused at once; the device write is ordered on <paramref name="stream"/>.
    /// </summary>
    public void CopyFromHost<T>(ReadOnlySpan<T> source, CudaStream stream, long offsetBytes = 0) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(source);
        CheckRange(offsetBytes, bytes.Length);
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemcpyHtoDAsync(Address + (ulong)offsetBytes, bytes, (nuint)bytes.Length, stream.Handle), "cuMemcpyHtoDAsync_v2");
    }

    /// <summary>
    /// Copies from this buffer at <paramref name="offsetBytes"/> into <paramref name="destination"/>.
    /// Into managed (pageable) memory the driver returns only when the copy is done (after the
    /// work queued before it on <paramref name="stream"/>), so the data is there on return.
    /// </summary>
    public void CopyToHost<T>(Span<T> destination, CudaStream stream, long offsetBytes = 0) where T : unmanaged
    {
        var bytes = MemoryMarshal.AsBytes(destination);
        CheckRange(offsetBytes, bytes.Length);
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemcpyDtoHAsync(bytes, Address + (ulong)offsetBytes, (nuint)bytes.Length, stream.Handle), "cuMemcpyDtoHAsync_v2");
    }

    /// <summary>Queues a copy of <paramref name="bytes"/> bytes from pinned memory: truly asynchronous; keep <paramref name="source"/> alive and unchanged until the stream passes it.</summary>
    public void CopyFromHost(PinnedHostBuffer source, long bytes, CudaStream stream, long offsetBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, source.ByteLength);
        CheckRange(offsetBytes, bytes);
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemcpyHtoDAsync(Address + (ulong)offsetBytes, source.Address, (nuint)bytes, stream.Handle), "cuMemcpyHtoDAsync_v2");
    }

    /// <summary>Queues a copy of <paramref name="bytes"/> bytes into pinned memory: truly asynchronous; read <paramref name="destination"/> after synchronizing the stream.</summary>
    public void CopyToHost(PinnedHostBuffer destination, long bytes, CudaStream stream, long offsetBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, destination.ByteLength);
        CheckRange(offsetBytes, bytes);
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemcpyDtoHAsync(destination.Address, Address + (ulong)offsetBytes, (nuint)bytes, stream.Handle), "cuMemcpyDtoHAsync_v2");
    }

    /// <summary>Queues a device-to-device copy of <paramref name="bytes"/> bytes from the start of <paramref name="source"/>.</summary>
    public void CopyFrom(DeviceBuffer source, long bytes, CudaStream stream)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, source.ByteLength);
        CheckRange(0, bytes);
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemcpyDtoDAsync(Address, source.Address, (nuint)bytes, stream.Handle), "cuMemcpyDtoDAsync_v2");
    }

    /// <summary>
    /// Queues a device-to-device copy of <paramref name="bytes"/> bytes from this buffer at
    /// <paramref name="offsetBytes"/> to the device address <paramref name="destination"/> (in
    /// this context; the caller vouches for its size).
    /// </summary>
    public void CopyTo(ulong destination, long bytes, CudaStream stream, long offsetBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfZero(destination);
        CheckRange(offsetBytes, bytes);
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemcpyDtoDAsync(destination, Address + (ulong)offsetBytes, (nuint)bytes, stream.Handle), "cuMemcpyDtoDAsync_v2");
    }

    /// <summary>The device address <paramref name="byteOffset"/> bytes into the buffer (0 .. ByteLength).</summary>
    public ulong AddressAt(long byteOffset)
    {
        CheckRange(byteOffset, 0);
        return Address + (ulong)byteOffset;
    }

    /// <summary>Queues setting every byte to <paramref name="value"/> (capturable into a graph).</summary>
    public void Fill(byte value, CudaStream stream)
    {
        Context.Bind();
        CudaCheck.Driver(CudaDriverApi.MemsetD8Async(Address, value, (nuint)ByteLength, stream.Handle), "cuMemsetD8Async");
    }

    void CheckRange(long offsetBytes, long count)
    {
        if (offsetBytes < 0 || count < 0 || offsetBytes > ByteLength - count)
            throw new ArgumentOutOfRangeException(nameof(offsetBytes), $"bytes [{offsetBytes}, +{count}) lie outside the {ByteLength}-byte device buffer");
    }

    /// <summary>Frees the memory (implicitly synchronizing: see the remarks).</summary>
    public void Dispose()
    {
        ulong address = Interlocked.Exchange(ref _address, 0);
        if (address == 0 || Context.IsDisposed) return;   // a released primary context freed everything in it
        Context.Bind();
        CudaCheck.Release(CudaDriverApi.MemFree(address), "cuMemFree_v2");
    }
}
