using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// Q4_0 repacked at load time into tiles of 16 rows, llama.cpp's idea (its q4_0 "repack" buffers)
/// in our own layout. A matrix-vector product over ggml's rows spends ~11 instructions per
/// 32-weight block and row (decode the nibbles, scale lookup, one fp32 multiply-add chain per
/// row, a horizontal sum per row); over a tile every instruction serves 8 rows at once and the
/// block scales of all 16 rows apply with two multiply-adds, about 4 instructions per block and
/// row. Same bytes per weight as Q4_0, read as one sequential stream per tile.
/// </summary>
/// <remarks>
/// Layout, tile i = rows 16i..16i+15, block b of B = Cols / 32, at (i * B + b) * 288:
/// [0, 256) codes: for k = 0..3 and half h = 0..1, 32 bytes at 64k + 32h hold rows 8h..8h+7,
///   4 bytes each: bytes 4k..4k+3 of the row's Q4_0 quants, so their low nibbles are codes
///   4k..4k+3 and their high nibbles codes 4k+16..4k+19.
/// [256, 288) the 16 rows' fp16 scales.
/// Rows past the matrix end are zero (scale 0, so they add nothing).
/// </remarks>
internal static unsafe class PackedQ4_0
{
    public const int Rows = 16;
    public const int BlockBytes = 288;
    const int CodeBytes = 256;

    /// <summary>Bytes of a packed [rows, cols] matrix (whole tiles).</summary>
    public static long Bytes(int rows, int cols) => (long)((rows + Rows - 1) / Rows) * (cols / 32) * BlockBytes;

    /// <summary>Repacks the Q4_0 rows of <paramref name="src"/> into <see cref="Bytes"/> bytes at <paramref name="dst"/>.</summary>
    public static void Pack(in WeightMatrix src, byte* dst)
    {
        int blocks = src.Cols / 32, tiles = (src.Rows + Rows - 1) / Rows;
        for (int i = 0; i < tiles; i++)
        {
            for (int b = 0; b < blocks; b++)
            {
                byte* o = dst + ((long)i * blocks + b) * BlockBytes;
                for (int r = 0; r < Rows; r++)
                {
                    int row = i * Rows + r;
                    uint* codes = (uint*)(o + 32 * (r / 8) + 4 * (r % 8));
                    if (row >= src.Rows)
                    {
                        for (int k = 0; k < 4; k++) codes[16 * k] = 0;
                        ((ushort*)(o + CodeBytes))[r] = 0;
                        continue;
                    }
                    byte* blk = src.Row(row) + b * 18;
                    for (int k = 0; k < 4; k++) codes[16 * k] = ((uint*)(blk + 2))[k];
                    ((ushort*)(o + CodeBytes))[r] = *(ushort*)blk;
                }
            }
        }
    }

    /// <summary>Scalar reference: y[r] = dot(row r of the tile, activation row t) for r &lt; rows.</summary>
    public static void GemvScalar(byte* tile, ActivationRows* a, int t, float* y, int rows)
    {
        int blocks = a->Cols / 32;
        sbyte* x = a->CodesOf(t);
        float* dy = a->ScalesOf(t);
        short* sums = a->SumsOf(t);
        for (int r = 0; r < rows; r++)
        {
            float acc = 0;
            byte* codes = tile + 32 * (r / 8) + 4 * (r % 8);
            for (int b = 0; b < blocks; b++)
            {
                byte* blk = codes + (long)b * BlockBytes;
                int isum = 0;
                for (int k = 0; k < 4; k++)
                    for (int j = 0; j < 4; j++)
                    {
                        byte q = blk[64 * k + j];
                        isum += (q & 0x0F) * x[32 * b + 4 * k + j] + (q >> 4) * x[32 * b + 16 + 4 * k + j];
                    }
                isum -= 8 * sums[b];
                float dw = Simd.Half(tile + (long)b * BlockBytes + CodeBytes + 2 * r);
                acc += dw * dy[b] * isum;
            }
            y[r] = acc;
        }
    }

