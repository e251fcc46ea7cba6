using System.Runtime.CompilerServices;
namespace LlCuda.Cpu;

// Entry points with the DotKernels.Tile signature: several activation rows at once when the tile
// is full, one at a time otherwise. The single-row kernels split their sums over several
// accumulators (decode is latency-bound), so a token's last bits of rounding can depend on how
// the tokens of a call fall into tiles; they never depend on the thread count.
internal static unsafe partial class QuantDot
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LegacyTile256<TBlock, TIsa>(byte* w, ActivationRows* a, int t0, int count, float* y, int yStride)
        where TBlock : struct, ILegacyBlock where TIsa : struct, IIsa
    {
        int t = 0;
        for (; t + 4 <= count; t += 4) Legacy256<TBlock, TIsa, FourTokens>(w, a, t0 + t, y + t * yStride, yStride);
        for (; t < count; t++) Legacy256<TBlock, TIsa, OneToken>(w, a, t0 + t, y + t * yStride, yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LegacyTile512<TBlock>(byte* w, ActivationRows* a, int t0, int count, float* y, int yStride)
        where TBlock : struct, ILegacyBlock
    {
        int t = 0;
        for (; t + 8 <= count; t += 8) Legacy512<TBlock, EightTokens>(w, a, t0 + t, y + t * yStride, yStride);
        for (; t + 4 <= count; t += 4) Legacy512<TBlock, FourTokens>(w, a, t0 + t, y + t * yStride, yStride);
        for (; t < count; t++) Legacy512<TBlock, OneToken>(w, a, t0 + t, y + t * yStride, yStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void KTile512<TBlock>(byte* w, ActivationRows* a, int t0, int count, float* y, int yStride)
        where TBlock : struct, IKBlock
    {
        int t = 0;
        for (; t + 4 <= count; t += 4) K512<TBlock, FourTokens>(w, a, t0 + t, y + t * yStride, yStride);
        for (; t < count; t++) K512<TBlock, OneToken>(w, a, t0 + t, y + t * yStride, yStride);
    }
}
