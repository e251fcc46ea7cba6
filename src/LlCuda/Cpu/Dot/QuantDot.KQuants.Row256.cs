using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

// Decode's K-quant kernel (one weight row against one token), 256-bit. The general K256 kernel
// decodes a super-block's 256 codes into a stack buffer so up to four tokens can reuse them,
// and chains all eight int32 steps of a super-block through one accumulator; for a single
// token both cost more than the arithmetic (NativeAOT measured 3-5 GB/s of weights). Here each
// 32-code vector is decoded in registers right where it is used, and even and odd vectors feed
// two accumulators so consecutive vpdpwssd do not wait on each other. Same integer sums, so
// the same result up to the order of the fp32 adds.
internal static unsafe partial class QuantDot
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float KRow256<TBlock, TIsa>(byte* w, ActivationRows* a, int t) where TBlock : struct, IKBlock where TIsa : struct, IIsa
    {
        int blocks = a->Cols / 256;
        sbyte* c = a->CodesOf(t);
        float* dy = a->ScalesOf(t);
        short* bsums = a->SumsOf(t);
        Vector256<float> f = default, m = default;
        for (int b = 0; b < blocks; b++, w += TBlock.BlockBytes, c += 256, bsums += 16)
        {
            Vector256<int> even = default, odd = default;
            Vector256<short> minsOrScales;
            float d, dmin = 0;
            if (TBlock.HasMins)
            {
                d = Simd.Half(w);
                dmin = Simd.Half(w + 2);
                UnpackScales(w + 4, out ulong sc, out ulong mn);
                var sc8 = Widen8(sc);
                var both = Vector256.Create(sc8, sc8).AsByte();
                minsOrScales = PairUp(Widen8(mn));
                for (int p = 0; p < 4; p++)
                {
                    KCodePair<TBlock>(w, p, out var lo, out var hi);
                    even = ScaledProducts<TIsa>(even, lo, c + 64 * p, Avx2.Shuffle(both, PairIndex(2 * p)).AsInt16());
                    odd = ScaledProducts<TIsa>(odd, hi, c + 64 * p + 32, Avx2.Shuffle(both, PairIndex(2 * p + 1)).AsInt16());
                }
            }
            else
            {
                d = Simd.Half(w + 208);
                var raw = Vector128.Load(w + 192);
                minsOrScales = Avx2.ConvertToVector256Int16(raw.AsSByte());
                // Even scales in the low lane, odd in the high: vector k (sub-blocks 2k, 2k + 1) takes element k of each lane.
                var split = Avx2.ConvertToVector256Int16(Ssse3.Shuffle(raw, EvenOdd).AsSByte()).AsByte();
                for (int h = 0; h < 2; h++)
                {
                    Q6Codes(w, h, out var c0, out var c1, out var c2, out var c3);
                    sbyte* ch = c + 128 * h;
                    int k = 4 * h;
                    even = ScaledProducts<TIsa>(even, c0, ch, Avx2.Shuffle(split, PairIndex(k)).AsInt16());
                    odd = ScaledProducts<TIsa>(odd, c1, ch + 32, Avx2.Shuffle(split, PairIndex(k + 1)).AsInt16());
                    even = ScaledProducts<TIsa>(even, c2, ch + 64, Avx2.Shuffle(split, PairIndex(k + 2)).AsInt16());
                    odd = ScaledProducts<TIsa>(odd, c3, ch + 96, Avx2.Shuffle(split, PairIndex(k + 3)).AsInt16());
                }
            }
            var acc = even + odd;
            var bs = Avx2.MultiplyAddAdjacent(Vector256.Load(bsums), minsOrScales);
            float ddy = d * dy[b];
            if (TBlock.HasMins)
            {
                f = Fma.MultiplyAdd(Avx.ConvertToVector256Single(acc), Vector256.Create(ddy), f);
                m = Fma.MultiplyAdd(Avx.ConvertToVector256Single(bs), Vector256.Create(dmin * dy[b]), m);
            }
            else
            {
                f = Fma.MultiplyAdd(Avx.ConvertToVector256Single(acc - Avx2.ShiftLeftLogical(bs, 5)), Vector256.Create(ddy), f);
            }
        }
        return KResult256<TBlock>(f, m);
    }

    /// <summary>acc + Σ pairs (codes x activations, int16) x scale: vpmaddubsw, then vpdpwssd (AVX-VNNI) or vpmaddwd + vpaddd.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<int> ScaledProducts<TIsa>(Vector256<int> acc, Vector256<byte> codes, sbyte* y, Vector256<short> scale)
        where TIsa : struct, IIsa
    {
        var prod = Avx2.MultiplyAddAdjacent(codes, Vector256.Load(y));
        return TIsa.Vnni ? AvxVnni.MultiplyWideningAndAdd(acc, prod, scale) : acc + Avx2.MultiplyAddAdjacent(prod, scale);
    }
}
