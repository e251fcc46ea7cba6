using LlCuda.Cuda.Layouts;
using LlCuda.Tensors;

namespace LlCuda.Cuda;

/// <summary>
/// One weight matrix on the GPU in the layout its matvec kernel reads (see Layouts/), and the
/// launch of that kernel: y [rows] = W x, x given as Q8_1 codes and scales.
/// </summary>
public sealed class DeviceWeights : IDisposable
{
    readonly DeviceBuffer[] _planes;

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

    /// <summary>Uploads GGUF rows of <paramref name="type"/> (Q4_0, Q8_0, Q4_K, Q6_K).</summary>
    public static DeviceWeights Upload(CudaContext context, CudaStream stream, GgmlType type, ReadOnlySpan<byte> gguf, int rows, int cols)
    {
        byte[][] host;
        switch (type)
        {
            case GgmlType.Q4_0:
                var quants = new byte[GpuQ4_0Layout.QuantBytesOf(rows, cols)];
                var scales = new ushort[GpuQ4_0Layout.ScaleCountOf(rows, cols)];
                GpuQ4_0Layout.Split(gguf, rows, cols, quants, scales);
                var scaleBytes = new byte[scales.Length * 2];
                Buffer.BlockCopy(scales, 0, scaleBytes, 0, scaleBytes.Length);
                host = [quants, scaleBytes];
                break;
            case GgmlType.Q4_K:
            case GgmlType.Q6_K:
            case GgmlType.Q8_0:
                var layout = type switch { GgmlType.Q4_K => GpuKQuantLayout.Q4_KPlanes, GgmlType.Q6_K => GpuKQuantLayout.Q6_KPlanes, _ => GpuKQuantLayout.Q8_0Planes };
                int blocks = gguf.Length / layout.Sum(p => p.Length);
                host = layout.Select(p => new byte[(long)blocks * p.Length]).ToArray();
                GpuKQuantLayout.Split(gguf, layout, host);
                if (type == GgmlType.Q4_K) host = [host[1], host[0]]; // kernel order: quants, meta
                break;
            default:
                throw new NotSupportedException($"no CUDA matvec kernel for {type} weights yet (supported: Q4_0, Q8_0, Q4_K, Q6_K)");
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

    /// <summary>Launches the type's matvec kernel: one warp per row, 4 rows per 128-thread block.</summary>
    public void Launch(CudaKernel kernel, CudaStream stream, DeviceBuffer xCodes, DeviceBuffer xScales, DeviceBuffer y)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        Dim3 grid = (uint)((Rows + 3) / 4);
        int blocks = Type is GgmlType.Q4_0 or GgmlType.Q8_0 ? Cols / 32 : Cols / 256;
        if (Type == GgmlType.Q6_K)
            kernel.Launch(stream, grid, 128u, 0, _planes[0], _planes[1], _planes[2], _planes[3], xCodes, xScales, y, Rows, blocks);
        else
            kernel.Launch(stream, grid, 128u, 0, _planes[0], _planes[1], xCodes, xScales, y, Rows, blocks);
    }

    public void Dispose()
    {
        foreach (var p in _planes) p.Dispose();
    }
}
