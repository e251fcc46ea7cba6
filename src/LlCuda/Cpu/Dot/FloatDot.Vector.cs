using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>How a float weight type widens to fp32 lanes.</summary>
internal unsafe interface IFloatWeights
{
    static abstract Vector512<float> Load16(byte* w, int i);
    static abstract Vector256<float> Load8(byte* w, int i);
    static abstract float Load1(byte* w, int i);
}

internal unsafe struct F32Weights : IFloatWeights
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* w, int i) => Vector512.Load((float*)w + i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* w, int i) => Vector256.Load((float*)w + i);
    public static float Load1(byte* w, int i) => ((float*)w)[i];
}

/// <summary>fp16 weights, assumed finite (an Inf/NaN weight reads as a large finite value; see HalfVectors.WidenFinite).</summary>
internal unsafe struct F16Weights : IFloatWeights
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* w, int i) => HalfVectors.WidenFinite(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)w + i)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* w, int i) => HalfVectors.WidenFinite(Avx2.ConvertToVector256Int32(Vector128.Load((short*)w + i)));
    // A table load, not (float)Half: that conversion is a call, and a call after the vector loop
    // made the JIT spill the accumulators inside it (3x slower 4-token kernel).
    public static float Load1(byte* w, int i) => Simd.HalfToFloat[((ushort*)w)[i]];
}

internal unsafe struct BF16Weights : IFloatWeights
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(byte* w, int i) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)w + i)), 16).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(byte* w, int i) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Vector128.Load((ushort*)w + i)), 16).AsSingle();
    public static float Load1(byte* w, int i) => BitConverter.Int32BitsToSingle(((ushort*)w)[i] << 16);
}

// Vector kernels for float weights: each weight vector is widened once and multiply-added into
// the accumulators of up to four activation rows. Tails shorter than a vector go element by
// element (rows of any length are allowed).
internal static unsafe partial class FloatDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Float512<TW, TTok>(byte* w, ActivationRows* a, int t0, float* y, int yStride)
        where TW : struct, IFloatWeights where TTok : struct, ITokens
    {
        int n = a->Cols;
        float* x0 = a->FloatsOf(t0), x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        int i = 0;
        if (TTok.Count == 1)
        {
            // Four accumulators so consecutive multiply-adds do not wait on each other (with
            // two, the fp32 add latency capped F16 rows at ~30 GB/s).
            for (; i <= n - 64; i += 64)
            {
                acc0 = Avx512F.FusedMultiplyAdd(TW.Load16(w, i), Vector512.Load(x0 + i), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(TW.Load16(w, i + 16), Vector512.Load(x0 + i + 16), acc1);
                acc2 = Avx512F.FusedMultiplyAdd(TW.Load16(w, i + 32), Vector512.Load(x0 + i + 32), acc2);
                acc3 = Avx512F.FusedMultiplyAdd(TW.Load16(w, i + 48), Vector512.Load(x0 + i + 48), acc3);
            }
            acc0 = (acc0 + acc2);
            acc1 = (acc1 + acc3);
            acc2 = default;
            acc3 = default;
        }
        for (; i <= n - 16; i += 16)
        {
            var wv = TW.Load16(w, i);
            acc0 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x0 + i), acc0);
            if (TTok.Count > 1)
            {
                acc1 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x1 + i), acc1);
                acc2 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x2 + i), acc2);
                acc3 = Avx512F.FusedMultiplyAdd(wv, Vector512.Load(x3 + i), acc3);
            }
        }
        if (TTok.Count == 1)
        {
            y[0] = Vector512.Sum(acc0 + acc1) + Tail<TW>(w, x0, i, n);
            return;
        }
        y[0] = Vector512.Sum(acc0) + Tail<TW>(w, x0, i, n);
        y[yStride] = Vector512.Sum(acc1) + Tail<TW>(w, x1, i, n);
        y[2 * yStride] = Vector512.Sum(acc2) + Tail<TW>(w, x2, i, n);
        y[3 * yStride] = Vector512.Sum(acc3) + Tail<TW>(w, x3, i, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Float256<TW, TTok>(byte* w, ActivationRows* a, int t0, float* y, int yStride)
        where TW : struct, IFloatWeights where TTok : struct, ITokens
    {
        int n = a->Cols;
        float* x0 = a->FloatsOf(t0), x1 = x0 + n, x2 = x1 + n, x3 = x2 + n;
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        int i = 0;
        if (TTok.Count == 1)
        {
            for (; i <= n - 16; i += 16)
            {
                acc0 = Fma.MultiplyAdd(TW.Load8(w, i), Vector256.Load(x0 + i), acc0);
                acc1 = Fma.MultiplyAdd(TW.Load8(w, i + 8), Vector256.Load(x0 + i + 8), acc1);
            }
        }
        for (; i <= n - 8; i += 8)
        {
            var wv = TW.Load8(w, i);
            acc0 = Fma.MultiplyAdd(wv, Vector256.Load(x0 + i), acc0);
            if (TTok.Count > 1)
            {
                acc1 = Fma.MultiplyAdd(wv, Vector256.Load(x1 + i), acc1);
                acc2 = Fma.MultiplyAdd(wv, Vector256.Load(x2 + i), acc2);
                acc3 = Fma.MultiplyAdd(wv, Vector256.Load(x3 + i), acc3);
            }
        }
        if (TTok.Count == 1)
        {
            y[0] = Vector256.Sum(acc0 + acc1) + Tail<TW>(w, x0, i, n);
            return;
        }
        y[0] = Vector256.Sum(acc0) + Tail<TW>(w, x0, i, n);
        y[yStride] = Vector256.Sum(acc1) + Tail<TW>(w, x1, i, n);
        y[2 * yStride] = Vector256.Sum(acc2) + Tail<TW>(w, x2, i, n);
        y[3 * yStride] = Vector256.Sum(acc3) + Tail<TW>(w, x3, i, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Tail<TW>(byte* w, float* x, int i, int n) where TW : struct, IFloatWeights
    {
        float s = 0;
        for (; i < n; i++) s += TW.Load1(w, i) * x[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile512<TW>(byte* w, ActivationRows* a, int t0, int count, float* y, int yStride) where TW : struct, IFloatWeights
    {
        if (count == 4) Float512<TW, FourTokens>(w, a, t0, y, yStride);
        else for (int t = 0; t < count; t++) Float512<TW, OneToken>(w, a, t0 + t, y + t * yStride, yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile256<TW>(byte* w, ActivationRows* a, int t0, int count, float* y, int yStride) where TW : struct, IFloatWeights
    {
        if (count == 4) Float256<TW, FourTokens>(w, a, t0, y, yStride);
        else for (int t = 0; t < count; t++) Float256<TW, OneToken>(w, a, t0 + t, y + t * yStride, yStride);
    }
}
