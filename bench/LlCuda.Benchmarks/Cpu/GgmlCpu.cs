using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using LlCuda.Tensors;

namespace LlCuda.Benchmarks.Cpu;

/// <summary>
/// ggml-cpu's vec_dot kernels and activation quantizers from libggml-cpu.so (LLamaSharp.Backend.Cpu,
/// the variant llama.cpp would load here): the baseline our kernels are timed against.
/// Benchmark-only raw imports.
/// </summary>
internal static unsafe class GgmlCpu
{
    static readonly Lazy<nint> Library = new(Load);

    public static string Variant => Avx512F.IsSupported ? "avx512" : Avx2.IsSupported ? "avx2" : Avx.IsSupported ? "avx" : "noavx";

    static nint Load()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", Variant);
        NativeLibrary.Load(Path.Combine(dir, "libggml-base.so"));
        nint lib = NativeLibrary.Load(Path.Combine(dir, "libggml-cpu.so"));
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(lib, "ggml_cpu_init"))();
        return lib;
    }

    static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);

    static string Suffix(GgmlType type) => type.ToString().ToLowerInvariant().Replace("_k", "_K", StringComparison.Ordinal);

    /// <summary>ggml's activation type for weights of <paramref name="type"/> (vec_dot_type).</summary>
    public static GgmlType VecDotType(GgmlType type) => type switch
    {
        GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q8_0 => GgmlType.Q8_0,
        GgmlType.Q4_1 or GgmlType.Q5_1 => GgmlType.Q8_1,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => GgmlType.Q8_K,
        _ => type,
    };

    /// <summary>vec_dot(n, s, bs, x, bx, y, by, nrc) for weights of <paramref name="type"/>.</summary>
    public static delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void> VecDot(GgmlType type) =>
        (delegate* unmanaged<int, float*, nuint, byte*, nuint, byte*, nuint, int, void>)Export(type switch
        {
            GgmlType.F32 => "ggml_vec_dot_f32",
            GgmlType.F16 => "ggml_vec_dot_f16",
            GgmlType.BF16 => "ggml_vec_dot_bf16",
            _ => $"ggml_vec_dot_{Suffix(type)}_{Suffix(VecDotType(type))}",
        });

    /// <summary>The row converter ggml applies to fp32 activations before vec_dot (x, y, k).</summary>
    public static delegate* unmanaged<float*, byte*, long, void> FromFloat(GgmlType type) =>
        (delegate* unmanaged<float*, byte*, long, void>)Export(VecDotType(type) switch
        {
            GgmlType.F16 => "ggml_cpu_fp32_to_fp16",
            GgmlType.BF16 => "ggml_cpu_fp32_to_bf16",
            var t => $"quantize_row_{Suffix(t)}",
        });
}
