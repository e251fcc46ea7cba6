using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>Element types of <see cref="CublasHandle.Gemm"/> operands.</summary>
public enum GemmElementType
{
    Float32,
    Float16,
    BFloat16,
}

/// <summary>
/// A cuBLAS handle bound to one stream, for the matrix products our own kernels do not beat
/// (prefill GEMMs). Inputs fp16 or bf16, accumulation in fp32.
/// </summary>
/// <remarks>Thread-safety: use one handle per thread (cuBLAS's documented rule); Dispose must not race with use.</remarks>
public sealed class CublasHandle : IDisposable
{
    nint _handle;
    readonly CudaContext _context;

    CublasHandle(CudaContext context, nint handle)
    {
        _context = context;
        _handle = handle;
    }

    /// <summary>Loads cuBLAS (probing libcublas.so.13, .12, ...) and creates a handle on <paramref name="context"/>'s device.</summary>
    public static CublasHandle Create(CudaContext context)
    {
        NativeLibraryResolver.Load(CudaLibraries.Cublas, "cublasCreate_v2");
        context.Bind();
        CudaCheck.Cublas(CublasApi.Create(out nint handle), "cublasCreate_v2");
        return new CublasHandle(context, handle);
    }

    /// <summary>The loaded cuBLAS's version ("13.0.2"), or null with <paramref name="problem"/> saying why it did not load. Needs no GPU.</summary>
    public static string? TryGetVersion(out string problem)
    {
        if (!NativeLibraryResolver.TryLoad(CudaLibraries.Cublas, out string loaded, out problem)) return null;
        int major = 0, minor = 0, patch = 0;
        bool ok = CublasApi.GetProperty(CublasApi.MajorVersion, out major) == CublasApi.Success
            && CublasApi.GetProperty(CublasApi.MinorVersion, out minor) == CublasApi.Success
            && CublasApi.GetProperty(CublasApi.PatchLevel, out patch) == CublasApi.Success;
        problem = "";
        return ok ? $"{major}.{minor}.{patch} ({loaded})" : $"unknown version ({loaded})";
    }

    nint Handle
    {
        get
        {
            ObjectDisposedException.ThrowIf(_handle == 0, this);
            return _handle;
        }
    }

    /// <summary>Queues this handle's work on <paramref name="stream"/> from now on.</summary>
    public void SetStream(CudaStream stream)
    {
        _context.Bind();
        CudaCheck.Cublas(CublasApi.SetStream(Handle, stream.Handle), "cublasSetStream_v2");
    }

    /// <summary>
    /// Pedantic math: no reduced-precision reductions or TF32 shortcuts, for comparing against
    /// a reference; the default lets cuBLAS use tensor cores as the types allow.
    /// </summary>
    public void SetPedanticMath(bool pedantic)
    {
        _context.Bind();
        CudaCheck.Cublas(CublasApi.SetMathMode(Handle, pedantic ? CublasApi.PedanticMath : CublasApi.DefaultMath), "cublasSetMathMode");
    }

