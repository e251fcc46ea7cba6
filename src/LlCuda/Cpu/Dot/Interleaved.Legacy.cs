using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// Row-interleaved prefill kernels (AVX-512): 16 weight rows are decoded once per chunk into a
/// tile where each 32-bit lane of a 512-bit vector belongs to one row, then every token of the
/// chunk runs over the tile. Each step multiplies four codes of all 16 rows by the same four
/// activations (one broadcast), so a token's 16 results come out in 16 lanes and the block
/// scales apply with one vector multiply-add per block for all 16 rows, where the per-row
/// kernels spend one per block and row. This is llama.cpp's repacked-weight layout (q4_0_8x8
/// and friends), built per chunk in a worker's scratch instead of copied at load time, so the
/// model stays a read-only memory map.
/// </summary>
/// <remarks>
/// Tile layout for the 32-weight block types, rows r of 16, blocks b of B = Cols / 32:
/// codes at 0: [B * 8 groups][16 rows][4 codes] u8; weight scales at 16 * Cols: [B][16] fp32;
/// minimums (Q4_1/Q5_1) after them: [B][16] fp32. Rows past the matrix end are zero.
/// Without VNNI-512 in .NET the products are vpmaddubsw (u8 code x s8 activation, int16 pairs),
/// summed in int16 over up to 8 groups (15 * 127 * 2 * 8 = 30,480 fits; 4 groups for 5-bit
/// codes), then vpmaddwd by 1 to int32.
/// </remarks>
internal static unsafe partial class Interleaved
{
    public const int Rows = 16;

    /// <summary>Bytes of one decoded legacy tile for rows of <paramref name="cols"/> weights.</summary>
    public static long LegacyTileBytes(int cols) => 16L * cols + 2L * (cols / 32) * Rows * sizeof(float);

    /// <summary>Decodes rows [r0, r0 + count) (count &lt;= 16) of a legacy-type matrix into <paramref name="tile"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeLegacy<TBlock>(in WeightMatrix w, int r0, int count, byte* tile) where TBlock : struct, ILegacyBlock
    {
        int blocks = w.Cols / 32;
        byte* codes = tile;
        float* scales = (float*)(tile + 16L * w.Cols);
        float* mins = scales + blocks * Rows;
        for (int r = 0; r < Rows; r++)
        {
            if (r < count)
            {
                byte* row = w.Row(r0 + r);
                for (int b = 0; b < blocks; b++)
                {
                    byte* blk = row + b * TBlock.BlockBytes;
                    scales[b * Rows + r] = Simd.Half(blk);
                    if (TBlock.HasMin) mins[b * Rows + r] = Simd.Half(blk + 2);
                }
            }
            else
            {
                for (int b = 0; b < blocks; b++)
                {
                    scales[b * Rows + r] = 0;
                    mins[b * Rows + r] = 0;
                }
            }
        }
        // Rows 8h..8h+7 of block b: codes k of each row go to group 8b + k, half h.
        for (int h = 0; h < 2; h++)
        {
            byte* p0 = RowOrNull(w, r0, count, 8 * h), p1 = RowOrNull(w, r0, count, 8 * h + 1);
            byte* p2 = RowOrNull(w, r0, count, 8 * h + 2), p3 = RowOrNull(w, r0, count, 8 * h + 3);
            byte* p4 = RowOrNull(w, r0, count, 8 * h + 4), p5 = RowOrNull(w, r0, count, 8 * h + 5);
            byte* p6 = RowOrNull(w, r0, count, 8 * h + 6), p7 = RowOrNull(w, r0, count, 8 * h + 7);
            for (int b = 0; b < blocks; b++)
            {
                long off = (long)b * TBlock.BlockBytes;
                StoreTransposed(CodesOrZero<TBlock>(p0, off), CodesOrZero<TBlock>(p1, off), CodesOrZero<TBlock>(p2, off),
                    CodesOrZero<TBlock>(p3, off), CodesOrZero<TBlock>(p4, off), CodesOrZero<TBlock>(p5, off),
                    CodesOrZero<TBlock>(p6, off), CodesOrZero<TBlock>(p7, off), codes + 8L * b * 64 + 32 * h, 64);
            }
        }
    }

    /// <summary>Row r0 + r of <paramref name="w"/>, or null past the tile's real rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static byte* RowOrNull(in WeightMatrix w, int r0, int count, int r) => r < count ? w.Row(r0 + r) : null;

    /// <summary>The block's 32 codes as 8 dwords, or zeros for a missing row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> CodesOrZero<TBlock>(byte* row, long off) where TBlock : struct, ILegacyBlock =>
        row == null ? Vector256<int>.Zero : TBlock.Codes(row + off, false).AsInt32();

