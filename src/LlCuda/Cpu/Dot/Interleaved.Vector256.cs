using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

// 256-bit forms of the row-interleaved kernels (same tiles as the 512-bit ones: each 64-byte
// group is rows 0-7 in its low half and rows 8-15 in its high half). With AVX-VNNI, vpdpbusd
// sums four u8 x s8 products straight into each row's int32 lane: one instruction per 32
// products and no int16 stage. The NativeAOT CLI targets x86-64-v3 (no AVX-512), so these are
// what its prefill runs. Two tokens per pass keep the accumulators within 16 ymm registers.
internal static unsafe partial class Interleaved
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Legacy256<TBlock, TIsa, TTok>(byte* tile, ActivationRows* a, int t0, float* y, int yStride, int rows)
        where TBlock : struct, ILegacyBlock where TIsa : struct, IIsa where TTok : struct, ITokens
    {
        int cols = a->Cols, blocks = cols / 32;
        byte* codes = tile;
        float* scales = (float*)(tile + 16L * cols);
        float* mins = scales + blocks * Rows;
        sbyte* y0 = a->CodesOf(t0);
        // Per-token pointers once, outside the loops (see ActivationRows on why no calls stay inside).
        float* dy0 = a->ScalesOf(t0), dy1 = a->ScalesOf(t0 + TTok.Count - 1);
        int* os0 = a->OffsetSumsOf(t0), os1 = a->OffsetSumsOf(t0 + TTok.Count - 1);
        short* s0 = a->SumsOf(t0), s1 = a->SumsOf(t0 + TTok.Count - 1);
        long cs = cols;
        int run = TBlock.CodeMax <= 15 ? 8 : 4;
        var ones = Vector256.Create((short)1);
        Vector256<float> f0l = default, f0h = default, f1l = default, f1h = default;
        for (int b = 0; b < blocks; b++)
        {
            Vector256<int> i0l = default, i0h = default, i1l = default, i1h = default;
            if (TIsa.Vnni)
            {
                for (int k = 0; k < 8; k++)
                {
                    byte* g = codes + (8L * b + k) * 64;
                    var lo = Vector256.Load(g);
                    var hi = Vector256.Load(g + 32);
                    long o = 32L * b + 4 * k;
                    var y4 = Broadcast4x8(y0 + o);
                    i0l = AvxVnni.MultiplyWideningAndAdd(i0l, lo, y4);
                    i0h = AvxVnni.MultiplyWideningAndAdd(i0h, hi, y4);
                    if (TTok.Count > 1)
                    {
                        var y4b = Broadcast4x8(y0 + cs + o);
                        i1l = AvxVnni.MultiplyWideningAndAdd(i1l, lo, y4b);
                        i1h = AvxVnni.MultiplyWideningAndAdd(i1h, hi, y4b);
                    }
                }
            }
            else
            {
                for (int k0 = 0; k0 < 8; k0 += run)
                {
                    Vector256<short> p0l = default, p0h = default, p1l = default, p1h = default;
                    for (int k = k0; k < k0 + run; k++)
                    {
                        byte* g = codes + (8L * b + k) * 64;
                        var lo = Vector256.Load(g);
                        var hi = Vector256.Load(g + 32);
                        long o = 32L * b + 4 * k;
                        var y4 = Broadcast4x8(y0 + o);
                        p0l += Avx2.MultiplyAddAdjacent(lo, y4);
                        p0h += Avx2.MultiplyAddAdjacent(hi, y4);
                        if (TTok.Count > 1)
                        {
                            var y4b = Broadcast4x8(y0 + cs + o);
                            p1l += Avx2.MultiplyAddAdjacent(lo, y4b);
                            p1h += Avx2.MultiplyAddAdjacent(hi, y4b);
                        }
                    }
                    i0l += Avx2.MultiplyAddAdjacent(p0l, ones);
                    i0h += Avx2.MultiplyAddAdjacent(p0h, ones);
                    if (TTok.Count > 1)
                    {
                        i1l += Avx2.MultiplyAddAdjacent(p1l, ones);
                        i1h += Avx2.MultiplyAddAdjacent(p1h, ones);
                    }
                }
            }
            float* dw = scales + b * Rows;
            float* mn = mins + b * Rows;
            Block256<TBlock>(i0l, i0h, dw, mn, dy0[b], os0[b], s0[b], ref f0l, ref f0h);
            if (TTok.Count > 1) Block256<TBlock>(i1l, i1h, dw, mn, dy1[b], os1[b], s1[b], ref f1l, ref f1h);
        }
        Store256(f0l, f0h, y, rows);
        if (TTok.Count > 1) Store256(f1l, f1h, y + yStride, rows);
    }

    /// <summary>acc + dw * dy * (isum - offset * sum) [+ m * dy * sum] for one block of 16 rows (two halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Block256<TBlock>(Vector256<int> lo, Vector256<int> hi, float* dw, float* mins, float dy, int offsetSum, short sum,
        ref Vector256<float> fl, ref Vector256<float> fh) where TBlock : struct, ILegacyBlock
    {
        if (TBlock.Offset(false) != 0)
        {
            var off = Vector256.Create(offsetSum);
            lo -= off;
            hi -= off;
        }
        var vdy = Vector256.Create(dy);
        fl = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lo), Vector256.Load(dw) * vdy, fl);
        fh = Fma.MultiplyAdd(Avx.ConvertToVector256Single(hi), Vector256.Load(dw + 8) * vdy, fh);
        if (TBlock.HasMin)
        {
            var dys = Vector256.Create(dy * sum);
            fl = Fma.MultiplyAdd(Vector256.Load(mins), dys, fl);
            fh = Fma.MultiplyAdd(Vector256.Load(mins + 8), dys, fh);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void K256<TBlock, TIsa, TTok>(byte* tile, ActivationRows* a, int t0, float* y, int yStride, int rows)
        where TBlock : struct, IKBlock where TIsa : struct, IIsa where TTok : struct, ITokens
    {
        int cols = a->Cols, supers = cols / 256;
        bool six = !TBlock.HasMins;
        int run = six ? 2 : typeof(TBlock) == typeof(Q5_KBlock) ? 4 : 8;
        int groupsPerScale = six ? 4 : 8;
        sbyte* y0 = a->CodesOf(t0);
        long cs = cols;
        Vector256<float> f0l = default, f0h = default, f1l = default, f1h = default;
        for (int s = 0; s < supers; s++)
        {
            byte* meta = tile + 16L * cols + (long)s * KMetaBytes;
            int* sc = (int*)(meta + 128);
            Vector256<int> i0l = default, i0h = default, i1l = default, i1h = default;
            for (int g0 = 0; g0 < 64; g0 += run)
            {
                Vector256<short> p0l = default, p0h = default, p1l = default, p1h = default;
                for (int g = g0; g < g0 + run; g++)
                {
                    byte* grp = tile + (64L * s + g) * 64;
                    var lo = Vector256.Load(grp);
                    var hi = Vector256.Load(grp + 32);
                    long o = 256L * s + 4 * g;
                    var y4 = Broadcast4x8(y0 + o);
                    p0l += Avx2.MultiplyAddAdjacent(lo, y4);
                    p0h += Avx2.MultiplyAddAdjacent(hi, y4);
                    if (TTok.Count > 1)
                    {
                        var y4b = Broadcast4x8(y0 + cs + o);
                        p1l += Avx2.MultiplyAddAdjacent(lo, y4b);
                        p1h += Avx2.MultiplyAddAdjacent(hi, y4b);
                    }
                }
                int* scale = sc + g0 / groupsPerScale * Rows;
                var sl = Vector256.Load(scale).AsInt16();
                var sh = Vector256.Load(scale + 8).AsInt16();
                i0l = MulAdd16<TIsa>(i0l, p0l, sl);
                i0h = MulAdd16<TIsa>(i0h, p0h, sh);
                if (TTok.Count > 1)
                {
                    i1l = MulAdd16<TIsa>(i1l, p1l, sl);
                    i1h = MulAdd16<TIsa>(i1h, p1h, sh);
                }
            }
            Super256<TBlock, TIsa>(i0l, i0h, meta, a, t0, s, ref f0l, ref f0h);
            if (TTok.Count > 1) Super256<TBlock, TIsa>(i1l, i1h, meta, a, t0 + 1, s, ref f1l, ref f1h);
        }
        Store256(f0l, f0h, y, rows);
        if (TTok.Count > 1) Store256(f1l, f1h, y + yStride, rows);
    }

    /// <summary>acc + pairwise int16 products summed into int32 (vpdpwssd with AVX-VNNI, vpmaddwd + vpaddd without).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> MulAdd16<TIsa>(Vector256<int> acc, Vector256<short> a, Vector256<short> b) where TIsa : struct, IIsa =>
        TIsa.Vnni ? AvxVnni.MultiplyWideningAndAdd(acc, a, b) : acc + Avx2.MultiplyAddAdjacent(a, b);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Super256<TBlock, TIsa>(Vector256<int> lo, Vector256<int> hi, byte* meta, ActivationRows* a, int t, int s,
        ref Vector256<float> fl, ref Vector256<float> fh) where TBlock : struct, IKBlock where TIsa : struct, IIsa
    {
        int* second = (int*)(meta + 1152);
        short* bsums = a->SumsOf(t) + 16 * s;
        Vector256<int> cl = default, ch = default;
        for (int j = 0; j < 8; j++)
        {
            var pair = Vector256.Create(*(int*)(bsums + 2 * j)).AsInt16();
            cl = MulAdd16<TIsa>(cl, Vector256.Load(second + j * Rows).AsInt16(), pair);
            ch = MulAdd16<TIsa>(ch, Vector256.Load(second + j * Rows + 8).AsInt16(), pair);
        }
        var vdy = Vector256.Create(a->ScalesOf(t)[s]);
        float* d = (float*)meta;
        if (TBlock.HasMins)
        {
            float* dmin = (float*)(meta + 64);
            fl = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lo), Vector256.Load(d) * vdy, fl);
            fh = Fma.MultiplyAdd(Avx.ConvertToVector256Single(hi), Vector256.Load(d + 8) * vdy, fh);
            fl = Fma.MultiplyAddNegated(Avx.ConvertToVector256Single(cl), Vector256.Load(dmin) * vdy, fl);
            fh = Fma.MultiplyAddNegated(Avx.ConvertToVector256Single(ch), Vector256.Load(dmin + 8) * vdy, fh);
        }
        else
        {
            fl = Fma.MultiplyAdd(Avx.ConvertToVector256Single(lo - (cl << 5)), Vector256.Load(d) * vdy, fl);
            fh = Fma.MultiplyAdd(Avx.ConvertToVector256Single(hi - (ch << 5)), Vector256.Load(d + 8) * vdy, fh);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<sbyte> Broadcast4x8(sbyte* p) => Vector256.Create(*(int*)p).AsSByte();

    /// <summary>Stores the first <paramref name="rows"/> of 16 results held as rows 0-7 (lo) and 8-15 (hi).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store256(Vector256<float> lo, Vector256<float> hi, float* y, int rows)
    {
        if (rows == Rows)
        {
            lo.Store(y);
            hi.Store(y + 8);
            return;
        }
        for (int r = 0; r < rows; r++) y[r] = r < 8 ? lo.GetElement(r) : hi.GetElement(r - 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LegacyTokens256<TBlock, TIsa>(byte* tile, ActivationRows* a, int t0, int count, float* y, int yStride, int rows)
        where TBlock : struct, ILegacyBlock where TIsa : struct, IIsa
    {
        int t = 0;
        for (; t + 2 <= count; t += 2) Legacy256<TBlock, TIsa, TwoTokens>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
        for (; t < count; t++) Legacy256<TBlock, TIsa, OneToken>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void KTokens256<TBlock, TIsa>(byte* tile, ActivationRows* a, int t0, int count, float* y, int yStride, int rows)
        where TBlock : struct, IKBlock where TIsa : struct, IIsa
    {
        int t = 0;
        for (; t + 2 <= count; t += 2) K256<TBlock, TIsa, TwoTokens>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
        for (; t < count; t++) K256<TBlock, TIsa, OneToken>(tile, a, t0 + t, y + (long)t * yStride, yStride, rows);
    }
}
