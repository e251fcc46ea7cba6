using System.Diagnostics.CodeAnalysis;
using LlCuda.Cuda.Layouts;
using LlCuda.Tensors;

namespace LlCuda.Cuda;

/// <summary>
/// One weight matrix on the GPU in the layout its matvec kernels read (see Layouts/; F32, F16
/// and BF16 stay row-major as in GGUF), and the launches of those kernels: y [n, ldy] = W x for
/// n tokens, and W expanded to fp16 for the prefill GEMM.
/// </summary>
public sealed class DeviceWeights : IDisposable
{
    readonly DeviceBuffer[] _planes; // in the order the type's kernels take them

    DeviceWeights(GgmlType type, int rows, int cols, DeviceBuffer[] planes)
    {
        Type = type;
        Rows = rows;
        Cols = cols;
        _planes = planes;
    }

    public GgmlType Type { get; }
    public int Rows { get; }
    public int Cols { get; }

    /// <summary>Bytes on the device.</summary>
    public long ByteSize => _planes.Sum(p => p.ByteLength);

    /// <summary>The weights' own address when they are fp16 row-major [rows, cols] (Type F16), so a GEMM can read them in place; else null.</summary>
    public ulong? F16RowMajorAddress => Type == GgmlType.F16 ? _planes[0].Address : null;