    /// <summary>
    /// 256-bit kernel: the 16 rows of one tile against activation row t. Four int32 chains per
    /// block (low and high nibbles of rows 0-7 and 8-15), so consecutive products never wait
    /// on each other; one fp32 multiply-add per 8 rows and block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv256<TIsa>(byte* tile, ActivationRows* a, int t, float* y, int rows) where TIsa : struct, IIsa
    {
        int blocks = a->Cols / 32;
        sbyte* x = a->CodesOf(t);
        float* dy = a->ScalesOf(t);
        int* offsetSums = a->OffsetSumsOf(t);
        var m4 = Vector256.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        Vector256<float> accLo = default, accHi = default;
        byte* blk = tile;
        for (int b = 0; b < blocks; b++, blk += BlockBytes, x += 32)
        {
            Vector256<int> lo, hi;
            if (TIsa.Vnni)
            {
                Vector256<int> la = default, lb = default, ha = default, hb = default;
                for (int k = 0; k < 4; k++)
                {
                    var pl = Vector256.Load(blk + 64 * k);
                    var ph = Vector256.Load(blk + 64 * k + 32);
                    var ya = Vector256.Create(*(int*)(x + 4 * k)).AsSByte();
                    var yb = Vector256.Create(*(int*)(x + 16 + 4 * k)).AsSByte();
                    la = AvxVnni.MultiplyWideningAndAdd(la, pl & m4, ya);
                    ha = AvxVnni.MultiplyWideningAndAdd(ha, ph & m4, ya);
                    lb = AvxVnni.MultiplyWideningAndAdd(lb, Avx2.ShiftRightLogical(pl.AsUInt16(), 4).AsByte() & m4, yb);
                    hb = AvxVnni.MultiplyWideningAndAdd(hb, Avx2.ShiftRightLogical(ph.AsUInt16(), 4).AsByte() & m4, yb);
                }
                lo = la + lb;
                hi = ha + hb;
            }
            else
            {
                // int16 pair sums of 4-bit codes: 8 groups * 2 * 15 * 127 = 30,480 fits.
                Vector256<short> pl16 = default, ph16 = default;
                for (int k = 0; k < 4; k++)
                {
                    var pl = Vector256.Load(blk + 64 * k);
                    var ph = Vector256.Load(blk + 64 * k + 32);
                    var ya = Vector256.Create(*(int*)(x + 4 * k)).AsSByte();
                    var yb = Vector256.Create(*(int*)(x + 16 + 4 * k)).AsSByte();
                    pl16 += Avx2.MultiplyAddAdjacent(pl & m4, ya) + Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(pl.AsUInt16(), 4).AsByte() & m4, yb);
                    ph16 += Avx2.MultiplyAddAdjacent(ph & m4, ya) + Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(ph.AsUInt16(), 4).AsByte() & m4, yb);
                }
                lo = Avx2.MultiplyAddAdjacent(pl16, ones);
                hi = Avx2.MultiplyAddAdjacent(ph16, ones);
            }
            var off = Vector256.Create(offsetSums[b]);
            var dwLo = HalfVectors.WidenFiniteScaled((short*)(blk + CodeBytes), dy[b]);
            var dwHi = HalfVectors.WidenFiniteScaled((short*)(blk + CodeBytes + 16), dy[b]);
            accLo = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lo - off), dwLo, accLo);
            accHi = Fma.MultiplyAdd(Avx.ConvertToVector256Single(hi - off), dwHi, accHi);
        }
        Interleaved.Store256(accLo, accHi, y, rows);
    }

    /// <summary>
    /// Expands one packed tile into the byte tile of <see cref="Interleaved"/>'s legacy prefill
    /// kernels (codes one per byte, fp32 scales): a mask and a shift per 64 codes, no shuffles.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unpack(byte* packed, int cols, byte* tile)
    {
        int blocks = cols / 32;
        float* scales = (float*)(tile + 16L * cols);
        var m4 = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blocks; b++)
        {
            byte* src = packed + (long)b * BlockBytes;
            byte* dst = tile + 8L * b * 64;
            for (int k = 0; k < 4; k++)
            {
                var pl = Vector256.Load(src + 64 * k);
                var ph = Vector256.Load(src + 64 * k + 32);
                (pl & m4).Store(dst + 64 * k);
                (ph & m4).Store(dst + 64 * k + 32);
                (Avx2.ShiftRightLogical(pl.AsUInt16(), 4).AsByte() & m4).Store(dst + 64 * (k + 4));
                (Avx2.ShiftRightLogical(ph.AsUInt16(), 4).AsByte() & m4).Store(dst + 64 * (k + 4) + 32);
            }
            for (int r = 0; r < Rows; r++) scales[b * Rows + r] = Simd.Half(src + CodeBytes + 2 * r);
        }
    }
}