    /// <summary>
    /// C = alpha * op(A) * op(B) + beta * C in column-major order (cuBLAS's), fp32 accumulation.
    /// op(A) is m x k, op(B) is k x n, C is m x n; A and B must have the same element type
    /// (fp16 or bf16), C may be fp32 or the input type. Buffer sizes are checked against the
    /// shapes and leading dimensions before the call.
    /// </summary>
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
        DeviceBuffer a, int lda, DeviceBuffer b, int ldb, DeviceBuffer c, int ldc,
        GemmElementType inputType, GemmElementType outputType, float alpha = 1f, float beta = 0f)
    {
        if (inputType == GemmElementType.Float32)
            throw new ArgumentException("Gemm takes fp16 or bf16 inputs; fp32 inputs would run on the slow SIMT path", nameof(inputType));
        if (outputType != GemmElementType.Float32 && outputType != inputType)
            throw new ArgumentException($"output type {outputType} must be Float32 or the input type {inputType}", nameof(outputType));
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        // Stored (not op'd) shapes: A is m x k, or k x m when transposed; likewise B.
        CheckOperand("A", a, transposeA ? k : m, transposeA ? m : k, lda, inputType);
        CheckOperand("B", b, transposeB ? n : k, transposeB ? k : n, ldb, inputType);
        CheckOperand("C", c, m, n, ldc, outputType);
        _context.Bind();
        CudaCheck.Cublas(CublasApi.GemmEx(Handle, transposeA ? CublasApi.OpT : CublasApi.OpN, transposeB ? CublasApi.OpT : CublasApi.OpN, m, n, k,
            alpha, a.Address, DataType(inputType), lda, b.Address, DataType(inputType), ldb,
            beta, c.Address, DataType(outputType), ldc, CublasApi.Compute32F, CublasApi.GemmDefault), $"cublasGemmEx(m={m}, n={n}, k={k}, {inputType}->{outputType})");
    }

    /// <summary>
    /// <see cref="Gemm(bool, bool, int, int, int, DeviceBuffer, int, DeviceBuffer, int, DeviceBuffer, int, GemmElementType, GemmElementType, float, float)"/>
    /// on raw device addresses (operands inside larger buffers: a column block of an activation
    /// matrix, one layer's slice). The caller guarantees the extents; the types are checked.
    /// </summary>
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k,
        ulong a, int lda, ulong b, int ldb, ulong c, int ldc,
        GemmElementType inputType, GemmElementType outputType, float alpha = 1f, float beta = 0f)
    {
        if (inputType == GemmElementType.Float32)
            throw new ArgumentException("Gemm takes fp16 or bf16 inputs; fp32 inputs would run on the slow SIMT path", nameof(inputType));
        if (outputType != GemmElementType.Float32 && outputType != inputType)
            throw new ArgumentException($"output type {outputType} must be Float32 or the input type {inputType}", nameof(outputType));
        if (a == 0 || b == 0 || c == 0) throw new ArgumentException("Gemm operand address is null");
        _context.Bind();
        CudaCheck.Cublas(CublasApi.GemmEx(Handle, transposeA ? CublasApi.OpT : CublasApi.OpN, transposeB ? CublasApi.OpT : CublasApi.OpN, m, n, k,
            alpha, a, DataType(inputType), lda, b, DataType(inputType), ldb,
            beta, c, DataType(outputType), ldc, CublasApi.Compute32F, CublasApi.GemmDefault), $"cublasGemmEx(m={m}, n={n}, k={k}, {inputType}->{outputType})");
    }

    static void CheckOperand(string name, DeviceBuffer buffer, int rows, int columns, int leadingDimension, GemmElementType type)
    {
        if (leadingDimension < Math.Max(1, rows))
            throw new ArgumentOutOfRangeException(nameof(leadingDimension), $"leading dimension of {name} is {leadingDimension} but it has {rows} rows (column-major)");
        if (rows == 0 || columns == 0) return;
        long elements = (long)leadingDimension * (columns - 1) + rows;
        long bytes = elements * (type == GemmElementType.Float32 ? 4 : 2);
        if (bytes > buffer.ByteLength)
            throw new ArgumentException($"{name} ({rows} x {columns} {type}, leading dimension {leadingDimension}) needs {bytes} bytes but its buffer has {buffer.ByteLength}", name);
    }

    static int DataType(GemmElementType type) => type switch
    {
        GemmElementType.Float16 => CublasApi.DataR16F,
        GemmElementType.BFloat16 => CublasApi.DataR16BF,
        _ => CublasApi.DataR32F,
    };

    public void Dispose()
    {
        nint handle = Interlocked.Exchange(ref _handle, 0);
        if (handle == 0 || _context.IsDisposed) return;
        _context.Bind();
        int result = CublasApi.Destroy(handle);
        // Counted, not thrown, like the driver's release failures (see CudaCheck.Release).
        if (result != CublasApi.Success) CudaCheck.RecordReleaseFailure($"cublasDestroy_v2: cuBLAS status {result}");
    }
}
