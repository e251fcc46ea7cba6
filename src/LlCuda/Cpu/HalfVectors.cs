using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// fp16 &lt;-&gt; fp32 on vectors with integer operations (.NET 10 exposes no F16C intrinsics).
/// Widening is exact; narrowing rounds to nearest-even and turns NaN into the quiet NaN 0x7E00
/// with the input's sign, as <see cref="LlCuda.Tensors.FloatFormats.ToHalf"/> (and ggml) do.
/// </summary>
internal static class HalfVectors
{
    // Widening: the 15 exponent+mantissa bits shifted into fp32 position and scaled by 2^112
    // (the bias difference 127 - 15) give normals and subnormals exactly; Inf/NaN get the
    // fp32 all-ones exponent instead.
    const float Rebias = 5.192296858534828e33f; // 2^112

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Widen(Vector512<uint> h)
    {
        var em = (h & Vector512.Create(0x7FFFu)) << 13;
        var f = (em.AsSingle() * Vector512.Create(Rebias)).AsUInt32();
        var special = Vector512.Equals(h & Vector512.Create(0x7C00u), Vector512.Create(0x7C00u));
        f = Vector512.ConditionalSelect(special, em | Vector512.Create(0x7F80_0000u), f);
        return (f | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(Vector256<uint> h)
    {
        var em = (h & Vector256.Create(0x7FFFu)) << 13;
        var f = (em.AsSingle() * Vector256.Create(Rebias)).AsUInt32();
        var special = Vector256.Equals(h & Vector256.Create(0x7C00u), Vector256.Create(0x7C00u));
        f = Vector256.ConditionalSelect(special, em | Vector256.Create(0x7F80_0000u), f);
        return (f | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    /// <summary>
    /// Widens 16 fp16 values that are finite (all model weights are), in four instructions:
    /// sign-extending each 16-bit value to 32 bits and shifting left by 13 puts the sign in bit 31
    /// (and copies of it in bits 28-30, which the mask clears) and exponent+mantissa in bits
    /// 13-27; scaling by 2^112 rebiases the exponent, exactly for normals and subnormals.
    /// Infinity and NaN come out as finite values (65536 and up): use <see cref="Widen(Vector512{uint})"/> where they can occur.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> WidenFinite(Vector512<int> signExtended) =>
        ((signExtended << 13) & Vector512.Create(unchecked((int)0x8FFF_E000))).AsSingle() * Vector512.Create(Rebias);

    /// <summary>
    /// Eight finite fp16 values at <paramref name="p"/> widened and multiplied by
    /// <paramref name="scale"/>, with the 2^112 rebias folded into that one multiply (exact:
    /// a power of two). For block scales times an activation scale in the packed kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> WidenFiniteScaled(short* p, float scale) =>
        ((Avx2.ConvertToVector256Int32(p) << 13) & Vector256.Create(unchecked((int)0x8FFF_E000))).AsSingle() * Vector256.Create(scale * Rebias);

    /// <summary>8-lane <see cref="WidenFinite(Vector512{int})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WidenFinite(Vector256<int> signExtended) =>
        ((signExtended << 13) & Vector256.Create(unchecked((int)0x8FFF_E000))).AsSingle() * Vector256.Create(Rebias);

    // Narrowing (round to nearest-even in integer arithmetic): values below 2^-14 are rounded by
    // letting an fp32 add with 0.5 (as a magic number) align them to the fp16 subnormal grid;
    // normals add half an ulp minus one plus the lowest kept bit, which carries exactly when
    // rounding goes up; anything at or above 65520 overflows to infinity.
    const uint F32Infinity = 255u << 23;
    const uint F16Overflow = (127u + 16) << 23;
    const uint DenormMagic = ((127u - 15) + (23 - 10) + 1) << 23;
    const uint MinNormal = 113u << 23;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<uint> Narrow(Vector512<float> value)
    {
        var f = value.AsUInt32();
        var sign = f & Vector512.Create(0x8000_0000u);
        f ^= sign;
        var big = Vector512.ConditionalSelect(Vector512.GreaterThan(f, Vector512.Create(F32Infinity)),
            Vector512.Create(0x7E00u), Vector512.Create(0x7C00u));
        var sub = (f.AsSingle() + Vector512.Create(DenormMagic).AsSingle()).AsUInt32() - Vector512.Create(DenormMagic);
        var odd = (f >> 13) & Vector512<uint>.One;
        var normal = (f + Vector512.Create(unchecked((uint)((15 - 127) << 23)) + 0xFFFu) + odd) >> 13;
        var o = Vector512.ConditionalSelect(Vector512.LessThan(f, Vector512.Create(MinNormal)), sub, normal);
        o = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(f, Vector512.Create(F16Overflow)), big, o);
        return o | (sign >> 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Narrow(Vector256<float> value)
    {
        var f = value.AsUInt32();
        var sign = f & Vector256.Create(0x8000_0000u);
        f ^= sign;
        var big = Vector256.ConditionalSelect(Vector256.GreaterThan(f, Vector256.Create(F32Infinity)),
            Vector256.Create(0x7E00u), Vector256.Create(0x7C00u));
        var sub = (f.AsSingle() + Vector256.Create(DenormMagic).AsSingle()).AsUInt32() - Vector256.Create(DenormMagic);
        var odd = (f >> 13) & Vector256<uint>.One;
        var normal = (f + Vector256.Create(unchecked((uint)((15 - 127) << 23)) + 0xFFFu) + odd) >> 13;
        var o = Vector256.ConditionalSelect(Vector256.LessThan(f, Vector256.Create(MinNormal)), sub, normal);
        o = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(f, Vector256.Create(F16Overflow)), big, o);
        return o | (sign >> 16);
    }
}
