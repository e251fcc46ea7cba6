using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

// 256-bit (AVX2, and AVX-VNNI's vpdpwssd) forms of the K-quant kernels: 32 weights per product
// step, one sub-block (Q4_K/Q5_K) or two (Q6_K) per step. Same integer sums as the 512-bit form.
internal static unsafe partial class QuantDot
{
    /// <summary>256-bit K-quant kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K256<TBlock, TIsa, TTok>(byte* w, ActivationRows* a, int t0, float* y, int yStride)
        where TBlock : struct, IKBlock where TIsa : struct, IIsa where TTok : struct, ITokens
    {
        int blocks = a->Cols / 256;
        int spt = a->ScalesPerToken, sumpt = a->SumsPerToken;
        sbyte* c0 = a->CodesOf(t0);
        float* d0 = a->ScalesOf(t0);
        short* b0 = a->SumsOf(t0);
        long cs = a->Cols;
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        Vector256<float> m0 = default, m1 = default, m2 = default, m3 = default;
        var codes = stackalloc Vector256<byte>[8];   // the super-block's 256 codes, 32 per entry, in weight order
        var scales = stackalloc Vector256<short>[8]; // the int16 scale of each entry's product pairs
        for (int b = 0; b < blocks; b++, c0 += 256, d0++, b0 += 16)
        {
            byte* blk = w + b * TBlock.BlockBytes;
            Vector256<short> minsOrScales;
            float d, dmin = 0;
            if (TBlock.HasMins)
            {
                d = Simd.Half(blk);
                dmin = Simd.Half(blk + 2);
                UnpackScales(blk + 4, out ulong sc, out ulong mn);
                var sc8 = Widen8(sc);
                var both = Vector256.Create(sc8, sc8).AsByte();
                for (int j = 0; j < 8; j++) scales[j] = Avx2.Shuffle(both, PairIndex(j)).AsInt16();
                minsOrScales = PairUp(Widen8(mn));
            }
            else
            {
                d = Simd.Half(blk + 208);
                var raw = Vector128.Load(blk + 192);
                minsOrScales = Avx2.ConvertToVector256Int16(raw.AsSByte());
                // Even-numbered scales in the low lane, odd ones in the high lane: code entry k
                // (sub-blocks 2k and 2k + 1 of 16 weights) then takes element k of each lane.
                var split = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(raw, EvenOdd).AsSByte()).AsByte();
                for (int k = 0; k < 8; k++) scales[k] = Avx2.Shuffle(split, PairIndex(k)).AsInt16();
            }
            KCodes256<TBlock>(blk, codes);

            KStep256<TBlock, TIsa>(codes, scales, minsOrScales, c0, b0, d * d0[0], dmin * d0[0], ref f0, ref m0);
            if (TTok.Count > 1)
            {
                KStep256<TBlock, TIsa>(codes, scales, minsOrScales, c0 + cs, b0 + sumpt, d * d0[spt], dmin * d0[spt], ref f1, ref m1);
                KStep256<TBlock, TIsa>(codes, scales, minsOrScales, c0 + 2 * cs, b0 + 2 * sumpt, d * d0[2 * spt], dmin * d0[2 * spt], ref f2, ref m2);
                KStep256<TBlock, TIsa>(codes, scales, minsOrScales, c0 + 3 * cs, b0 + 3 * sumpt, d * d0[3 * spt], dmin * d0[3 * spt], ref f3, ref m3);
            }
        }
        y[0] = KResult256<TBlock>(f0, m0);
        if (TTok.Count > 1)
        {
            y[yStride] = KResult256<TBlock>(f1, m1);
            y[2 * yStride] = KResult256<TBlock>(f2, m2);
            y[3 * yStride] = KResult256<TBlock>(f3, m3);
        }
    }

    /// <summary>The 256 codes (0..63) of a K-quant super-block in weight order, 32 per vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void KCodes256<TBlock>(byte* blk, Vector256<byte>* codes) where TBlock : struct, IKBlock
    {
        if (TBlock.HasMins)
        {
            for (int p = 0; p < 4; p++) KCodePair<TBlock>(blk, p, out codes[2 * p], out codes[2 * p + 1]);
        }
        else
        {
            for (int h = 0; h < 2; h++) Q6Codes(blk, h, out codes[4 * h], out codes[4 * h + 1], out codes[4 * h + 2], out codes[4 * h + 3]);
        }
    }

    /// <summary>Q4_K/Q5_K: the codes of sub-blocks 2p (<paramref name="lo"/>) and 2p + 1 (<paramref name="hi"/>), 32 each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void KCodePair<TBlock>(byte* blk, int p, out Vector256<byte> lo, out Vector256<byte> hi) where TBlock : struct, IKBlock
    {
        var m4 = Vector256.Create((byte)0x0F);
        bool five = typeof(TBlock) == typeof(Q5_KBlock);
        var q = Vector256.Load(blk + (five ? 48 : 16) + 32 * p);
        lo = q & m4;
        hi = Avx2.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & m4;
        if (five)
        {
            // The fifth bits: bit 2p of qh[i] for sub-block 2p, bit 2p + 1 for 2p + 1.
            var qh = Vector256.Load(blk + 16);
            var bitLo = Vector256.Create((byte)(1 << (2 * p)));
            var bitHi = Vector256.Create((byte)(2 << (2 * p)));
            lo |= Vector256.Equals(qh & bitLo, bitLo) & Vector256.Create((byte)0x10);
            hi |= Vector256.Equals(qh & bitHi, bitHi) & Vector256.Create((byte)0x10);
        }
    }

    /// <summary>Q6_K: the codes of weights 128h + 32k .. + 31 as c0..c3 (k = 0..3), 0..63 each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Q6Codes(byte* blk, int h, out Vector256<byte> c0, out Vector256<byte> c1, out Vector256<byte> c2, out Vector256<byte> c3)
    {
        var m4 = Vector256.Create((byte)0x0F);
        var m30 = Vector256.Create((byte)0x30);
        var qlA = Vector256.Load(blk + 64 * h);
        var qlB = Vector256.Load(blk + 64 * h + 32);
        var qh = Vector256.Load(blk + 128 + 32 * h).AsUInt16();
        c0 = (qlA & m4) | (Avx2.ShiftLeftLogical(qh, 4).AsByte() & m30);
        c1 = (qlB & m4) | (Avx2.ShiftLeftLogical(qh, 2).AsByte() & m30);
        c2 = (Avx2.ShiftRightLogical(qlA.AsUInt16(), 4).AsByte() & m4) | (qh.AsByte() & m30);
        c3 = (Avx2.ShiftRightLogical(qlB.AsUInt16(), 4).AsByte() & m4) | (Avx2.ShiftRightLogical(qh, 2).AsByte() & m30);
    }

    /// <summary>pshufb control: int16 element <paramref name="j"/> of each 128-bit lane, in all eight of that lane's int16 slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<byte> PairIndex(int j) => Vector256.Create((ushort)(0x0100 * (2 * j + 1) + 2 * j)).AsByte();

    static Vector128<byte> EvenOdd => Vector128.Create((byte)0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void KStep256<TBlock, TIsa>(Vector256<byte>* codes, Vector256<short>* scales, Vector256<short> minsOrScales,
        sbyte* c, short* bsums, float ddy, float dminDy, ref Vector256<float> f, ref Vector256<float> m)
        where TBlock : struct, IKBlock where TIsa : struct, IIsa
    {
        Vector256<int> acc = default;
        for (int k = 0; k < 8; k++)
        {
            var prod = Avx2.MultiplyAddAdjacent(codes[k], Vector256.Load(c + 32 * k));
            acc = TIsa.Vnni ? AvxVnni.MultiplyWideningAndAdd(acc, prod, scales[k]) : acc + Avx2.MultiplyAddAdjacent(prod, scales[k]);
        }
        var bs = Avx2.MultiplyAddAdjacent(Vector256.Load(bsums), minsOrScales);
        if (TBlock.HasMins)
        {
            f = Fma.MultiplyAdd(Avx.ConvertToVector256Single(acc), Vector256.Create(ddy), f);
            m = Fma.MultiplyAdd(Avx.ConvertToVector256Single(bs), Vector256.Create(dminDy), m);
        }
        else
        {
            f = Fma.MultiplyAdd(Avx.ConvertToVector256Single(acc - Avx2.ShiftLeftLogical(bs, 5)), Vector256.Create(ddy), f);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float KResult256<TBlock>(Vector256<float> f, Vector256<float> m) where TBlock : struct, IKBlock =>
        TBlock.HasMins ? Vector256.Sum(f) - Vector256.Sum(m) : Vector256.Sum(f);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void KTile256<TBlock, TIsa>(byte* w, ActivationRows* a, int t0, int count, float* y, int yStride)
        where TBlock : struct, IKBlock where TIsa : struct, IIsa
    {
        if (count == 4) K256<TBlock, TIsa, FourTokens>(w, a, t0, y, yStride);
        else for (int t = 0; t < count; t++) y[t * yStride] = KRow256<TBlock, TIsa>(w, a, t0 + t);
    }
}
