using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// How a 32-weight block type turns into 32 unsigned byte codes for the u8 x s8 products, and
/// what the codes exceed the signed weight values by (the offset the activation sum lanes
/// remove; see <see cref="ActivationRows.SumLanes"/>).
/// </summary>
internal unsafe interface ILegacyBlock
{
    static abstract int BlockBytes { get; }
    /// <summary>Q4_1/Q5_1: w = d * q + m, whose m * (dy * sum) term the kernel adds per block.</summary>
    static abstract bool HasMin { get; }
    /// <summary>Q8_0: codes are int8; without VNNI the kernel uses |w| and moves the sign onto the activations.</summary>
    static abstract bool Signed { get; }
    /// <summary>Offset of the unsigned codes over the signed values, per ISA (0 when none is removed).</summary>
    static abstract int Offset(bool vnni);
    /// <summary>Largest code (15 or 31; 0 for Q8_0, whose signed codes the row-interleaved kernel does not take).</summary>
    static abstract int CodeMax { get; }
    /// <summary>The 32 codes of the block at <paramref name="block"/>, in weight order.</summary>
    static abstract Vector256<byte> Codes(byte* block, bool vnni);
    /// <summary>The 64 codes of the block at <paramref name="block"/> and the next one (512-bit path, no VNNI).</summary>
    static abstract Vector512<byte> Codes2(byte* block);
}

internal unsafe struct Q4_0Block : ILegacyBlock
{
    public static int CodeMax => 15;
    public static int BlockBytes => 18;
    public static bool HasMin => false;
    public static bool Signed => false;
    public static int Offset(bool vnni) => 8;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* b, bool vnni) => Simd.Nibbles(b + 2);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes2(byte* b) => Simd.Nibbles2(b + 2, b + 2 + 18);
}

internal unsafe struct Q4_1Block : ILegacyBlock
{
    public static int CodeMax => 15;
    public static int BlockBytes => 20;
    public static bool HasMin => true;
    public static bool Signed => false;
    public static int Offset(bool vnni) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* b, bool vnni) => Simd.Nibbles(b + 4);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes2(byte* b) => Simd.Nibbles2(b + 4, b + 4 + 20);
}

internal unsafe struct Q5_0Block : ILegacyBlock
{
    public static int CodeMax => 31;
    public static int BlockBytes => 22;
    public static bool HasMin => false;
    public static bool Signed => false;
    public static int Offset(bool vnni) => 16;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* b, bool vnni) => Simd.Nibbles(b + 6) | HighBits(*(uint*)(b + 2));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes2(byte* b) => Simd.Nibbles2(b + 6, b + 6 + 22) | HighBits2(*(uint*)(b + 2), *(uint*)(b + 2 + 22));

    /// <summary>The fifth bits of two blocks (qh0 for codes 0-31, qh1 for 32-63) as 0x10 per byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<byte> HighBits2(uint qh0, uint qh1)
    {
        // Each 128-bit lane holds the 8 qh bytes; lane k takes bytes 2k and 2k + 1 for its 16 codes.
        var all = Vector512.Create(qh0 | ((ulong)qh1 << 32)).AsByte();
        var bytes = Avx512BW.Shuffle(all, Vector512.Create(
            (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
            4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7));
        var bit = Vector512.Create(0x8040201008040201UL).AsByte();
        return Vector512.Equals(bytes & bit, bit) & Vector512.Create((byte)0x10);
    }

    /// <summary>Bit j of qh as 0x10 in byte j (the fifth bit of code j).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> HighBits(uint qh)
    {
        // Broadcast the 32 bits, move byte j/8 of qh into lane j, keep bit j%8, scale to 0x10.
        var bytes = Avx2.Shuffle(Vector256.Create(qh).AsByte(),
            Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        var bit = Vector256.Create(0x8040201008040201UL).AsByte();
        var set = Vector256.Equals(bytes & bit, bit);
        return set & Vector256.Create((byte)0x10);
    }
}

internal unsafe struct Q5_1Block : ILegacyBlock
{
    public static int CodeMax => 31;
    public static int BlockBytes => 24;
    public static bool HasMin => true;
    public static bool Signed => false;
    public static int Offset(bool vnni) => 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* b, bool vnni) => Simd.Nibbles(b + 8) | Q5_0Block.HighBits(*(uint*)(b + 4));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes2(byte* b) => Simd.Nibbles2(b + 8, b + 8 + 24) | Q5_0Block.HighBits2(*(uint*)(b + 4), *(uint*)(b + 4 + 24));
}

