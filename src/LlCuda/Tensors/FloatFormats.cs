namespace LlCuda.Tensors;

/// <summary>
/// fp16 and bf16 conversions with ggml's rounding, so the bytes we write match llama.cpp's.
/// Widening (fp16/bf16 to fp32) is exact. Narrowing rounds to nearest, ties to even.
/// </summary>
public static class FloatFormats
{
    // ggml's fp32 -> fp16 (a bit trick, or F16C) rounds to nearest-even like IEEE conversion,
    // which is what .NET's (Half) cast does; the two differ only on NaN: ggml writes the quiet
    // NaN 0x7E00 with the input's sign and drops the payload. Checked against ggml_fp32_to_fp16
    // over random bit patterns in the tests.
    const ushort Fp16QuietNaN = 0x7E00;

    /// <summary>fp32 to fp16 as ggml's GGML_FP32_TO_FP16 does it.</summary>
    public static Half ToHalf(float value)
    {
        if (float.IsNaN(value))
        {
            var sign = (ushort)((BitConverter.SingleToUInt32Bits(value) >> 16) & 0x8000);
            return BitConverter.UInt16BitsToHalf((ushort)(sign | Fp16QuietNaN));
        }
        return (Half)value;
    }

    /// <summary>fp32 to fp16 bits as ggml's GGML_FP32_TO_FP16 does it.</summary>
    public static ushort ToFp16Bits(float value) => BitConverter.HalfToUInt16Bits(ToHalf(value));

    /// <summary>fp16 bits to fp32 (exact).</summary>
    public static float FromFp16Bits(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>
    /// fp32 to bf16 bits as ggml_compute_fp32_to_bf16: round to nearest-even on the top 16 bits;
    /// NaN keeps its sign and top payload and is forced quiet. Subnormals are kept, not flushed.
    /// </summary>
    public static ushort ToBf16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000)
            return (ushort)((bits >> 16) | 0x40);
        // Adding 0x7FFF plus the lowest kept bit carries into the kept half exactly when the
        // dropped half is above one half ulp, or equal to it and the kept half is odd.
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>bf16 bits to fp32 (exact).</summary>
    public static float FromBf16Bits(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
