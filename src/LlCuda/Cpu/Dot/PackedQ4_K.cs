using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// Q4_K repacked at load time into tiles of 16 rows (the <see cref="PackedQ4_0"/> idea for the
/// 256-weight super-blocks): every 32-byte load carries 4 codes of 8 rows for two sub-blocks,
/// the sub-block scales multiply 8 rows' integer sums at once, and the fp32 work is one
/// multiply-add per super-block and 8 rows. 2.8% more bytes than Q4_K (scales unpacked to bytes).
/// </summary>
/// <remarks>
/// Layout, tile i = rows 16i..16i+15, super-block s of S = Cols / 256, at (i * S + s) * 2368:
/// [0, 2048) codes: for pair p = 0..3, group k = 0..7 and half h = 0..1, 32 bytes at
///   512p + 64k + 32h hold rows 8h..8h+7, 4 bytes each: bytes 32p + 4k .. +3 of the row's Q4_K
///   quants, so low nibbles are codes 4k..4k+3 of sub-block 2p, high nibbles those of 2p + 1;
/// [2048, 2176) the 6-bit scales as bytes, [sub-block j][16 rows];
/// [2176, 2304) the 6-bit minimums, [j][16 rows];
/// [2304, 2336) d, fp16 [16 rows]; [2336, 2368) dmin, fp16 [16 rows].
/// Rows past the matrix end are zero.
/// </remarks>
internal static unsafe class PackedQ4_K
{
    public const int Rows = 16;
    public const int BlockBytes = 2368;
    const int ScalesAt = 2048, MinsAt = 2176, DAt = 2304, DminAt = 2336;

    public static long Bytes(int rows, int cols) => (long)((rows + Rows - 1) / Rows) * (cols / 256) * BlockBytes;

    /// <summary>Repacks the Q4_K rows of <paramref name="src"/> into <see cref="Bytes"/> bytes at <paramref name="dst"/>.</summary>
    public static void Pack(in WeightMatrix src, byte* dst)
    {
        int supers = src.Cols / 256, tiles = (src.Rows + Rows - 1) / Rows;
        for (int i = 0; i < tiles; i++)
            for (int s = 0; s < supers; s++)
            {
                byte* o = dst + ((long)i * supers + s) * BlockBytes;
                for (int r = 0; r < Rows; r++)
                {
                    int row = i * Rows + r;
                    uint* codes = (uint*)(o + 32 * (r / 8) + 4 * (r % 8));
                    if (row >= src.Rows)
                    {
                        for (int g = 0; g < 32; g++) codes[16 * g] = 0;
                        for (int j = 0; j < 8; j++) o[ScalesAt + 16 * j + r] = o[MinsAt + 16 * j + r] = 0;
                        ((ushort*)(o + DAt))[r] = ((ushort*)(o + DminAt))[r] = 0;
                        continue;
                    }
                    byte* blk = src.Row(row) + s * 144;
                    // 32 dwords of quants: dword 8p + k goes to group (p, k) at 512p + 64k = 64 * (8p + k).
                    for (int g = 0; g < 32; g++) codes[16 * g] = ((uint*)(blk + 16))[g];
                    QuantDot.UnpackScales(blk + 4, out ulong sc, out ulong mn);
                    for (int j = 0; j < 8; j++)
                    {
                        o[ScalesAt + 16 * j + r] = (byte)(sc >> (8 * j));
                        o[MinsAt + 16 * j + r] = (byte)(mn >> (8 * j));
                    }
                    ((ushort*)(o + DAt))[r] = *(ushort*)blk;
                    ((ushort*)(o + DminAt))[r] = *(ushort*)(blk + 2);
                }
            }
    }

