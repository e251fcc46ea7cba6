using LlCuda.Tensors;

namespace LlCuda.Cuda;

/// <summary>
/// One weight type's matrix-vector kernels, loaded from matvec_TYPE.cu: matvec_TYPE_NT for
/// NT = 1, 2, 4, 8 tokens per launch (the weights read once per launch) and dequant_TYPE_f16
/// (W as fp16 for the prefill GEMM; F16 has none, its weights already are fp16). Launched
/// through <see cref="DeviceWeights.Launch"/> and <see cref="DeviceWeights.DequantizeToF16"/>.
/// </summary>
/// <remarks>Thread-safety: as <see cref="CudaModule"/>; dispose after the last launch is queued.</remarks>
public sealed class MatVecKernels : IDisposable
{
    /// <summary>
    /// Tokens the next launch takes when <paramref name="remaining"/> are left: the widest kernel
    /// that fits (8, 4, 2 or 1), so n = 13 runs as 8 + 4 + 1 and each launch reads the weights once.
    /// </summary>
    public static int TokensForNextLaunch(int remaining)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(remaining);
        return remaining >= 8 ? 8 : remaining >= 4 ? 4 : remaining >= 2 ? 2 : 1;
    }

    /// <summary>The weight types that have kernels, in the selftest's order.</summary>
    public static IReadOnlyList<GgmlType> SupportedTypes { get; } =
        [GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.F16, GgmlType.BF16, GgmlType.F32];

    readonly CudaModule _module;
    readonly CudaKernel[] _matVec; // index: log2(NT)

    MatVecKernels(GgmlType type, CudaModule module, CudaKernel[] matVec, CudaKernel? dequant)
    {
        Type = type;
        _module = module;
        _matVec = matVec;
        Dequant = dequant;
    }

    /// <summary>Compiles (or reads from the kernel cache) and loads <paramref name="type"/>'s kernels.</summary>
    /// <exception cref="NotSupportedException">No kernels for the type.</exception>
    public static MatVecKernels Load(KernelCompiler compiler, GgmlType type)
    {
        ArgumentNullException.ThrowIfNull(compiler);
        string file = FileName(type);
        string name = TypeName(type);
        var module = compiler.Load(file);
        try
        {
            var matVec = new CudaKernel[4];
            for (int i = 0; i < 4; i++) matVec[i] = module.GetKernel($"matvec_{name}_{1 << i}");
            var dequant = type == GgmlType.F16 ? null : module.GetKernel($"dequant_{name}_f16");
            return new MatVecKernels(type, module, matVec, dequant);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>The kernel file of <paramref name="type"/> ("matvec_q4_k.cu").</summary>
    /// <exception cref="NotSupportedException">No kernels for the type.</exception>
    public static string FileName(GgmlType type) => $"matvec_{TypeName(type)}.cu";

    static string TypeName(GgmlType type)
    {
        if (!SupportedTypes.Contains(type))
            throw new NotSupportedException($"no CUDA matvec kernels for {type} weights (supported: {string.Join(", ", SupportedTypes)}); re-quantize the model to one of those types");
        return type.ToString().ToLowerInvariant();
    }

    public GgmlType Type { get; }

    /// <summary>True when the kernels read activations as Q8_1 (quantized types); false for F32, F16, BF16 (fp32 activations).</summary>
    public bool UsesQ8_1 => UsesQ8_1Activations(Type);

    internal static bool UsesQ8_1Activations(GgmlType type) => type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16);

    /// <summary>matvec_TYPE_NT for <paramref name="tokens"/> = 1, 2, 4 or 8.</summary>
    public CudaKernel MatVec(int tokens) => tokens switch
    {
        1 => _matVec[0],
        2 => _matVec[1],
        4 => _matVec[2],
        8 => _matVec[3],
        _ => throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "the matvec kernels take 1, 2, 4 or 8 tokens per launch"),
    };

    /// <summary>dequant_TYPE_f16, or null for F16 weights (already fp16).</summary>
    public CudaKernel? Dequant { get; }

    public void Dispose() => _module.Dispose();
}
