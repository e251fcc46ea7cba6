using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

// Row-interleaved prefill kernels for the K-quants (see Interleaved.Legacy.cs for the idea).
// Tile layout, rows r of 16, super-blocks s of S = Cols / 256:
//   codes at 0: [Cols / 4 groups][16 rows][4 codes] u8 (0..63, weight order);
//   then per super-block, KMetaBytes each:
//     +0    d[16] fp32, +64 dmin[16] fp32 (Q4_K/Q5_K),
//     +128  scales: [sub-block][16 rows] int32 = the row's int16 scale twice (so vpmaddwd
//           multiplies both int16 partial sums of a lane by it); 8 sub-blocks of 32 (Q4_K/Q5_K)
//           or 16 of 16 (Q6_K),
//     +1152 [8][16] int32 pairs: Q4_K/Q5_K the minimum twice, against the two 16-code sums of
//           its sub-block; Q6_K scales (2i, 2i + 1), against sums 2i and 2i + 1.
// Int16 partial sums run over as many 4-code groups as cannot overflow: 8 for 4-bit codes
// (15 * 127 * 2 * 8 = 30,480), 4 for 5-bit, 2 for 6-bit.
internal static unsafe partial class Interleaved
{
    internal const int KMetaBytes = 1664;

    public static long KTileBytes(int cols) => 16L * cols + (long)(cols / 256) * KMetaBytes;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeK<TBlock>(WeightMatrix* w, int r0, int count, byte* tile) where TBlock : struct, IKBlock
    {
        int cols = w->Cols, supers = cols / 256;
        byte* meta0 = tile + 16L * cols;
        // One super-block's codes of 8 rows, [row][8 vectors of 32 codes], then transposed out.
        var codes = stackalloc Vector256<byte>[8 * 8];
        bool six = !TBlock.HasMins;
        for (int s = 0; s < supers; s++)
        {
            byte* meta = meta0 + (long)s * KMetaBytes;
            float* d = (float*)meta;
            float* dmin = (float*)(meta + 64);
            uint* sc = (uint*)(meta + 128);
            uint* second = (uint*)(meta + 1152);
            for (int h = 0; h < 2; h++)
            {
                for (int i = 0; i < 8; i++)
                {
                    int r = 8 * h + i;
                    Vector256<byte>* rowCodes = codes + 8 * i;
                    if (r >= count)
                    {
                        for (int v = 0; v < 8; v++) rowCodes[v] = default;
                        d[r] = 0;
                        dmin[r] = 0;
                        for (int j = 0; j < 16; j++) sc[j * Rows + r] = 0;
                        for (int j = 0; j < 8; j++) second[j * Rows + r] = 0;
                        continue;
                    }
                    byte* blk = w->Row(r0 + r) + (long)s * TBlock.BlockBytes;
                    QuantDot.KCodes256<TBlock>(blk, rowCodes);
                    if (!six)
                    {
                        d[r] = Simd.Half(blk);
                        dmin[r] = Simd.Half(blk + 2);
                        QuantDot.UnpackScales(blk + 4, out ulong scales, out ulong mins);
                        for (int j = 0; j < 8; j++)
                        {
                            uint sj = (uint)(scales >> (8 * j)) & 0xFF, mj = (uint)(mins >> (8 * j)) & 0xFF;
                            sc[j * Rows + r] = sj | (sj << 16);
                            second[j * Rows + r] = mj | (mj << 16);
                        }
                    }
                    else
                    {
                        d[r] = Simd.Half(blk + 208);
                        sbyte* s6 = (sbyte*)(blk + 192);
                        for (int j = 0; j < 16; j++) sc[j * Rows + r] = Pair(s6[j], s6[j]);
                        for (int j = 0; j < 8; j++) second[j * Rows + r] = Pair(s6[2 * j], s6[2 * j + 1]);
                    }
                }
                // Vector v of every row holds groups 8v..8v+7 of this super-block.
                for (int v = 0; v < 8; v++)
                    StoreTransposed(codes[v].AsInt32(), codes[8 + v].AsInt32(), codes[16 + v].AsInt32(), codes[24 + v].AsInt32(),
                        codes[32 + v].AsInt32(), codes[40 + v].AsInt32(), codes[48 + v].AsInt32(), codes[56 + v].AsInt32(),
                        tile + (64L * s + 8 * v) * 64 + 32 * h, 64);
            }
        }
    }

    /// <summary>Two int16 values in one int32 (lo in bits 0-15).</summary>
    static uint Pair(sbyte lo, sbyte hi) => (uint)(ushort)(short)lo | ((uint)(ushort)(short)hi << 16);

