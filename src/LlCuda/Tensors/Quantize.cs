using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using LlCuda.Tensors.Quants;

namespace LlCuda.Tensors;

/// <summary>
/// fp32 rows to ggml tensor data, byte for byte what llama.cpp writes when it quantizes a model
/// without an importance matrix: ggml_quantize_chunk then calls quantize_row_*_ref for every
/// type here (quantize_q4_K and friends fall back to the _ref function when imatrix is null).
/// Scalar reference code; float expressions keep ggml's operand order (see <see cref="Dequantize"/>).
/// </summary>
public static partial class Quantize
{
    /// <summary>
    /// Quantizes <paramref name="src"/> (a whole number of blocks) into <paramref name="dst"/>,
    /// which must be exactly the packed size of those elements.
    /// </summary>
    /// <exception cref="ArgumentException">The element count is not a whole number of blocks, or dst has the wrong size.</exception>
    /// <exception cref="NotSupportedException">The type has no quantizer here.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        RowChecks.Check(nameof(Quantize), type, dst.Length, src.Length, nameof(dst));
        switch (type)
        {
            case GgmlType.F32: src.CopyTo(MemoryMarshal.Cast<byte, float>(dst)); break;
            case GgmlType.F16: F16(src, MemoryMarshal.Cast<byte, Half>(dst)); break;
            case GgmlType.BF16: BF16(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case GgmlType.Q4_0: Q4_0(src, MemoryMarshal.Cast<byte, BlockQ4_0>(dst)); break;
            case GgmlType.Q4_1: Q4_1(src, MemoryMarshal.Cast<byte, BlockQ4_1>(dst)); break;
            case GgmlType.Q5_0: Q5_0(src, MemoryMarshal.Cast<byte, BlockQ5_0>(dst)); break;
            case GgmlType.Q5_1: Q5_1(src, MemoryMarshal.Cast<byte, BlockQ5_1>(dst)); break;
            case GgmlType.Q8_0: Q8_0(src, MemoryMarshal.Cast<byte, BlockQ8_0>(dst)); break;
            case GgmlType.Q8_1: Q8_1(src, MemoryMarshal.Cast<byte, BlockQ8_1>(dst)); break;
            case GgmlType.Q2_K: Q2_K(src, MemoryMarshal.Cast<byte, BlockQ2_K>(dst)); break;
            case GgmlType.Q3_K: Q3_K(src, MemoryMarshal.Cast<byte, BlockQ3_K>(dst)); break;
            case GgmlType.Q4_K: Q4_K(src, MemoryMarshal.Cast<byte, BlockQ4_K>(dst)); break;
            case GgmlType.Q5_K: Q5_K(src, MemoryMarshal.Cast<byte, BlockQ5_K>(dst)); break;
            case GgmlType.Q6_K: Q6_K(src, MemoryMarshal.Cast<byte, BlockQ6_K>(dst)); break;
            case GgmlType.Q8_K: Q8_K(src, MemoryMarshal.Cast<byte, BlockQ8_K>(dst)); break;
            default: ThrowUnsupported(type); break;
        }
    }

    /// <summary>True when <see cref="Row"/> accepts <paramref name="type"/>.</summary>
    public static bool Supports(GgmlType type) => Dequantize.Supports(type);

    /// <summary>fp32 to fp16, rounding to nearest-even (ggml_fp32_to_fp16_row).</summary>
    public static void F16(ReadOnlySpan<float> src, Span<Half> dst)
    {
        RowChecks.CheckCount(dst.Length, 1, src.Length, "F16");
        for (int i = 0; i < src.Length; i++) dst[i] = FloatFormats.ToHalf(src[i]);
    }

    /// <summary>fp32 to bf16 bits, rounding to nearest-even (ggml_fp32_to_bf16_row_ref, which llama.cpp's quantizer uses).</summary>
    public static void BF16(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        RowChecks.CheckCount(dst.Length, 1, src.Length, "BF16");
        for (int i = 0; i < src.Length; i++) dst[i] = FloatFormats.ToBf16Bits(src[i]);
    }

    [DoesNotReturn]
    static void ThrowUnsupported(GgmlType type) => throw new NotSupportedException(
        $"Quantize.Row: type {type} has no quantizer yet (supported: F32, F16, BF16, Q4_0, Q4_1, " +
        "Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K)");
}