internal unsafe struct Q8_0Block : ILegacyBlock
{
    public static int CodeMax => 0;
    public static int BlockBytes => 34;
    public static bool HasMin => false;
    public static bool Signed => true;
    // With VNNI, w + 128 as u8 (w ^ 0x80), and 128 * sum removed; without, |w| against sign-moved activations.
    public static int Offset(bool vnni) => vnni ? 128 : 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Codes(byte* b, bool vnni)
    {
        var q = Vector256.Load(b + 2);
        return vnni ? q ^ Vector256.Create((byte)0x80) : q;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Codes2(byte* b) => Simd.Join(Vector256.Load(b + 2), Vector256.Load(b + 2 + 34));
}

// Vector kernels of the 32-weight block types. Per block: the 32 codes are decoded once, then for
// each activation row: u8 x s8 products summed into eight int32 lanes, converted to fp32, turned
// into the scaled signed dot product by one multiply-add with the row's scale and correction
// lanes, and multiply-added with the block's weight scale. The 512-bit form does two blocks per
// step and up to eight rows per call, so one decoded pair serves eight tokens.
internal static unsafe partial class QuantDot
{
    /// <summary>256-bit kernel: weight row <paramref name="w"/> against TTok.Count (1 or 4) activation rows from <paramref name="t0"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Legacy256<TBlock, TIsa, TTok>(byte* w, ActivationRows* a, int t0, float* y, int yStride)
        where TBlock : struct, ILegacyBlock where TIsa : struct, IIsa where TTok : struct, ITokens
    {
        int blocks = a->Cols / 32;
        long cs = a->Cols, ls = a->Cols / 4;
        sbyte* c = a->CodesOf(t0);
        float* sl = a->ScaleLanesOf(t0);
        float* cl = a->CorrLanesOf(t0);
        if (TTok.Count == 1)
        {
            *y = Row256<TBlock, TIsa>(w, c, sl, cl, blocks) + MinTerm<TBlock>(w, a, t0, blocks);
            return;
        }
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int b = 0; b < blocks; b++)
        {
            byte* blk = w + b * TBlock.BlockBytes;
            var u = TBlock.Codes(blk, TIsa.Vnni);
            var dw = Vector256.Create(Simd.Half(blk));
            int o = 32 * b, l = 8 * b;
            acc0 = Step256<TBlock, TIsa>(u, c + o, sl + l, cl + l, dw, acc0);
            if (TTok.Count > 1)
            {
                acc1 = Step256<TBlock, TIsa>(u, c + cs + o, sl + ls + l, cl + ls + l, dw, acc1);
                acc2 = Step256<TBlock, TIsa>(u, c + 2 * cs + o, sl + 2 * ls + l, cl + 2 * ls + l, dw, acc2);
                acc3 = Step256<TBlock, TIsa>(u, c + 3 * cs + o, sl + 3 * ls + l, cl + 3 * ls + l, dw, acc3);
            }
        }
        y[0] = Vector256.Sum(acc0) + MinTerm<TBlock>(w, a, t0, blocks);
        if (TTok.Count > 1)
        {
            y[yStride] = Vector256.Sum(acc1) + MinTerm<TBlock>(w, a, t0 + 1, blocks);
            y[2 * yStride] = Vector256.Sum(acc2) + MinTerm<TBlock>(w, a, t0 + 2, blocks);
            y[3 * yStride] = Vector256.Sum(acc3) + MinTerm<TBlock>(w, a, t0 + 3, blocks);
        }
    }

