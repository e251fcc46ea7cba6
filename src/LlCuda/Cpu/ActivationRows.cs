using System.Runtime.CompilerServices;

namespace LlCuda.Cpu;

/// <summary>How a matmul's activations are presented to the dot-product kernel of a weight type.</summary>
internal enum ActivationFormat
{
    /// <summary>fp32 as given (F32, F16, BF16 weights).</summary>
    Float,
    /// <summary>
    /// Q8_0 codes and scales (ggml's Q8_0, and Q8_1 whose s = d * sum is rebuilt from the sums):
    /// per 32 activations one fp32 scale (an fp16 value, as ggml stores it) and the int16 sum of
    /// the 32 codes. Used by Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 weights.
    /// </summary>
    Q8Blocks,
    /// <summary>ggml's Q8_K: per 256 activations one fp32 scale, and the int16 sum of every 16 codes. Used by K-quant weights.</summary>
    Q8K,
}

/// <summary>
/// The activations of one matmul call in the form the kernels read (struct of arrays, not ggml's
/// interleaved blocks: codes contiguous so a 64-byte load covers two blocks, scales already
/// fp32, sums precomputed once per call instead of once per weight row).
/// Token t's data starts at Codes + t * Cols, Scales + t * ScalesPerToken, Sums + t * SumsPerToken,
/// Floats + t * Cols.
/// </summary>
internal unsafe struct ActivationRows
{
    /// <summary>[tokens, Cols] int8 codes (quantized formats).</summary>
    public sbyte* Codes;
    /// <summary>[tokens, ScalesPerToken] fp32 block scales.</summary>
    public float* Scales;
    /// <summary>[tokens, SumsPerToken] int16 sums of codes (per 32 for Q8Blocks, per 16 for Q8K).</summary>
    public short* Sums;
    /// <summary>
    /// Q8Blocks only: [tokens, Cols / 32 * 8] fp32, each block's scale repeated in 8 lanes, so a
    /// vector kernel scales a block's eight int32 partial sums with one multiply from memory.
    /// </summary>
    public float* ScaleLanes;
    /// <summary>
    /// Q8Blocks only: [tokens, Cols / 32 * 8] fp32, each block's -offset * sum * scale / 8 in 8
    /// lanes, where offset is what the kernel's unsigned weight codes exceed the signed values
    /// by (8 for Q4_0, 16 for Q5_0, 128 for Q8_0 as u8). A kernel scales its eight partial sums
    /// of u8 x s8 products with one multiply-add, partials * scale lanes + correction lanes,
    /// and gets the signed dot product times the activation scale, at no extra cost per row.
    /// </summary>
    public float* CorrLanes;
    /// <summary>Q8Blocks only: [tokens, Cols / 32] int32, offset * sum of each block (row-interleaved kernels).</summary>
    public int* OffsetSums;
    /// <summary>[tokens, Cols] fp32 activations (Float format).</summary>
    public float* Floats;
    /// <summary>Elements per token.</summary>
    public int Cols;
    public int ScalesPerToken;
    public int SumsPerToken;

    // AggressiveInlining: the large kernel bodies exhaust the JIT's inlining budget, and a call
    // left in a kernel makes the register allocator spill the vector accumulators around it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly sbyte* CodesOf(int token) => Codes + (long)token * Cols;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float* ScalesOf(int token) => Scales + (long)token * ScalesPerToken;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly short* SumsOf(int token) => Sums + (long)token * SumsPerToken;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float* FloatsOf(int token) => Floats + (long)token * Cols;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int* OffsetSumsOf(int token) => OffsetSums + (long)token * (Cols / 32);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float* ScaleLanesOf(int token) => ScaleLanes + (long)token * (Cols / 4);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float* CorrLanesOf(int token) => CorrLanes + (long)token * (Cols / 4);
}