    /// <summary>y[t * yStride + r] for t &lt; TTok.Count, r &lt; rows, from a decoded K-quant tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K<TBlock, TTok>(byte* tile, ActivationRows* a, int t0, float* y, int yStride, int rows)
        where TBlock : struct, IKBlock where TTok : struct, ITokens
    {
        int cols = a->Cols, supers = cols / 256;
        bool six = !TBlock.HasMins;
        int run = six ? 2 : typeof(TBlock) == typeof(Q5_KBlock) ? 4 : 8; // groups per int16 partial sum
        int groupsPerScale = six ? 4 : 8;                                   // groups per sub-block
        sbyte* y0 = a->CodesOf(t0);
        float* d0 = a->ScalesOf(t0);
        short* b0 = a->SumsOf(t0);
        long cs = cols;
        int spt = a->ScalesPerToken, bpt = a->SumsPerToken;
        Vector512<float> f0 = default, f1 = default, f2 = default, f3 = default;
        for (int s = 0; s < supers; s++)
        {
            byte* meta = tile + 16L * cols + (long)s * KMetaBytes;
            int* sc = (int*)(meta + 128);
            int* second = (int*)(meta + 1152);
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int g0 = 0; g0 < 64; g0 += run)
            {
                Vector512<short> p0 = default, p1 = default, p2 = default, p3 = default;
                for (int g = g0; g < g0 + run; g++)
                {
                    var cw = Vector512.Load(tile + (64L * s + g) * 64);
                    long o = 256L * s + 4 * g;
                    p0 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + o));
                    if (TTok.Count > 1)
                    {
                        p1 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + cs + o));
                        p2 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + 2 * cs + o));
                        p3 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + 3 * cs + o));
                    }
                }
                var scale = Vector512.Load(sc + g0 / groupsPerScale * Rows).AsInt16();
                i0 += Avx512BW.MultiplyAddAdjacent(p0, scale);
                if (TTok.Count > 1)
                {
                    i1 += Avx512BW.MultiplyAddAdjacent(p1, scale);
                    i2 += Avx512BW.MultiplyAddAdjacent(p2, scale);
                    i3 += Avx512BW.MultiplyAddAdjacent(p3, scale);
                }
            }
            f0 = Super<TBlock>(i0, meta, second, b0 + 16 * s, d0[s], f0);
            if (TTok.Count > 1)
            {
                f1 = Super<TBlock>(i1, meta, second, b0 + bpt + 16 * s, d0[spt + s], f1);
                f2 = Super<TBlock>(i2, meta, second, b0 + 2 * bpt + 16 * s, d0[2 * spt + s], f2);
                f3 = Super<TBlock>(i3, meta, second, b0 + 3 * bpt + 16 * s, d0[3 * spt + s], f3);
            }
        }
        Store(f0, y, rows);
        if (TTok.Count > 1)
        {
            Store(f1, y + yStride, rows);
            Store(f2, y + 2 * yStride, rows);
            Store(f3, y + 3 * yStride, rows);
        }
    }

    /// <summary>One super-block's fp32 contribution for 16 rows: d * dy * isum minus the minimum (or -32 offset) term.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Super<TBlock>(Vector512<int> isum, byte* meta, int* second, short* bsums, float dy, Vector512<float> f)
        where TBlock : struct, IKBlock
    {
        // Σ over 8 pairs of 16-code sums: (m_j, m_j) . (bs_2j, bs_2j+1) or (sc_2i, sc_2i+1) . (bs_2i, bs_2i+1).
        Vector512<int> corr = default;
        for (int j = 0; j < 8; j++)
            corr += Avx512BW.MultiplyAddAdjacent(Vector512.Load(second + j * Rows).AsInt16(), Vector512.Create(*(int*)(bsums + 2 * j)).AsInt16());
        var vdy = Vector512.Create(dy);
        if (TBlock.HasMins)
        {
            f = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), Vector512.Load((float*)meta) * vdy, f);
            return Avx512F.FusedMultiplyAddNegated(Avx512F.ConvertToVector512Single(corr), Vector512.Load((float*)(meta + 64)) * vdy, f);
        }
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum - (corr << 5)), Vector512.Load((float*)meta) * vdy, f);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void KTokens<TBlock>(byte* tile, ActivationRows* a, int t0, int count, float* y, int yStride, int rows)
        where TBlock : struct, IKBlock
    {
        int t = 0;
        for (; t + 4 <= count; t += 4) K<TBlock, FourTokens>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
        for (; t < count; t++) K<TBlock, OneToken>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
    }
}
