namespace LlCuda.Cuda;

/// <summary>
/// Device addresses of token 0's activations for <see cref="DeviceWeights.Launch"/>, n tokens
/// stored one after another (token t at t times one token's bytes). A kernel family reads the
/// ones its weight type needs (0 = not provided): the quantized types read Q8_1 codes and
/// scales, F32, F16 and BF16 read the fp32 values.
/// </summary>
/// <param name="Codes">Q8_1 codes: [n, cols] int8 (quantize_q8_1.cu's q).</param>
/// <param name="Scales">Q8_1 scales: [n, cols / 32] float2 (d, d * sum of codes), quantize_q8_1.cu's ds.</param>
/// <param name="Floats">fp32 activations: [n, cols] float, 16-byte aligned.</param>
public readonly record struct MatVecInput(ulong Codes, ulong Scales, ulong Floats)
{
    /// <summary>Q8_1 activations only.</summary>
    public static MatVecInput Q8_1(ulong codes, ulong scales) => new(codes, scales, 0);

    /// <summary>fp32 activations only.</summary>
    public static MatVecInput Fp32(ulong floats) => new(0, 0, floats);
}