    /// <summary>Scalar reference: y[r] = dot(row r of the tile, Q8_K activation row t) for r &lt; rows.</summary>
    public static void GemvScalar(byte* tile, ActivationRows* a, int t, float* y, int rows)
    {
        int supers = a->Cols / 256;
        sbyte* x = a->CodesOf(t);
        float* dy = a->ScalesOf(t);
        short* bsums = a->SumsOf(t);
        for (int r = 0; r < rows; r++)
        {
            float acc = 0;
            for (int s = 0; s < supers; s++)
            {
                byte* o = tile + (long)s * BlockBytes;
                byte* codes = o + 32 * (r / 8) + 4 * (r % 8);
                sbyte* xs = x + 256 * s;
                int sumScaled = 0, sumMins = 0;
                for (int j = 0; j < 8; j++)
                {
                    int isum = 0;
                    for (int k = 0; k < 8; k++)
                        for (int b = 0; b < 4; b++)
                        {
                            byte q = codes[512 * (j / 2) + 64 * k + b];
                            int code = j % 2 == 0 ? q & 0x0F : q >> 4;
                            isum += code * xs[32 * j + 4 * k + b];
                        }
                    sumScaled += o[ScalesAt + 16 * j + r] * isum;
                    sumMins += o[MinsAt + 16 * j + r] * (bsums[16 * s + 2 * j] + bsums[16 * s + 2 * j + 1]);
                }
                float d = Simd.Half(o + DAt + 2 * r), dmin = Simd.Half(o + DminAt + 2 * r);
                acc += dy[s] * (d * sumScaled - dmin * sumMins);
            }
            y[r] = acc;
        }
    }

