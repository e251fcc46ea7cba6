using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using LlCuda.Tensors;

namespace LlCuda.Cpu;

/// <summary>
/// Quantizes fp32 activation rows to int8 codes for the integer dot products, as ggml-cpu does
/// before a quantized matmul (its vec_dot_type), but into <see cref="ActivationRows"/>' layout.
/// The scalar paths are the specification; the vector paths give the same bits.
/// </summary>
internal static unsafe class ActivationQuantizer
{
    /// <summary>
    /// Q8_0 of one row of <paramref name="cols"/> (a multiple of 32) values, as ggml-cpu's x86
    /// quantize_row_q8_0: d = amax / 127, codes = round-half-even(x * (127 / amax)), d stored as
    /// fp16 (here as that fp16 value in fp32). Also writes each block's code sum.
    /// </summary>
    /// <param name="x">[cols] fp32.</param>
    /// <param name="codes">[cols] int8 out.</param>
    /// <param name="scales">[cols / 32] fp32 out.</param>
    /// <param name="sums">[cols / 32] int16 out.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8Blocks(float* x, int cols, sbyte* codes, float* scales, short* sums, KernelPath path)
    {
        if (path >= KernelPath.Avx512 && KernelPaths.IsSupported(KernelPath.Avx512)) Q8BlocksAvx512(x, cols, codes, scales, sums);
        else if (path >= KernelPath.Avx2 && KernelPaths.IsSupported(KernelPath.Avx2)) Q8BlocksAvx2(x, cols, codes, scales, sums);
        else Q8BlocksScalar(x, cols, codes, scales, sums);
    }

