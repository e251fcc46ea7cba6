using LlCuda.Tensors;

namespace LlCuda.Cuda;

/// <summary>Where a weight matrix's GGUF bytes are (typically a slice of the model file's memory map).</summary>
public delegate ReadOnlySpan<byte> WeightBytes();

/// <summary>One weight matrix to upload: its GGUF row data, row count and type.</summary>
public readonly record struct WeightSource(WeightBytes Data, int Rows, GgmlType Type);

/// <summary>
/// One linear layer of a forward pass on the GPU: y [n, ldy] (columns offset..offset+Rows-1) =
/// x [n, Cols] W^T, where W is one weight matrix or several stacked along the rows (Q, K and V;
/// gate and up) that share the input. Stacked matrices of one type are uploaded as one matrix,
/// so a decode step streams them in one launch; matrices of different types (Q4_K_M keeps V
/// in Q6_K) stay separate launches writing neighbouring column ranges of the same output.
/// </summary>
/// <remarks>
/// Two ways to run: matvec kernels over n tokens (decode and small batches: the weights are
/// streamed once per 8 tokens), or, for prefill, each matrix dequantized to fp16 into a scratch
/// buffer and multiplied by cuBLAS on the tensor cores (fp32 accumulation).
/// </remarks>
public sealed class DeviceProjection : IDisposable
{
    readonly Part[] _parts;

    sealed record Part(DeviceWeights Weights, MatVecKernels Kernels, int Offset);

    DeviceProjection(Part[] parts, int cols)
    {
        _parts = parts;
        Cols = cols;
        Rows = parts.Sum(p => p.Weights.Rows);
    }

    /// <summary>Input features.</summary>
    public int Cols { get; }
    /// <summary>Output features (all parts).</summary>
    public int Rows { get; }
    /// <summary>Some part reads its input as Q8_1 (the quantized types).</summary>
    public bool NeedsQ8_1 => _parts.Any(p => p.Kernels.UsesQ8_1);
    /// <summary>Some part reads its input as fp32 (F32, F16, BF16).</summary>
    public bool NeedsF32 => _parts.Any(p => !p.Kernels.UsesQ8_1);
    /// <summary>Prefill may go through fp16 GEMMs: false when a part is F32 (fp16 would round its weights).</summary>
    public bool CanGemm => _parts.All(p => p.Weights.Type != GgmlType.F32);
    /// <summary>fp16 elements the largest part needs in the GEMM scratch buffer (0 if none needs one).</summary>
    public long ScratchElements => _parts.Where(p => p.Weights.F16RowMajorAddress is null).Select(p => (long)p.Weights.Rows * p.Weights.Cols).DefaultIfEmpty(0).Max();
    /// <summary>Bytes of weights on the device.</summary>
    public long ByteSize => _parts.Sum(p => p.Weights.ByteSize);
    /// <summary>The weight types, for reports ("Q4_K+Q6_K").</summary>
    public string TypeText => string.Join("+", _parts.Select(p => p.Weights.Type));

    /// <summary>
    /// Uploads <paramref name="matrices"/> (GGUF row data, rows, type; all of <paramref name="cols"/>
    /// columns) as one projection: consecutive matrices of the same type become one device matrix.
    /// </summary>
    /// <param name="kernelsFor">The matvec kernels of a weight type (loaded once per type by the caller).</param>
    public static DeviceProjection Upload(CudaContext context, CudaStream stream, int cols,
        IReadOnlyList<WeightSource> matrices, Func<GgmlType, MatVecKernels> kernelsFor)
    {
        ArgumentNullException.ThrowIfNull(matrices);
        ArgumentNullException.ThrowIfNull(kernelsFor);
        var parts = new List<Part>();
        try
        {
            int offset = 0;
            for (int i = 0; i < matrices.Count;)
            {
                int j = i + 1;
                while (j < matrices.Count && matrices[j].Type == matrices[i].Type) j++;
                int rows = 0;
                for (int k = i; k < j; k++) rows += matrices[k].Rows;
                DeviceWeights weights;
                if (j == i + 1) weights = DeviceWeights.Upload(context, stream, matrices[i].Type, matrices[i].Data(), rows, cols);
                else
                {
                    // Rows of one type are contiguous in GGUF's row-major data: stacking is concatenation.
                    long total = 0;
                    for (int k = i; k < j; k++) total += matrices[k].Data().Length;
                    var stacked = new byte[total];
                    long at = 0;
                    for (int k = i; k < j; k++)
                    {
                        var data = matrices[k].Data();
                        data.CopyTo(stacked.AsSpan((int)at));
                        at += data.Length;
                    }
                    weights = DeviceWeights.Upload(context, stream, matrices[i].Type, stacked, rows, cols);
                }
                parts.Add(new Part(weights, kernelsFor(matrices[i].Type), offset));
                offset += rows;
                i = j;
            }
            return new DeviceProjection([.. parts], cols);
        }
        catch
        {
            foreach (var p in parts) p.Weights.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Queues y = x W^T for <paramref name="n"/> tokens with the matvec kernels: x as
    /// <paramref name="x"/> provides it (Q8_1 and/or fp32 [n, Cols]), y at <paramref name="y"/> with
    /// <paramref name="ldy"/> floats per token (this projection writes columns 0..Rows-1).
    /// </summary>
    public void MatVec(CudaStream stream, MatVecInput x, ulong y, int n, int ldy)
    {
        foreach (var p in _parts) p.Weights.Launch(p.Kernels, stream, x, y + 4UL * (ulong)p.Offset, n, ldy);
    }

    /// <summary>
    /// Queues y = x W^T through cuBLAS: <paramref name="xh"/> is x as fp16 [n, Cols]; each part not
    /// already fp16 is dequantized into <paramref name="scratch"/> (fp16, at least
    /// <see cref="ScratchElements"/>) first. Stream order makes reusing the scratch safe.
    /// </summary>
    public void Gemm(CublasHandle cublas, CudaStream stream, ulong xh, ulong scratch, ulong y, int n, int ldy)
    {
        ArgumentNullException.ThrowIfNull(cublas);
        foreach (var p in _parts)
        {
            ulong w = p.Weights.F16RowMajorAddress ?? 0;
            if (w == 0)
            {
                p.Weights.DequantizeToF16(p.Kernels, stream, scratch);
                w = scratch;
            }
            // Column-major view: W (row-major [rows, cols]) is a cols x rows matrix, op T gives
            // rows x cols; x (row-major [n, cols]) is cols x n; y is rows x n with stride ldy.
            cublas.Gemm(transposeA: true, transposeB: false, p.Weights.Rows, n, Cols, w, Cols, xh, Cols,
                y + 4UL * (ulong)p.Offset, ldy, GemmElementType.Float16, GemmElementType.Float32);
        }
    }

    public void Dispose()
    {
        foreach (var p in _parts) p.Weights.Dispose();
    }
}
