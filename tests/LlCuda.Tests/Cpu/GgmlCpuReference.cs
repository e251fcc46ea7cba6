using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cpu;

/// <summary>
/// ggml-cpu's own dot products and activation quantizers, called straight from libggml-cpu.so
/// as LLamaSharp.Backend.Cpu ships it (the variant LLamaSharp would pick here): the reference
/// our CPU kernels are checked against. Test-only raw imports. The functions used are pure
/// after ggml_cpu_init (which fills ggml-cpu's fp16 tables once).
/// </summary>
static unsafe class GgmlCpuReference
{
    static readonly Lazy<nint> Library = new(Load);

    static nint Load()
    {
        string variant = Avx512F.IsSupported ? "avx512" : Avx2.IsSupported ? "avx2" : Avx.IsSupported ? "avx" : "noavx";
        string dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", variant);
        string path = Path.Combine(dir, "libggml-cpu.so");
        if (!File.Exists(path))
            throw new FileNotFoundException(
                $"{path} not found: the LLamaSharp.Backend.Cpu package should copy it to the test output (rebuild the test project)", path);
        // Loaded by full path first so the soname libggml-base.so that libggml-cpu.so needs is this one.
        NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        nint lib = NativeLibrary.Load(path);
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(lib, "ggml_cpu_init"))();
        return lib;
    }

    static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);

    /// <summary>ggml's type name suffix ("q4_0", "q4_K").</summary>
    static string Suffix(GgmlType type) => type.ToString().ToLowerInvariant().Replace("_k", "_K", StringComparison.Ordinal);

    /// <summary>The type ggml quantizes activations to for weights of <paramref name="type"/> (its vec_dot_type).</summary>
    public static GgmlType VecDotType(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => type,
    };

    /// <summary>ggml_vec_dot_{type}_{vecdot}[_generic](n, &amp;s, 0, w, 0, y, 0, 1).</summary>
    public static float VecDot(GgmlType type, ReadOnlySpan<byte> w, ReadOnlySpan<byte> y, int n, bool generic)
    {
        string name = type switch
        {
            GgmlType.F32 => "ggml_vec_dot_f32",
            GgmlType.F16 => "ggml_vec_dot_f16",
            GgmlType.BF16 => "ggml_vec_dot_bf16",
            _ => $"ggml_vec_dot_{Suffix(type)}_{Suffix(VecDotType(type))}" + (generic ? "_generic" : ""),
        };
        var fn = (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)Export(name);
        float s;
        fixed (byte* pw = w)
        fixed (byte* py = y)
            fn(n, &s, 0, pw, 0, py, 0, 1);
        return s;
    }

    /// <summary>quantize_row_{q8_0|q8_1|q8_K}(x, y, k): ggml-cpu's (vectorized) activation quantizer.</summary>
    public static byte[] QuantizeActivations(GgmlType vecDotType, ReadOnlySpan<float> x)
    {
        var fn = (delegate* unmanaged<float*, byte*, long, void>)Export($"quantize_row_{Suffix(vecDotType)}");
        var dst = new byte[GgmlTypeInfo.RowBytes(vecDotType, x.Length)];
        fixed (float* px = x)
        fixed (byte* py = dst)
            fn(px, py, x.Length);
        return dst;
    }
}
