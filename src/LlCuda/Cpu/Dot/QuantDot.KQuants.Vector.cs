using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// How a 256-weight super-block type feeds the K-quant kernels: its codes (unsigned, 0..63) in
/// chunks of 64 (512-bit) or 32 (256-bit) weights in order, one int16 scale per product pair,
/// and the per-super-block fp32 terms.
/// </summary>
internal unsafe interface IKBlock
{
    static abstract int BlockBytes { get; }
    /// <summary>Q4_K/Q5_K: minus dmin * Σ m_j * (sum of sub-block j's activations) per super-block.</summary>
    static abstract bool HasMins { get; }
}

internal struct Q4_KBlock : IKBlock { public static int BlockBytes => 144; public static bool HasMins => true; }
internal struct Q5_KBlock : IKBlock { public static int BlockBytes => 176; public static bool HasMins => true; }
internal struct Q6_KBlock : IKBlock { public static int BlockBytes => 210; public static bool HasMins => false; }

// Vector kernels of the super-block types against Q8_K activations. Within a super-block all
// sums stay integer: vpmaddubsw multiplies codes by activations into int16 pairs, vpmaddwd
// (or VNNI's vpdpwssd) multiplies those by the sub-block scales into int32; one fp32 multiply-add
// per super-block and token applies d * dy. Q4_K/Q5_K's minimums and Q6_K's -32 offset come from
// the activations' 16-code sums (bsums), as in ggml.
internal static unsafe partial class QuantDot
{
    // ---- shared super-block decoding ----

    /// <summary>
    /// Q4_K/Q5_K's 12 packed bytes to 8 six-bit scales and 8 six-bit minimums, one per byte of
    /// each result (sub-block j in byte j), with 32-bit word operations instead of a loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void UnpackScales(byte* s, out ulong scales, out ulong mins)
    {
        uint u0 = *(uint*)s, u1 = *(uint*)(s + 4), u2 = *(uint*)(s + 8);
        uint scLo = u0 & 0x3F3F3F3F;
        uint scHi = (u2 & 0x0F0F0F0F) | (((u0 >> 6) & 0x03030303) << 4);
        uint mLo = u1 & 0x3F3F3F3F;
        uint mHi = ((u2 >> 4) & 0x0F0F0F0F) | (((u1 >> 6) & 0x03030303) << 4);
        scales = scLo | ((ulong)scHi << 32);
        mins = mLo | ((ulong)mHi << 32);
    }

    /// <summary>8 bytes to 8 int16 lanes, zero-extended.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<short> Widen8(ulong bytes) => Sse41.ConvertToVector128Int16(Vector128.CreateScalar(bytes).AsByte());

    /// <summary>[m0, m0, m1, m1, ..., m7, m7]: each minimum against the two 16-code sums of its sub-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<short> PairUp(Vector128<short> m) => Vector256.Create(Sse2.UnpackLow(m, m), Sse2.UnpackHigh(m, m));

    // ---- 512-bit ----

