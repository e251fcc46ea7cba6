using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using LlCuda.Tensors;

namespace LlCuda.Tests.Tensors;

/// <summary>
/// ggml's own row converters, called straight from libggml-base.so as LLamaSharp.Backend.Cpu
/// ships it: the reference our quantizers and dequantizers must match bit for bit. Test-only
/// raw imports; all functions used here are pure (no ggml state), so calls may run in parallel.
/// The library is the same file in every CPU variant folder (noavx..avx512, checked by md5),
/// built without FMA contraction, so its scalar float results do not depend on the variant.
/// </summary>
static unsafe class GgmlReference
{
    static readonly Lazy<nint> Library = new(Load);

    /// <summary>Folder of the CPU variant LLamaSharp would pick on this machine, so both load the same file.</summary>
    static string NativeDir()
    {
        string variant = Avx512F.IsSupported ? "avx512" : Avx2.IsSupported ? "avx2" : Avx.IsSupported ? "avx" : "noavx";
        return Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", variant);
    }

    static nint Load()
    {
        string path = Path.Combine(NativeDir(), "libggml-base.so");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path} not found: the LLamaSharp.Backend.Cpu package should copy it to the test output (rebuild the test project)", path);
        return NativeLibrary.Load(path);
    }

    static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);

    /// <summary>ggml's name for a type ("q4_0", "q4_K", ...).</summary>
    static string SymbolSuffix(GgmlType type) => type.ToString().ToLowerInvariant().Replace("_k", "_K", StringComparison.Ordinal);

    /// <summary>quantize_row_{type}_ref(x, y, k).</summary>
    public static byte[] QuantizeRowRef(GgmlType type, ReadOnlySpan<float> src)
    {
        var fn = (delegate* unmanaged<float*, byte*, long, void>)Export($"quantize_row_{SymbolSuffix(type)}_ref");
        var dst = new byte[GgmlTypeInfo.RowBytes(type, src.Length)];
        fixed (float* x = src)
        fixed (byte* y = dst)
            fn(x, y, src.Length);
        return dst;
    }

    /// <summary>
    /// ggml_quantize_chunk(type, src, dst, 0, rows, rowLength, imatrix: null): the exact call
    /// llama.cpp's model quantizer makes for each tensor chunk when no imatrix is given.
    /// </summary>
    public static byte[] QuantizeChunk(GgmlType type, ReadOnlySpan<float> src, int rowLength)
    {
        var fn = (delegate* unmanaged<int, float*, byte*, long, long, long, float*, nuint>)Export("ggml_quantize_chunk");
        int rows = src.Length / rowLength;
        var dst = new byte[GgmlTypeInfo.RowBytes(type, src.Length)];
        nuint written;
        fixed (float* x = src)
        fixed (byte* y = dst)
            written = fn((int)type, x, y, 0, rows, rowLength, null);
        if (written != (nuint)dst.Length)
            throw new InvalidOperationException($"ggml_quantize_chunk({type}) wrote {written} bytes, expected {dst.Length}");
        return dst;
    }

    /// <summary>dequantize_row_{type}(x, y, k).</summary>
    public static float[] DequantizeRow(GgmlType type, ReadOnlySpan<byte> src, int elements)
    {
        var fn = (delegate* unmanaged<byte*, float*, long, void>)Export($"dequantize_row_{SymbolSuffix(type)}");
        var dst = new float[elements];
        fixed (byte* x = src)
        fixed (float* y = dst)
            fn(x, y, elements);
        return dst;
    }

    /// <summary>ggml_fp32_to_fp16_row: fp16 bits.</summary>
    public static ushort[] Fp32ToFp16(ReadOnlySpan<float> src) => Narrow(src, "ggml_fp32_to_fp16_row");

    /// <summary>ggml_fp32_to_bf16_row_ref: bf16 bits (the variant ggml_quantize_chunk uses).</summary>
    public static ushort[] Fp32ToBf16(ReadOnlySpan<float> src) => Narrow(src, "ggml_fp32_to_bf16_row_ref");

    /// <summary>ggml_fp16_to_fp32_row.</summary>
    public static float[] Fp16ToFp32(ReadOnlySpan<ushort> src) => Widen(src, "ggml_fp16_to_fp32_row");

    /// <summary>ggml_bf16_to_fp32_row.</summary>
    public static float[] Bf16ToFp32(ReadOnlySpan<ushort> src) => Widen(src, "ggml_bf16_to_fp32_row");

    /// <summary>ggml_blck_size(type).</summary>
    public static long BlockSize(GgmlType type) => ((delegate* unmanaged<int, long>)Export("ggml_blck_size"))((int)type);

    /// <summary>ggml_type_size(type): bytes per block.</summary>
    public static long TypeSize(GgmlType type) => (long)((delegate* unmanaged<int, nuint>)Export("ggml_type_size"))((int)type);

    /// <summary>ggml_type_name(type), or null for ids this ggml build does not know.</summary>
    public static string? TypeName(GgmlType type) =>
        Marshal.PtrToStringUTF8(((delegate* unmanaged<int, nint>)Export("ggml_type_name"))((int)type));

    static ushort[] Narrow(ReadOnlySpan<float> src, string symbol)
    {
        var fn = (delegate* unmanaged<float*, ushort*, long, void>)Export(symbol);
        var dst = new ushort[src.Length];
        fixed (float* x = src)
        fixed (ushort* y = dst)
            fn(x, y, src.Length);
        return dst;
    }

    static float[] Widen(ReadOnlySpan<ushort> src, string symbol)
    {
        var fn = (delegate* unmanaged<ushort*, float*, long, void>)Export(symbol);
        var dst = new float[src.Length];
        fixed (ushort* x = src)
        fixed (float* y = dst)
            fn(x, y, src.Length);
        return dst;
    }
}