    public static void Q8BlocksScalar(float* x, int cols, sbyte* codes, float* scales, short* sums)
    {
        for (int b = 0; b < cols / 32; b++)
        {
            float* xb = x + 32 * b;
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(xb[j]));
            float id = amax != 0 ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                int q = (int)MathF.Round(xb[j] * id, MidpointRounding.ToEven);
                codes[32 * b + j] = (sbyte)q;
                sum += q;
            }
            scales[b] = (float)FloatFormats.ToHalf(amax / 127f);
            sums[b] = (short)sum;
        }
    }

    /// <summary>
    /// Writes the per-lane forms of a Q8Blocks row (see <see cref="ActivationRows.ScaleLanes"/>):
    /// each block's scale 8 times, -offset * sum * scale / 8 8 times (offset 0 skips them), and offset * sum once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FillLanes(float* scales, short* sums, int blocks, int offset, float* scaleLanes, float* corrLanes, int* offsetSums)
    {
        for (int b = 0; b < blocks; b++)
        {
            offsetSums[b] = offset * sums[b];
            Vector256.Create(scales[b]).Store(scaleLanes + 8 * b);
            if (offset != 0) Vector256.Create(-offset / 8f * sums[b] * scales[b]).Store(corrLanes + 8 * b);
        }
    }

    static void Q8BlocksAvx512(float* x, int cols, sbyte* codes, float* scales, short* sums)
    {
        var absMask = Vector512.Create(0x7FFF_FFFF).AsSingle();
        for (int b = 0; b < cols / 32; b++)
        {
            float* xb = x + 32 * b;
            var v0 = Vector512.Load(xb);
            var v1 = Vector512.Load(xb + 16);
            // max is exact in any order, so the vector reduction equals the scalar loop.
            float amax = VectorReduce.Max(Vector512.Max(v0 & absMask, v1 & absMask));
            float id = amax != 0 ? 127f / amax : 0f;
            var vid = Vector512.Create(id);
            var q0 = Avx512F.ConvertToVector512Int32(v0 * vid); // MXCSR default: round half to even
            var q1 = Avx512F.ConvertToVector512Int32(v1 * vid);
            Avx512F.ConvertToVector128SByte(q0).Store(codes + 32 * b);
            Avx512F.ConvertToVector128SByte(q1).Store(codes + 32 * b + 16);
            scales[b] = (float)FloatFormats.ToHalf(amax / 127f);
            sums[b] = (short)Vector512.Sum(q0 + q1);
        }
    }

    // AVX2 (the NativeAOT CLI's x86-64-v3 target): eight lanes at a time, the same arithmetic.
    static void Q8BlocksAvx2(float* x, int cols, sbyte* codes, float* scales, short* sums)
    {
        var absMask = Vector256.Create(0x7FFF_FFFF).AsSingle();
        for (int b = 0; b < cols / 32; b++)
        {
            float* xb = x + 32 * b;
            var v0 = Vector256.Load(xb); var v1 = Vector256.Load(xb + 8);
            var v2 = Vector256.Load(xb + 16); var v3 = Vector256.Load(xb + 24);
            float amax = VectorReduce.Max(Vector256.Max(Vector256.Max(v0 & absMask, v1 & absMask), Vector256.Max(v2 & absMask, v3 & absMask)));
            float id = amax != 0 ? 127f / amax : 0f;
            var vid = Vector256.Create(id);
            var q0 = Avx.ConvertToVector256Int32(v0 * vid); // MXCSR default: round half to even
            var q1 = Avx.ConvertToVector256Int32(v1 * vid);
            var q2 = Avx.ConvertToVector256Int32(v2 * vid);
            var q3 = Avx.ConvertToVector256Int32(v3 * vid);
            Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).Store(codes + 32 * b);
            scales[b] = (float)FloatFormats.ToHalf(amax / 127f);
            sums[b] = (short)Vector256.Sum((q0 + q1) + (q2 + q3));
        }
    }

    static void Q8KAvx2(float* x, int cols, sbyte* codes, float* scales, short* sums)
    {
        var absMask = Vector256.Create(0x7FFF_FFFF).AsSingle();
        for (int b = 0; b < cols / 256; b++)
        {
            float* xb = x + 256 * b;
            sbyte* qb = codes + 256 * b;
            var vmax = Vector256<float>.Zero;
            for (int j = 0; j < 256; j += 8) vmax = Vector256.Max(vmax, Vector256.Load(xb + j) & absMask);
            float amax = VectorReduce.Max(vmax);
            if (amax == 0)
            {
                scales[b] = 0;
                Unsafe.InitBlock(qb, 0, 256);
                Unsafe.InitBlock(sums + 16 * b, 0, 32);
                continue;
            }
            float max = 0;
            for (int j = 0; j < 256; j++)
                if (MathF.Abs(xb[j]) == amax) { max = xb[j]; break; }
            float iscale = -127f / max;
            var vs = Vector256.Create(iscale);
            var cap = Vector256.Create(127);
            for (int j = 0; j < 256; j += 16)
            {
                var q0 = Vector256.Min(Avx.ConvertToVector256Int32(Vector256.Load(xb + j) * vs), cap);
                var q1 = Vector256.Min(Avx.ConvertToVector256Int32(Vector256.Load(xb + j + 8) * vs), cap);
                var s16 = Vector256.Narrow(q0, q1);
                Vector128.Narrow(s16.GetLower(), s16.GetUpper()).Store(qb + j);
                sums[16 * b + j / 16] = (short)Vector256.Sum(q0 + q1);
            }
            scales[b] = 1 / iscale;
        }
    }

    /// <summary>
    /// Q8_K of one row (cols a multiple of 256), as ggml's quantize_row_q8_K_ref: codes =
    /// min(127, nearest(x * -127 / max)) where max is the value of largest magnitude with its
    /// sign, d = 1 / iscale, and the sum of every 16 codes.
    /// </summary>
    /// <param name="x">[cols] fp32.</param>
    /// <param name="codes">[cols] int8 out.</param>
    /// <param name="scales">[cols / 256] fp32 out.</param>
    /// <param name="sums">[cols / 16] int16 out.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8K(float* x, int cols, sbyte* codes, float* scales, short* sums, KernelPath path)
    {
        if (path >= KernelPath.Avx512 && KernelPaths.IsSupported(KernelPath.Avx512)) Q8KAvx512(x, cols, codes, scales, sums);
        else if (path >= KernelPath.Avx2 && KernelPaths.IsSupported(KernelPath.Avx2)) Q8KAvx2(x, cols, codes, scales, sums);
        else Q8KScalar(x, cols, codes, scales, sums);
    }

    public static void Q8KScalar(float* x, int cols, sbyte* codes, float* scales, short* sums)
    {
        for (int b = 0; b < cols / 256; b++)
        {
            float* xb = x + 256 * b;
            sbyte* qb = codes + 256 * b;
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(xb[j]);
                if (ax > amax) { amax = ax; max = xb[j]; }
            }
            if (amax == 0)
            {
                scales[b] = 0;
                for (int j = 0; j < 256; j++) qb[j] = 0;
                for (int j = 0; j < 16; j++) sums[16 * b + j] = 0;
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) qb[j] = (sbyte)Math.Min(127, Quantize.NearestInt(iscale * xb[j]));
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int l = 0; l < 16; l++) sum += qb[16 * j + l];
                sums[16 * b + j] = (short)sum;
            }
            scales[b] = 1 / iscale;
        }
    }

    static void Q8KAvx512(float* x, int cols, sbyte* codes, float* scales, short* sums)
    {
        var absMask = Vector512.Create(0x7FFF_FFFF).AsSingle();
        for (int b = 0; b < cols / 256; b++)
        {
            float* xb = x + 256 * b;
            sbyte* qb = codes + 256 * b;
            var vmax = Vector512<float>.Zero;
            for (int j = 0; j < 256; j += 16) vmax = Vector512.Max(vmax, Vector512.Load(xb + j) & absMask);
            float amax = VectorReduce.Max(vmax);
            if (amax == 0)
            {
                scales[b] = 0;
                Unsafe.InitBlock(qb, 0, 256);
                Unsafe.InitBlock(sums + 16 * b, 0, 32);
                continue;
            }
            // The signed value of largest magnitude: the first one, as the scalar loop keeps.
            float max = 0;
            for (int j = 0; j < 256; j++)
                if (MathF.Abs(xb[j]) == amax) { max = xb[j]; break; }
            float iscale = -127f / max;
            var vs = Vector512.Create(iscale);
            var cap = Vector512.Create(127);
            for (int j = 0; j < 256; j += 16)
            {
                var q = Vector512.Min(Avx512F.ConvertToVector512Int32(Vector512.Load(xb + j) * vs), cap);
                Avx512F.ConvertToVector128SByte(q).Store(qb + j);
                sums[16 * b + j / 16] = (short)Vector512.Sum(q);
            }
            scales[b] = 1 / iscale;
        }
    }
}
