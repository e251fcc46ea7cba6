using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using LlCuda.Tensors.Quants;

namespace LlCuda.Tensors;

/// <summary>
/// Rows of ggml tensor data to fp32, bit-exact with ggml's dequantize_row_* (and its fp16/bf16
/// row conversions). Scalar reference code: each per-type method is the specification that
/// faster paths are tested against. The float expressions keep ggml's operand order, and .NET
/// never fuses a multiply and an add on its own, so the results match ggml's fp32 arithmetic
/// to the bit (ggml-base is built without FMA contraction; see the tests).
/// </summary>
public static partial class Dequantize
{
    /// <summary>
    /// Dequantizes <paramref name="dst"/>.Length elements of <paramref name="type"/> from
    /// <paramref name="src"/>, which must hold exactly those elements' bytes.
    /// </summary>
    /// <exception cref="ArgumentException">The element count is not a whole number of blocks, or src has the wrong size.</exception>
    /// <exception cref="NotSupportedException">The type has no dequantizer here.</exception>
    public static void Row(GgmlType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        RowChecks.Check(nameof(Dequantize), type, src.Length, dst.Length, nameof(src));
        switch (type)
        {
            case GgmlType.F32: MemoryMarshal.Cast<byte, float>(src).CopyTo(dst); break;
            case GgmlType.F16: F16(MemoryMarshal.Cast<byte, Half>(src), dst); break;
            case GgmlType.BF16: BF16(MemoryMarshal.Cast<byte, ushort>(src), dst); break;
            case GgmlType.Q4_0: Q4_0(MemoryMarshal.Cast<byte, BlockQ4_0>(src), dst); break;
            case GgmlType.Q4_1: Q4_1(MemoryMarshal.Cast<byte, BlockQ4_1>(src), dst); break;
            case GgmlType.Q5_0: Q5_0(MemoryMarshal.Cast<byte, BlockQ5_0>(src), dst); break;
            case GgmlType.Q5_1: Q5_1(MemoryMarshal.Cast<byte, BlockQ5_1>(src), dst); break;
            case GgmlType.Q8_0: Q8_0(MemoryMarshal.Cast<byte, BlockQ8_0>(src), dst); break;
            case GgmlType.Q8_1: Q8_1(MemoryMarshal.Cast<byte, BlockQ8_1>(src), dst); break;
            case GgmlType.Q2_K: Q2_K(MemoryMarshal.Cast<byte, BlockQ2_K>(src), dst); break;
            case GgmlType.Q3_K: Q3_K(MemoryMarshal.Cast<byte, BlockQ3_K>(src), dst); break;
            case GgmlType.Q4_K: Q4_K(MemoryMarshal.Cast<byte, BlockQ4_K>(src), dst); break;
            case GgmlType.Q5_K: Q5_K(MemoryMarshal.Cast<byte, BlockQ5_K>(src), dst); break;
            case GgmlType.Q6_K: Q6_K(MemoryMarshal.Cast<byte, BlockQ6_K>(src), dst); break;
            case GgmlType.Q8_K: Q8_K(MemoryMarshal.Cast<byte, BlockQ8_K>(src), dst); break;
            default: ThrowUnsupported(type); break;
        }
    }

    /// <summary>True when <see cref="Row"/> accepts <paramref name="type"/>.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0 or GgmlType.Q8_1
        or GgmlType.Q2_K or GgmlType.Q3_K or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K or GgmlType.Q8_K;

    /// <summary>fp16 to fp32 (exact).</summary>
    public static void F16(ReadOnlySpan<Half> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, 1, dst.Length, "F16");
        for (int i = 0; i < src.Length; i++) dst[i] = (float)src[i];
    }

    /// <summary>bf16 bits to fp32 (exact).</summary>
    public static void BF16(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        RowChecks.CheckCount(src.Length, 1, dst.Length, "BF16");
        for (int i = 0; i < src.Length; i++) dst[i] = FloatFormats.FromBf16Bits(src[i]);
    }

    [DoesNotReturn]
    static void ThrowUnsupported(GgmlType type) => throw new NotSupportedException(
        $"Dequantize.Row: type {type} has no dequantizer yet (supported: F32, F16, BF16, Q4_0, Q4_1, " +
        "Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K)");
}