    /// <summary>512-bit K-quant kernel: 64 weights per product step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K512<TBlock, TTok>(byte* w, ActivationRows* a, int t0, float* y, int yStride)
        where TBlock : struct, IKBlock where TTok : struct, ITokens
    {
        int blocks = a->Cols / 256;
        int spt = a->ScalesPerToken, sumpt = a->SumsPerToken;
        sbyte* c0 = a->CodesOf(t0);
        float* d0 = a->ScalesOf(t0);
        short* b0 = a->SumsOf(t0);
        long cs = a->Cols;
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        Vector256<float> m0 = default, m1 = default, m2 = default, m3 = default;
        for (int b = 0; b < blocks; b++, c0 += 256, d0++, b0 += 16)
        {
            byte* blk = w + b * TBlock.BlockBytes;
            Vector512<byte> q0, q1, q2, q3;
            Vector512<short> s0, s1, s2, s3;
            Vector256<short> minsOrScales;
            float d, dmin = 0;
            if (TBlock.HasMins)
            {
                d = Simd.Half(blk);
                dmin = Simd.Half(blk + 2);
                UnpackScales(blk + 4, out ulong sc, out ulong mn);
                var sc16 = Widen8(sc).ToVector256Unsafe().ToVector512Unsafe();
                s0 = Avx512BW.PermuteVar32x16(sc16, ScaleIndex(0));
                s1 = Avx512BW.PermuteVar32x16(sc16, ScaleIndex(1));
                s2 = Avx512BW.PermuteVar32x16(sc16, ScaleIndex(2));
                s3 = Avx512BW.PermuteVar32x16(sc16, ScaleIndex(3));
                minsOrScales = PairUp(Widen8(mn));
                byte* qs = blk + (typeof(TBlock) == typeof(Q5_KBlock) ? 48 : 16);
                q0 = Nibbles64(qs);
                q1 = Nibbles64(qs + 32);
                q2 = Nibbles64(qs + 64);
                q3 = Nibbles64(qs + 96);
                if (typeof(TBlock) == typeof(Q5_KBlock))
                {
                    var qh = Broadcast256(blk + 16);
                    q0 |= FifthBits(qh, 0);
                    q1 |= FifthBits(qh, 2);
                    q2 |= FifthBits(qh, 4);
                    q3 |= FifthBits(qh, 6);
                }
            }
            else
            {
                // Q6_K: ql [128] at 0, qh [64] at 128, scales [16] int8 at 192, d at 208.
                d = Simd.Half(blk + 208);
                var sc = Avx2.ConvertToVector256Int16(Vector128.Load((sbyte*)(blk + 192)));
                var sc512 = sc.ToVector512Unsafe();
                s0 = Avx512BW.PermuteVar32x16(sc512, Q6ScaleIndex(0));
                s1 = Avx512BW.PermuteVar32x16(sc512, Q6ScaleIndex(1));
                s2 = Avx512BW.PermuteVar32x16(sc512, Q6ScaleIndex(2));
                s3 = Avx512BW.PermuteVar32x16(sc512, Q6ScaleIndex(3));
                minsOrScales = sc;
                Q6Codes(blk, 0, out q0, out q1);
                Q6Codes(blk, 1, out q2, out q3);
            }

            KStep512<TBlock>(q0, q1, q2, q3, s0, s1, s2, s3, minsOrScales, c0, b0, d * d0[0], dmin * d0[0], ref f0, ref m0);
            if (TTok.Count > 1)
            {
                KStep512<TBlock>(q0, q1, q2, q3, s0, s1, s2, s3, minsOrScales, c0 + cs, b0 + sumpt, d * d0[spt], dmin * d0[spt], ref f1, ref m1);
                KStep512<TBlock>(q0, q1, q2, q3, s0, s1, s2, s3, minsOrScales, c0 + 2 * cs, b0 + 2 * sumpt, d * d0[2 * spt], dmin * d0[2 * spt], ref f2, ref m2);
                KStep512<TBlock>(q0, q1, q2, q3, s0, s1, s2, s3, minsOrScales, c0 + 3 * cs, b0 + 3 * sumpt, d * d0[3 * spt], dmin * d0[3 * spt], ref f3, ref m3);
            }
        }
        y[0] = KResult<TBlock>(f0, m0);
        if (TTok.Count > 1)
        {
            y[yStride] = KResult<TBlock>(f1, m1);
            y[2 * yStride] = KResult<TBlock>(f2, m2);
            y[3 * yStride] = KResult<TBlock>(f3, m3);
        }
    }