    /// <summary>
    /// One weight row against one activation row (decode's matrix-vector product): four
    /// accumulators over consecutive blocks, pointers bumped rather than indexed. One chain of
    /// fp32 multiply-adds would wait on the FMA latency every block (18 bytes of Q4_0), about
    /// half of what a core streams; four chains hide it.
    /// </summary>
    const int PrefetchDistance = 1024;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Row256<TBlock, TIsa>(byte* w, sbyte* c, float* sl, float* cl, int blocks)
        where TBlock : struct, ILegacyBlock where TIsa : struct, IIsa
    {
        Vector256<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        int bb = TBlock.BlockBytes;
        byte* end4 = w + (long)(blocks & ~3) * bb;
        for (; w < end4; w += 4 * bb, c += 128, sl += 32, cl += 32)
        {
            Sse.Prefetch0(w + PrefetchDistance);
            acc0 = Step256<TBlock, TIsa>(TBlock.Codes(w, TIsa.Vnni), c, sl, cl, Vector256.Create(Simd.Half(w)), acc0);
            acc1 = Step256<TBlock, TIsa>(TBlock.Codes(w + bb, TIsa.Vnni), c + 32, sl + 8, cl + 8, Vector256.Create(Simd.Half(w + bb)), acc1);
            acc2 = Step256<TBlock, TIsa>(TBlock.Codes(w + 2 * bb, TIsa.Vnni), c + 64, sl + 16, cl + 16, Vector256.Create(Simd.Half(w + 2 * bb)), acc2);
            acc3 = Step256<TBlock, TIsa>(TBlock.Codes(w + 3 * bb, TIsa.Vnni), c + 96, sl + 24, cl + 24, Vector256.Create(Simd.Half(w + 3 * bb)), acc3);
        }
        byte* end = end4 + (long)(blocks & 3) * bb;
        for (; w < end; w += bb, c += 32, sl += 8, cl += 8)
            acc0 = Step256<TBlock, TIsa>(TBlock.Codes(w, TIsa.Vnni), c, sl, cl, Vector256.Create(Simd.Half(w)), acc0);
        return Vector256.Sum((acc0 + acc1) + (acc2 + acc3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Step256<TBlock, TIsa>(Vector256<byte> u, sbyte* c, float* scaleLanes, float* corrLanes,
        Vector256<float> dw, Vector256<float> acc) where TBlock : struct, ILegacyBlock where TIsa : struct, IIsa
    {
        var ys = Vector256.Load(c);
        Vector256<int> p = TBlock.Signed && !TIsa.Vnni
            ? Simd.DotU8S8<TIsa>(Vector256<int>.Zero, Avx2.Abs(u.AsSByte()), Avx2.Sign(ys, u.AsSByte()))
            : Simd.DotU8S8<TIsa>(Vector256<int>.Zero, u, ys);
        var f = Avx.ConvertToVector256Single(p);
        f = TBlock.Offset(TIsa.Vnni) != 0
            ? Fma.MultiplyAdd(f, Vector256.Load(scaleLanes), Vector256.Load(corrLanes))
            : f * Vector256.Load(scaleLanes);
        return Fma.MultiplyAdd(f, dw, acc);
    }

    /// <summary>Σ_b m_b * (dy_b * sum_b) for the types with a minimum; 0 for the others.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float MinTerm<TBlock>(byte* w, ActivationRows* a, int t, int blocks) where TBlock : struct, ILegacyBlock
    {
        if (!TBlock.HasMin) return 0;
        float* d = a->ScalesOf(t);
        short* s = a->SumsOf(t);
        float m = 0;
        for (int b = 0; b < blocks; b++) m += Simd.Half(w + b * TBlock.BlockBytes + 2) * (d[b] * s[b]);
        return m;
    }

    /// <summary>
    /// 512-bit kernel against TTok.Count (1, 4 or 8) activation rows: two blocks per step
    /// (vpmaddubsw + vpmaddwd), a last odd block at 256 bits. A single row keeps two
    /// accumulators (four blocks per loop) so its fp32 adds do not wait on each other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Legacy512<TBlock, TTok>(byte* w, ActivationRows* a, int t0, float* y, int yStride)
        where TBlock : struct, ILegacyBlock where TTok : struct, ITokens
    {
        int blocks = a->Cols / 32;
        long cs = a->Cols, ls = a->Cols / 4;
        sbyte* c = a->CodesOf(t0);
        float* sl = a->ScaleLanesOf(t0);
        float* cl = a->CorrLanesOf(t0);
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default,
                         acc4 = default, acc5 = default, acc6 = default, acc7 = default;
        int b = 0;
        if (TTok.Count == 1)
        {
            // Four independent accumulators: one multiply-add chain would cap a row at one
            // block pair per fp32 add latency (about 16 bytes a cycle).
            for (; b + 7 < blocks; b += 8)
            {
                byte* blk = w + b * TBlock.BlockBytes;
                int o = 32 * b, l = 8 * b;
                acc0 = Step512<TBlock>(TBlock.Codes2(blk), c + o, sl + l, cl + l, Scales2<TBlock>(blk), acc0);
                blk += 2 * TBlock.BlockBytes;
                acc1 = Step512<TBlock>(TBlock.Codes2(blk), c + o + 64, sl + l + 16, cl + l + 16, Scales2<TBlock>(blk), acc1);
                blk += 2 * TBlock.BlockBytes;
                acc2 = Step512<TBlock>(TBlock.Codes2(blk), c + o + 128, sl + l + 32, cl + l + 32, Scales2<TBlock>(blk), acc2);
                blk += 2 * TBlock.BlockBytes;
                acc3 = Step512<TBlock>(TBlock.Codes2(blk), c + o + 192, sl + l + 48, cl + l + 48, Scales2<TBlock>(blk), acc3);
            }
        }
        for (; b + 1 < blocks; b += 2)
        {
            byte* blk = w + b * TBlock.BlockBytes;
            var u = TBlock.Codes2(blk);
            var dw = Scales2<TBlock>(blk);
            int o = 32 * b, l = 8 * b;
            acc0 = Step512<TBlock>(u, c + o, sl + l, cl + l, dw, acc0);
            if (TTok.Count > 1)
            {
                acc1 = Step512<TBlock>(u, c + cs + o, sl + ls + l, cl + ls + l, dw, acc1);
                acc2 = Step512<TBlock>(u, c + 2 * cs + o, sl + 2 * ls + l, cl + 2 * ls + l, dw, acc2);
                acc3 = Step512<TBlock>(u, c + 3 * cs + o, sl + 3 * ls + l, cl + 3 * ls + l, dw, acc3);
            }
            if (TTok.Count > 4)
            {
                acc4 = Step512<TBlock>(u, c + 4 * cs + o, sl + 4 * ls + l, cl + 4 * ls + l, dw, acc4);
                acc5 = Step512<TBlock>(u, c + 5 * cs + o, sl + 5 * ls + l, cl + 5 * ls + l, dw, acc5);
                acc6 = Step512<TBlock>(u, c + 6 * cs + o, sl + 6 * ls + l, cl + 6 * ls + l, dw, acc6);
                acc7 = Step512<TBlock>(u, c + 7 * cs + o, sl + 7 * ls + l, cl + 7 * ls + l, dw, acc7);
            }
        }
        if (TTok.Count == 1) acc0 = (acc0 + acc1) + (acc2 + acc3);
        Finish512<TBlock>(w, a, t0, 0, b, acc0, y);
        if (TTok.Count > 1)
        {
            Finish512<TBlock>(w, a, t0, 1, b, acc1, y + yStride);
            Finish512<TBlock>(w, a, t0, 2, b, acc2, y + 2 * yStride);
            Finish512<TBlock>(w, a, t0, 3, b, acc3, y + 3 * yStride);
        }
        if (TTok.Count > 4)
        {
            Finish512<TBlock>(w, a, t0, 4, b, acc4, y + 4 * yStride);
            Finish512<TBlock>(w, a, t0, 5, b, acc5, y + 5 * yStride);
            Finish512<TBlock>(w, a, t0, 6, b, acc6, y + 6 * yStride);
            Finish512<TBlock>(w, a, t0, 7, b, acc7, y + 7 * yStride);
        }
    }

    /// <summary>Folds a 512-bit accumulator, adds a last odd block (256 bits) and the minimum term, stores the dot product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Finish512<TBlock>(byte* w, ActivationRows* a, int t0, int k, int b, Vector512<float> acc, float* y)
        where TBlock : struct, ILegacyBlock
    {
        int blocks = a->Cols / 32;
        var v = acc.GetLower() + acc.GetUpper();
        if (b < blocks)
        {
            byte* blk = w + b * TBlock.BlockBytes;
            int t = t0 + k;
            v = Step256<TBlock, Avx2Isa>(TBlock.Codes(blk, false), a->CodesOf(t) + 32 * b, a->ScaleLanesOf(t) + 8 * b,
                a->CorrLanesOf(t) + 8 * b, Vector256.Create(Simd.Half(blk)), v);
        }
        *y = Vector256.Sum(v) + MinTerm<TBlock>(w, a, t0 + k, blocks);
    }

    /// <summary>The scales of a block and the next, each in 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Scales2<TBlock>(byte* blk) where TBlock : struct, ILegacyBlock =>
        Simd.Join(Vector256.Create(Simd.Half(blk)), Vector256.Create(Simd.Half(blk + TBlock.BlockBytes)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Step512<TBlock>(Vector512<byte> u, sbyte* c, float* scaleLanes, float* corrLanes,
        Vector512<float> dw, Vector512<float> acc) where TBlock : struct, ILegacyBlock
    {
        var ys = Vector512.Load(c);
        Vector512<int> p;
        if (TBlock.Signed)
        {
            var neg = Vector512.LessThan(u.AsSByte(), Vector512<sbyte>.Zero);
            p = Simd.DotU8S8(Vector512.Abs(u.AsSByte()).AsByte(), Vector512.ConditionalSelect(neg, -ys, ys));
        }
        else
        {
            p = Simd.DotU8S8(u, ys);
        }
        var f = Avx512F.ConvertToVector512Single(p);
        f = TBlock.Offset(false) != 0
            ? Avx512F.FusedMultiplyAdd(f, Vector512.Load(scaleLanes), Vector512.Load(corrLanes))
            : f * Vector512.Load(scaleLanes);
        return Avx512F.FusedMultiplyAdd(f, dw, acc);
    }
}