    /// <summary>
    /// y[t * yStride + r] = dot(tile row r, activation row t0 + t) for t &lt; TTok.Count (1 or 4),
    /// r &lt; <paramref name="rows"/> (the tile's real rows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Legacy<TBlock, TTok>(byte* tile, ActivationRows* a, int t0, float* y, int yStride, int rows)
        where TBlock : struct, ILegacyBlock where TTok : struct, ITokens
    {
        int cols = a->Cols, blocks = cols / 32;
        byte* codes = tile;
        float* scales = (float*)(tile + 16L * cols);
        float* mins = scales + blocks * Rows;
        sbyte* y0 = a->CodesOf(t0);
        float* d0 = a->ScalesOf(t0);
        int* o0 = a->OffsetSumsOf(t0);
        short* s0 = a->SumsOf(t0);
        long cs = cols;
        int bs = blocks;
        // Groups of 4 codes whose int16 products can be summed before widening.
        const int Run4 = 8;
        int run = TBlock.CodeMax <= 15 ? Run4 : 4;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        var ones = Vector512.Create((short)1);
        for (int b = 0; b < blocks; b++)
        {
            Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int k0 = 0; k0 < 8; k0 += run)
            {
                Vector512<short> p0 = default, p1 = default, p2 = default, p3 = default;
                for (int k = k0; k < k0 + run; k++)
                {
                    var cw = Vector512.Load(codes + (8L * b + k) * 64);
                    long o = 32L * b + 4 * k;
                    p0 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + o));
                    if (TTok.Count > 1)
                    {
                        p1 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + cs + o));
                        p2 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + 2 * cs + o));
                        p3 += Avx512BW.MultiplyAddAdjacent(cw, Broadcast4(y0 + 3 * cs + o));
                    }
                }
                i0 += Avx512BW.MultiplyAddAdjacent(p0, ones);
                if (TTok.Count > 1)
                {
                    i1 += Avx512BW.MultiplyAddAdjacent(p1, ones);
                    i2 += Avx512BW.MultiplyAddAdjacent(p2, ones);
                    i3 += Avx512BW.MultiplyAddAdjacent(p3, ones);
                }
            }
            var dw = Vector512.Load(scales + b * Rows);
            acc0 = Block<TBlock>(i0, dw, mins + b * Rows, o0[b], d0[b], s0[b], acc0);
            if (TTok.Count > 1)
            {
                acc1 = Block<TBlock>(i1, dw, mins + b * Rows, o0[bs + b], d0[bs + b], s0[bs + b], acc1);
                acc2 = Block<TBlock>(i2, dw, mins + b * Rows, o0[2 * bs + b], d0[2 * bs + b], s0[2 * bs + b], acc2);
                acc3 = Block<TBlock>(i3, dw, mins + b * Rows, o0[3 * bs + b], d0[3 * bs + b], s0[3 * bs + b], acc3);
            }
        }
        Store(acc0, y, rows);
        if (TTok.Count > 1)
        {
            Store(acc1, y + yStride, rows);
            Store(acc2, y + 2 * yStride, rows);
            Store(acc3, y + 3 * yStride, rows);
        }
    }

    /// <summary>acc + dw * dy * (isum - offset * sum) [+ m * dy * sum] for one block of 16 rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Block<TBlock>(Vector512<int> isum, Vector512<float> dw, float* mins, int offsetSum, float dy, short sum,
        Vector512<float> acc) where TBlock : struct, ILegacyBlock
    {
        if (TBlock.Offset(false) != 0) isum -= Vector512.Create(offsetSum);
        acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(isum), dw * Vector512.Create(dy), acc);
        if (TBlock.HasMin) acc = Avx512F.FusedMultiplyAdd(Vector512.Load(mins), Vector512.Create(dy * sum), acc);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<sbyte> Broadcast4(sbyte* p) => Vector512.Create(*(int*)p).AsSByte();

    /// <summary>Stores the first <paramref name="rows"/> lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector512<float> v, float* y, int rows)
    {
        if (rows == Rows) v.Store(y);
        else for (int r = 0; r < rows; r++) y[r] = v.GetElement(r);
    }

    /// <summary>Entry with the DotKernels.InterleavedTile signature: four tokens at a time, then one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LegacyTokens<TBlock>(byte* tile, ActivationRows* a, int t0, int count, float* y, int yStride, int rows)
        where TBlock : struct, ILegacyBlock
    {
        int t = 0;
        for (; t + 4 <= count; t += 4) Legacy<TBlock, FourTokens>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
        for (; t < count; t++) Legacy<TBlock, OneToken>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void DecodeLegacyEntry<TBlock>(WeightMatrix* w, int r0, int count, byte* tile) where TBlock : struct, ILegacyBlock =>
        DecodeLegacy<TBlock>(*w, r0, count, tile);
}