    /// <summary>Q4_K/Q5_K: scaled code sums minus scaled minimum sums; Q6_K: its sum, kept in <paramref name="m"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float KResult<TBlock>(Vector512<float> f, Vector256<float> m) where TBlock : struct, IKBlock =>
        TBlock.HasMins ? Vector512.Sum(f) - Vector256.Sum(m) : Vector256.Sum(m);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void KStep512<TBlock>(Vector512<byte> q0, Vector512<byte> q1, Vector512<byte> q2, Vector512<byte> q3,
        Vector512<short> s0, Vector512<short> s1, Vector512<short> s2, Vector512<short> s3, Vector256<short> minsOrScales,
        sbyte* c, short* bsums, float ddy, float dminDy, ref Vector512<float> f, ref Vector256<float> m)
        where TBlock : struct, IKBlock
    {
        var acc = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q0, Vector512.Load(c)), s0);
        acc += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q1, Vector512.Load(c + 64)), s1);
        acc += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q2, Vector512.Load(c + 128)), s2);
        acc += Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(q3, Vector512.Load(c + 192)), s3);
        var bs = Avx2.MultiplyAddAdjacent(Vector256.Load(bsums), minsOrScales);
        if (TBlock.HasMins)
        {
            f = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(acc), Vector512.Create(ddy), f);
            m = Fma.MultiplyAdd(Avx.ConvertToVector256Single(bs), Vector256.Create(dminDy), m);
        }
        else
        {
            // Q6_K: codes are q + 32, so Σ sc * (q + 32) * y overshoots by 32 * Σ sc_j * bsum_j.
            // Q6_K keeps its whole sum in m (positive; see KResult).
            var isum = acc.GetLower() + acc.GetUpper() - Avx2.ShiftLeftLogical(bs, 5);
            m = Fma.MultiplyAdd(Avx.ConvertToVector256Single(isum), Vector256.Create(ddy), m);
        }
    }

    /// <summary>vpermw indices: int16 lanes 0-15 take scale 2p, lanes 16-31 scale 2p + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> ScaleIndex(int p)
    {
        var lo = Vector256.Create((short)(2 * p));
        return Simd.Join(lo, Vector256.Create((short)(2 * p + 1)));
    }

    /// <summary>vpermw indices for Q6_K chunk k: 8 lanes each of scales 4k .. 4k + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<short> Q6ScaleIndex(int k)
    {
        short s = (short)(4 * k);
        return Simd.Join(Vector256.Create(Vector128.Create(s), Vector128.Create((short)(s + 1))),
                         Vector256.Create(Vector128.Create((short)(s + 2)), Vector128.Create((short)(s + 3))));
    }

    /// <summary>
    /// The 32 bytes at <paramref name="p"/> in both halves of a register. Not
    /// Avx512F.BroadcastVector256ToVector512(pointer): .NET 10's JIT encodes that load as a
    /// 128-bit broadcast in optimized code (its disassembly reads "vbroadcasti64x4 zmm,
    /// xmmword ptr"), which filled the upper 16 bytes of each half with the lower ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<ulong> Broadcast256(byte* p)
    {
        var v = Vector256.Load((ulong*)p);
        return Simd.Join(v, v);
    }

    /// <summary>32 packed bytes to 64 codes: the low nibbles (32 weights) then the high nibbles.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<byte> Nibbles64(byte* p)
    {
        var q = Broadcast256(p);
        return Avx512F.ShiftRightLogicalVariable(q, Vector512.Create(0UL, 0, 0, 0, 4, 4, 4, 4)).AsByte() & Vector512.Create((byte)0x0F);
    }

    /// <summary>Q5_K's fifth bits for chunk 2p / 2p + 1 (bits 2p and 2p + 1 of each qh byte) as 0x10.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<byte> FifthBits(Vector512<ulong> qh, int bit)
    {
        var shift = Simd.Join(Vector256.Create((ulong)bit), Vector256.Create((ulong)bit + 1));
        var b = Avx512F.ShiftRightLogicalVariable(qh, shift).AsByte() & Vector512<byte>.One;
        return Avx512BW.ShiftLeftLogical(b.AsUInt16(), 4).AsByte();
    }

    /// <summary>Q6_K half <paramref name="h"/>'s 128 codes (0..63) as two chunks of 64 in weight order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Q6Codes(byte* blk, int h, out Vector512<byte> a, out Vector512<byte> b)
    {
        var ql = Vector512.Load(blk + 64 * h);
        var qh = Broadcast256(blk + 128 + 32 * h);
        var m4 = Vector512.Create((byte)0x0F);
        var m30 = Vector512.Create((byte)0x30);
        // Weights 0-63: ql & 15 with qh bits 0-1 (first 32) / 2-3 (next 32) moved to bits 4-5.
        var hiA = Avx512F.ShiftLeftLogicalVariable(qh, Vector512.Create(4UL, 4, 4, 4, 2, 2, 2, 2)).AsByte() & m30;
        // Weights 64-127: ql >> 4 with qh bits 4-5 / 6-7.
        var hiB = Avx512F.ShiftRightLogicalVariable(qh, Vector512.Create(0UL, 0, 0, 0, 2, 2, 2, 2)).AsByte() & m30;
        a = (ql & m4) | hiA;
        b = (Avx512BW.ShiftRightLogical(ql.AsUInt16(), 4).AsByte() & m4) | hiB;
    }
}