    /// <summary>256-bit kernel: the 16 rows of one tile against Q8_K activation row t.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gemv256<TIsa>(byte* tile, ActivationRows* a, int t, float* y, int rows) where TIsa : struct, IIsa
    {
        int supers = a->Cols / 256;
        sbyte* x = a->CodesOf(t);
        float* dy = a->ScalesOf(t);
        short* bsums = a->SumsOf(t);
        var m4 = Vector256.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        Vector256<float> fLo = default, fHi = default;
        byte* o = tile;
        for (int s = 0; s < supers; s++, o += BlockBytes, x += 256, bsums += 16)
        {
            Vector256<int> accLo = default, accHi = default;
            for (int p = 0; p < 4; p++)
            {
                byte* g = o + 512 * p;
                sbyte* xp = x + 64 * p;
                Vector256<int> eLo, eHi, oLo, oHi;
                if (TIsa.Vnni)
                {
                    eLo = default; eHi = default; oLo = default; oHi = default;
                    for (int k = 0; k < 8; k++)
                    {
                        var pl = Vector256.Load(g + 64 * k);
                        var ph = Vector256.Load(g + 64 * k + 32);
                        var ya = Vector256.Create(*(int*)(xp + 4 * k)).AsSByte();
                        var yb = Vector256.Create(*(int*)(xp + 32 + 4 * k)).AsSByte();
                        eLo = AvxVnni.MultiplyWideningAndAdd(eLo, pl & m4, ya);
                        eHi = AvxVnni.MultiplyWideningAndAdd(eHi, ph & m4, ya);
                        oLo = AvxVnni.MultiplyWideningAndAdd(oLo, Avx2.ShiftRightLogical(pl.AsUInt16(), 4).AsByte() & m4, yb);
                        oHi = AvxVnni.MultiplyWideningAndAdd(oHi, Avx2.ShiftRightLogical(ph.AsUInt16(), 4).AsByte() & m4, yb);
                    }
                }
                else
                {
                    // int16 pair sums of 4-bit codes over 8 groups: 8 * 2 * 15 * 127 = 30,480 fits.
                    Vector256<short> el = default, eh = default, ol = default, oh = default;
                    for (int k = 0; k < 8; k++)
                    {
                        var pl = Vector256.Load(g + 64 * k);
                        var ph = Vector256.Load(g + 64 * k + 32);
                        var ya = Vector256.Create(*(int*)(xp + 4 * k)).AsSByte();
                        var yb = Vector256.Create(*(int*)(xp + 32 + 4 * k)).AsSByte();
                        el += Avx2.MultiplyAddAdjacent(pl & m4, ya);
                        eh += Avx2.MultiplyAddAdjacent(ph & m4, ya);
                        ol += Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(pl.AsUInt16(), 4).AsByte() & m4, yb);
                        oh += Avx2.MultiplyAddAdjacent(Avx2.ShiftRightLogical(ph.AsUInt16(), 4).AsByte() & m4, yb);
                    }
                    eLo = Avx2.MultiplyAddAdjacent(el, ones);
                    eHi = Avx2.MultiplyAddAdjacent(eh, ones);
                    oLo = Avx2.MultiplyAddAdjacent(ol, ones);
                    oHi = Avx2.MultiplyAddAdjacent(oh, ones);
                }
                byte* sc = o + ScalesAt + 32 * p;
                accLo += Avx2.MultiplyLow(eLo, Avx2.ConvertToVector256Int32(sc)) + Avx2.MultiplyLow(oLo, Avx2.ConvertToVector256Int32(sc + 16));
                accHi += Avx2.MultiplyLow(eHi, Avx2.ConvertToVector256Int32(sc + 8)) + Avx2.MultiplyLow(oHi, Avx2.ConvertToVector256Int32(sc + 24));
            }
            // Σ_j m_j * (sum of sub-block j's activations), per row.
            Vector256<int> mLo = default, mHi = default;
            for (int j = 0; j < 8; j++)
            {
                var ysum = Vector256.Create(bsums[2 * j] + bsums[2 * j + 1]);
                mLo += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(o + MinsAt + 16 * j), ysum);
                mHi += Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(o + MinsAt + 16 * j + 8), ysum);
            }
            var dLo = HalfVectors.WidenFiniteScaled((short*)(o + DAt), dy[s]);
            var dHi = HalfVectors.WidenFiniteScaled((short*)(o + DAt + 16), dy[s]);
            var nLo = HalfVectors.WidenFiniteScaled((short*)(o + DminAt), dy[s]);
            var nHi = HalfVectors.WidenFiniteScaled((short*)(o + DminAt + 16), dy[s]);
            fLo = Fma.MultiplyAdd(Avx.ConvertToVector256Single(accLo), dLo, fLo);
            fHi = Fma.MultiplyAdd(Avx.ConvertToVector256Single(accHi), dHi, fHi);
            fLo = Fma.MultiplyAddNegated(Avx.ConvertToVector256Single(mLo), nLo, fLo);
            fHi = Fma.MultiplyAddNegated(Avx.ConvertToVector256Single(mHi), nHi, fHi);
        }
        Interleaved.Store256(fLo, fHi, y, rows);
    }

    /// <summary>Expands one packed tile into <see cref="Interleaved"/>'s K-quant prefill tile (layout in Interleaved.KQuants.cs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unpack(byte* packed, int cols, byte* tile)
    {
        int supers = cols / 256;
        var m4 = Vector256.Create((byte)0x0F);
        for (int s = 0; s < supers; s++)
        {
            byte* o = packed + (long)s * BlockBytes;
            byte* codes = tile + 64L * 64 * s; // 64 groups of 64 bytes per super-block
            for (int p = 0; p < 4; p++)
                for (int k = 0; k < 8; k++)
                {
                    var pl = Vector256.Load(o + 512 * p + 64 * k);
                    var ph = Vector256.Load(o + 512 * p + 64 * k + 32);
                    byte* even = codes + 64 * (16 * p + k), odd = codes + 64 * (16 * p + 8 + k);
                    (pl & m4).Store(even);
                    (ph & m4).Store(even + 32);
                    (Avx2.ShiftRightLogical(pl.AsUInt16(), 4).AsByte() & m4).Store(odd);
                    (Avx2.ShiftRightLogical(ph.AsUInt16(), 4).AsByte() & m4).Store(odd + 32);
                }
            byte* meta = tile + 16L * cols + (long)s * Interleaved.KMetaBytes;
            float* d = (float*)meta;
            float* dmin = (float*)(meta + 64);
            uint* sc = (uint*)(meta + 128);
            uint* second = (uint*)(meta + 1152);
            for (int r = 0; r < Rows; r++)
            {
                d[r] = Simd.Half(o + DAt + 2 * r);
                dmin[r] = Simd.Half(o + DminAt + 2 * r);
            }
            for (int j = 0; j < 8; j++)
                for (int r = 0; r < Rows; r++)
                {
                    uint sj = o[ScalesAt + 16 * j + r], mj = o[MinsAt + 16 * j + r];
                    sc[j * Rows + r] = sj | (sj << 16);
                    second[j * Rows + r] = mj | (mj << 16);
                }
        }
    }
}
