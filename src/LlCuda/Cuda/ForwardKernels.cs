namespace LlCuda.Cuda;

/// <summary>
/// The non-matmul kernels of a transformer forward pass, each module compiled (or read from the
/// kernel cache) once: residual + RMSNorm (+ activation forms), SwiGLU, RoPE + KV-cache write,
/// split-K attention and its combine, and the greedy argmax. The matvec kernels are per weight
/// type (<see cref="MatVecKernels"/>).
/// </summary>
public sealed class ForwardKernels : IDisposable
{
    readonly CudaModule[] _modules;

    ForwardKernels(CudaModule[] modules)
    {
        _modules = modules;
        RmsNorm = modules[0].GetKernel("rmsnorm_q8_1");
        SwiGlu = modules[1].GetKernel("swiglu_q8_1");
        RopeKv = modules[2].GetKernel("rope_kv");
        AttentionPartial = modules[3].GetKernel("attention_partial");
        AttentionCombine = modules[3].GetKernel("attention_combine");
        ArgMax = modules[4].GetKernel("argmax");
    }

    /// <summary>Positions per attention_partial chunk (ATTN_CHUNK in attention.cu).</summary>
    public const int AttentionChunk = 256;

    /// <summary>Largest head dimension attention.cu holds in shared memory.</summary>
    public const int MaxHeadDim = 256;

    public CudaKernel RmsNorm { get; }
    public CudaKernel SwiGlu { get; }
    public CudaKernel RopeKv { get; }
    public CudaKernel AttentionPartial { get; }
    public CudaKernel AttentionCombine { get; }
    public CudaKernel ArgMax { get; }

    public static ForwardKernels Load(KernelCompiler compiler)
    {
        ArgumentNullException.ThrowIfNull(compiler);
        string[] files = ["rmsnorm_q8_1.cu", "swiglu_q8_1.cu", "rope_kv.cu", "attention.cu", "argmax.cu"];
        var modules = new List<CudaModule>();
        try
        {
            foreach (var f in files) modules.Add(compiler.Load(f));
            return new ForwardKernels([.. modules]);
        }
        catch
        {
            foreach (var m in modules) m.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var m in _modules) m.Dispose();
    }
}