    /// <summary>
    /// Uploads <paramref name="rows"/> GGUF rows of <paramref name="cols"/> weights of
    /// <paramref name="type"/> (any of <see cref="MatVecKernels.SupportedTypes"/>).
    /// </summary>
    /// <exception cref="ArgumentException">cols is not a positive multiple of the type's block (32, 256 for K-quants; 4 for F32, 8 for F16/BF16), or the byte count does not match.</exception>
    /// <exception cref="NotSupportedException">No kernels for the type.</exception>
    public static DeviceWeights Upload(CudaContext context, CudaStream stream, GgmlType type, ReadOnlySpan<byte> gguf, int rows, int cols)
    {
        _ = MatVecKernels.FileName(type); // throws for a type without kernels
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        // Quantized rows hold whole blocks; float rows need only 16-byte alignment for the
        // kernels' vector loads (stories260K's feed-forward width is 172).
        int block = type switch { GgmlType.F32 => 4, GgmlType.F16 or GgmlType.BF16 => 8, _ => Math.Max(32, GgmlTypeInfo.BlockSize(type)) };
        if (cols <= 0 || cols % block != 0)
            throw new ArgumentException($"the CUDA {type} matvec kernels need rows of a positive multiple of {block} weights, but cols is {cols} (models of other widths are not supported on the GPU yet)", nameof(cols));
        long expected = GgmlTypeInfo.RowBytes(type, cols) * rows;
        if (gguf.Length != expected)
            throw new ArgumentException($"{rows} x {cols} {type} weights are {expected} bytes, got {gguf.Length}", nameof(gguf));
        byte[][] host;
        if (type == GgmlType.Q4_0)
        {
            var quants = new byte[GpuQ4_0Layout.QuantBytesOf(rows, cols)];
            var scales = new ushort[GpuQ4_0Layout.ScaleCountOf(rows, cols)];
            GpuQ4_0Layout.Split(gguf, rows, cols, quants, scales);
            var scaleBytes = new byte[scales.Length * 2];
            Buffer.BlockCopy(scales, 0, scaleBytes, 0, scaleBytes.Length);
            host = [quants, scaleBytes];
        }
        else if (GpuKQuantLayout.PlanesOf(type) is { } layout)
        {
            long blocks = gguf.Length / layout.Sum(p => p.Length);
            host = layout.Select(p => new byte[blocks * p.Length]).ToArray();
            GpuKQuantLayout.Split(gguf, layout, host);
        }
        else
        {
            host = [gguf.ToArray()]; // F32, F16, BF16: row-major as in GGUF
        }
        var planes = new DeviceBuffer[host.Length];
        try
        {
            for (int i = 0; i < host.Length; i++)
            {
                planes[i] = DeviceBuffer.Allocate(context, host[i].Length, $"{type} weights");
                planes[i].CopyFromHost<byte>(host[i], stream);
            }
            stream.Synchronize(); // the host arrays go out of scope
            return new DeviceWeights(type, rows, cols, planes);
        }
        catch
        {
            foreach (var p in planes) p?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Queues y = W x for <paramref name="n"/> tokens: token t's result at y + 4 * t * ldy bytes
    /// (fp32 [n, ldy], rows elements written per token). n is split into launches of 8 tokens,
    /// then the rest by 4, 2 and 1 (13 = 8 + 4 + 1), each reading the weights once; one warp
    /// per row, 4 rows per 128-thread block. Capturable into a CUDA graph.
    /// </summary>
    /// <param name="x">Token 0's activations: Q8_1 codes (16-byte aligned) and scales (8-byte aligned) for quantized types, fp32 (16-byte aligned) for F32/F16/BF16.</param>
    /// <param name="y">Device address of the fp32 output, 4-byte aligned, room for [n, ldy].</param>
    /// <param name="ldy">Elements between consecutive tokens' outputs, at least <see cref="Rows"/>.</param>
    /// <exception cref="ArgumentException">The kernels are for another type, or an address the type needs is 0 or misaligned.</exception>
    public void Launch(MatVecKernels kernels, CudaStream stream, MatVecInput x, ulong y, int n, int ldy)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(stream);
        if (kernels.Type != Type) ThrowWrongKernels(kernels.Type);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (ldy < Rows) throw new ArgumentOutOfRangeException(nameof(ldy), ldy, $"ldy must be at least the {Rows} rows of the {Type} weights");
        bool q8 = kernels.UsesQ8_1;
        CheckInput(q8, x, y);
        // Per token: codes cols bytes, scales cols / 32 float2, floats cols fp32; y ldy fp32.
        ulong codesStride = (ulong)Cols, scalesStride = (ulong)(Cols / 32) * 8, floatsStride = (ulong)Cols * 4, yStride = (ulong)ldy * 4;
        int blocksOrCols = q8 ? Cols / GgmlTypeInfo.BlockSize(Type) : Cols;
        Dim3 grid = (uint)((Rows + 3) / 4);
        Span<KernelArgument> args = stackalloc KernelArgument[_planes.Length + 6];
        for (int i = 0; i < _planes.Length; i++) args[i] = _planes[i];
        for (int done = 0, nt; done < n; done += nt)
        {
            nt = MatVecKernels.TokensForNextLaunch(n - done);
            ulong t = (ulong)done;
            int k = _planes.Length;
            if (q8)
            {
                args[k++] = x.Codes + t * codesStride;
                args[k++] = x.Scales + t * scalesStride;
            }
            else
            {
                args[k++] = x.Floats + t * floatsStride;
            }
            args[k++] = y + t * yStride;
            args[k++] = Rows;
            args[k++] = blocksOrCols;
            args[k++] = ldy;
            kernels.MatVec(nt).Launch(stream, grid, 128u, 0, args[..k]);
        }
    }

    // The kernels load codes and fp32 x as 16-byte vectors, scales as 8-byte float2, y as fp32.
    void CheckInput(bool q8, MatVecInput x, ulong y)
    {
        if (y == 0 || y % 4 != 0) throw new ArgumentException($"the output address y must be a nonzero 4-byte aligned device address, got 0x{y:X}", nameof(y));
        if (q8)
        {
            if (x.Codes == 0 || x.Scales == 0)
                throw new ArgumentException($"{Type} weights take activations as Q8_1 codes and scales (quantize_q8_1.cu), but MatVecInput.{(x.Codes == 0 ? "Codes" : "Scales")} is 0", nameof(x));
            if (x.Codes % 16 != 0 || x.Scales % 8 != 0)
                throw new ArgumentException($"Q8_1 codes must be 16-byte and scales 8-byte aligned (the kernels load them as vectors), got codes 0x{x.Codes:X}, scales 0x{x.Scales:X}", nameof(x));
        }
        else
        {
            if (x.Floats == 0) throw new ArgumentException($"{Type} weights take fp32 activations, but MatVecInput.Floats is 0", nameof(x));
            if (x.Floats % 16 != 0) throw new ArgumentException($"fp32 activations must be 16-byte aligned (the kernels load them as float4), got 0x{x.Floats:X}", nameof(x));
        }
    }

    /// <summary>
    /// Queues W as fp16 bit patterns, row-major [rows, cols], into <paramref name="destination"/>
    /// (2 * rows * cols bytes, 16-byte aligned) for the prefill GEMM: the dequant kernel, or for
    /// F16 weights a device-to-device copy (see <see cref="F16RowMajorAddress"/> to skip it).
    /// Values are rounded to nearest even; F32/BF16 values beyond fp16's range become infinities.
    /// </summary>
    public void DequantizeToF16(MatVecKernels kernels, CudaStream stream, ulong destination)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(stream);
        if (kernels.Type != Type) ThrowWrongKernels(kernels.Type);
        if (destination == 0 || destination % 16 != 0)
            throw new ArgumentException($"the fp16 destination must be a nonzero 16-byte aligned device address, got 0x{destination:X}", nameof(destination));
        long elements = (long)Rows * Cols;
        if (kernels.Dequant is not { } dequant)
        {
            _planes[0].CopyTo(destination, elements * 2, stream);
            return;
        }
        int blocksOrCols = kernels.UsesQ8_1 ? Cols / GgmlTypeInfo.BlockSize(Type) : Cols;
        Span<KernelArgument> args = stackalloc KernelArgument[_planes.Length + 3];
        for (int i = 0; i < _planes.Length; i++) args[i] = _planes[i];
        args[_planes.Length] = destination;
        args[_planes.Length + 1] = Rows;
        args[_planes.Length + 2] = blocksOrCols;
        // One thread per 8 weights, 256 per block.
        dequant.Launch(stream, (uint)((elements / 8 + 255) / 256), 256u, 0, args);
    }

    [DoesNotReturn]
    void ThrowWrongKernels(GgmlType kernels) =>
        throw new ArgumentException($"these are {Type} weights but the kernels are {kernels}'s: load them with MatVecKernels.Load(compiler, GgmlType.{Type})", nameof(kernels));

    public void Dispose()
    {
        foreach (var p in _planes) p.Dispose();
    }
}
