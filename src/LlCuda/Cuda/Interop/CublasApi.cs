using System.Runtime.InteropServices;

namespace LlCuda.Cuda.Interop;

/// <summary>
/// Raw imports of cuBLAS (libcublas.so.13 / .12, which loads libcublasLt beside it). Only
/// <see cref="CublasHandle"/> calls these.
/// </summary>
/// <remarks>
/// <para>Every function except <see cref="GetStatusString"/> returns a <c>cublasStatus_t</c>:
/// 0 success, 1 not initialized (no usable CUDA context/driver), 3 alloc failed (out of GPU
/// memory), 7 invalid value (bad sizes, leading dimensions or type combination), 8 arch
/// mismatch (the GPU lacks a feature the call needs, e.g. bf16 below sm_80), 11 mapping
/// error, 13 execution failed (a kernel failed to launch), 14 internal error, 15 not
/// supported (the type/compute combination), 16 license error.</para>
/// <para>cuBLAS uses the CUDA runtime's primary context of the current device, the same one
/// <see cref="CudaContext"/> retains, so its pointers and streams are ours.</para>
/// <para>Threading: a handle may be used from several threads only if they do not change its
/// stream or mode concurrently; one handle per thread is the documented safe use.</para>
/// </remarks>
internal static partial class CublasApi
{
    /// <summary>The name the imports use; <see cref="NativeLibraryResolver"/> maps it to the probed libcublas.</summary>
    public const string Library = CudaLibraries.CublasLogicalName;

    public const int Success = 0;

    // cublasOperation_t
    public const int OpN = 0;
    public const int OpT = 1;

    // cublasMath_t
    public const int DefaultMath = 0;
    public const int PedanticMath = 2;
    public const int Tf32TensorOpMath = 3;

    // cudaDataType (library_types.h)
    public const int DataR32F = 0;
    public const int DataR16F = 2;
    public const int DataR16BF = 14;

    // cublasComputeType_t
    public const int Compute32F = 68;

    // cublasGemmAlgo_t: the heuristic's choice (tensor cores where the types allow).
    public const int GemmDefault = -1;

    // libraryPropertyType (library_types.h)
    public const int MajorVersion = 0;
    public const int MinorVersion = 1;
    public const int PatchLevel = 2;

    [LibraryImport(Library, EntryPoint = "cublasCreate_v2")]
    public static partial int Create(out nint handle);

    [LibraryImport(Library, EntryPoint = "cublasDestroy_v2")]
    public static partial int Destroy(nint handle);

    [LibraryImport(Library, EntryPoint = "cublasSetStream_v2")]
    public static partial int SetStream(nint handle, nint stream);

    [LibraryImport(Library, EntryPoint = "cublasSetMathMode")]
    public static partial int SetMathMode(nint handle, int mode);

    /// <summary>Needs no handle (and no GPU): the version of the library that was loaded.</summary>
    [LibraryImport(Library, EntryPoint = "cublasGetProperty")]
    public static partial int GetProperty(int type, out int value);

    /// <summary>
    /// C = alpha * op(A) op(B) + beta * C, column-major. alpha and beta are host values
    /// (the default pointer mode) of the compute type's scalar type (float for
    /// <see cref="Compute32F"/>), read during the call.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "cublasGemmEx")]
    public static partial int GemmEx(nint handle, int transA, int transB, int m, int n, int k,
        in float alpha, ulong a, int aType, int lda, ulong b, int bType, int ldb,
        in float beta, ulong c, int cType, int ldc, int computeType, int algo);

    // Static storage; "unrecognized error code" for unknown values. cuBLAS 11.4.2 and later.
    [LibraryImport(Library, EntryPoint = "cublasGetStatusString")]
    public static partial nint GetStatusString(int status);

    [LibraryImport(Library, EntryPoint = "cublasGetStatusName")]
    public static partial nint GetStatusName(int status);
}
