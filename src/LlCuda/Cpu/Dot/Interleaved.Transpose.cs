using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

// Building a tile means turning rows of codes into groups across rows: dword k (codes 4k..4k+3)
// of 8 rows becomes one 32-byte vector. Done as an 8 x 8 dword transpose in registers (24
// shuffles per 8 rows x 32 codes). Writing each row's codes to a stack buffer and copying its
// dwords out one by one cost a third of the prefill time: the 4-byte reloads of a 32-byte store
// wait for the store to retire instead of being forwarded.
internal static unsafe partial class Interleaved
{
    /// <summary>
    /// Rows c0..c7 of 8 dwords each; stores [c0[k], c1[k], ..., c7[k]] at dst + k * stride for k &lt; 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void StoreTransposed(Vector256<int> c0, Vector256<int> c1, Vector256<int> c2, Vector256<int> c3,
        Vector256<int> c4, Vector256<int> c5, Vector256<int> c6, Vector256<int> c7, byte* dst, long stride)
    {
        // Pairs of rows, dword-interleaved: t0 = [c0[0] c1[0] c0[1] c1[1] | c0[4] c1[4] c0[5] c1[5]].
        var t0 = Avx2.UnpackLow(c0, c1).AsInt64();
        var t1 = Avx2.UnpackHigh(c0, c1).AsInt64();
        var t2 = Avx2.UnpackLow(c2, c3).AsInt64();
        var t3 = Avx2.UnpackHigh(c2, c3).AsInt64();
        var t4 = Avx2.UnpackLow(c4, c5).AsInt64();
        var t5 = Avx2.UnpackHigh(c4, c5).AsInt64();
        var t6 = Avx2.UnpackLow(c6, c7).AsInt64();
        var t7 = Avx2.UnpackHigh(c6, c7).AsInt64();
        // Quads of rows: u0 = [rows 0-3 of dword 0 | rows 0-3 of dword 4].
        var u0 = Avx2.UnpackLow(t0, t2);
        var u1 = Avx2.UnpackHigh(t0, t2);
        var u2 = Avx2.UnpackLow(t1, t3);
        var u3 = Avx2.UnpackHigh(t1, t3);
        var u4 = Avx2.UnpackLow(t4, t6);
        var u5 = Avx2.UnpackHigh(t4, t6);
        var u6 = Avx2.UnpackLow(t5, t7);
        var u7 = Avx2.UnpackHigh(t5, t7);
        // Rows 0-3 and 4-7 of the same dword side by side.
        Avx2.Permute2x128(u0, u4, 0x20).Store((long*)dst);
        Avx2.Permute2x128(u1, u5, 0x20).Store((long*)(dst + stride));
        Avx2.Permute2x128(u2, u6, 0x20).Store((long*)(dst + 2 * stride));
        Avx2.Permute2x128(u3, u7, 0x20).Store((long*)(dst + 3 * stride));
        Avx2.Permute2x128(u0, u4, 0x31).Store((long*)(dst + 4 * stride));
        Avx2.Permute2x128(u1, u5, 0x31).Store((long*)(dst + 5 * stride));
        Avx2.Permute2x128(u2, u6, 0x31).Store((long*)(dst + 6 * stride));
        Avx2.Permute2x128(u3, u7, 0x31).Store((long*)(dst + 7 * stride));
    }
}
