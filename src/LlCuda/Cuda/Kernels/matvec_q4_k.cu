// matvec_q4_k_1: y = W x for Q4_K weights (decode's matrix-vector product), dequantization
// fused; matvec_q4_k_2, _4, _8 apply each weight read to 2, 4, 8 tokens; dequant_q4_k_f16
// expands W to fp16 for the prefill GEMM.
//
// Inputs:  qs   [rows, supers] x 128 bytes: each 256-weight super-block's quants as in GGUF
//               (32-byte pair p: byte i = code i of sub-block 2p (low nibble) | code i of
//               sub-block 2p + 1 (high nibble)), 16-byte aligned;
//          meta [rows, supers] x 16 bytes: d (fp16), dmin (fp16), the 12 bytes of packed 6-bit
//               scales and minimums: w = d * sc_j * code - dmin * m_j.
//               GGUF's 144-byte super-block split in two arrays so quants load as 16-byte vectors.
//          xq   [NT, supers * 256] int8, xds [NT, supers * 8] float2: NT tokens' x as Q8_1
//               (quantize_q8_1.cu), token t at xq + t * cols, xds + t * supers * 8.
// Outputs: y    [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
//          dequant_q4_k_f16: out [rows, supers * 256] fp16 bits, row-major, 16-byte aligned.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Eight lanes per
//          super-block, four super-blocks per warp step: lane g of a group (0..7) takes pair
//          p = g / 2, bytes 16 * (g % 2) .. +15 of it: 16 codes of sub-block 2p and 16 of 2p + 1,
//          one 16-byte load, then per token 8 dp4a. The minimum term of a sub-block pair is
//          added once, by the even lane. Shuffle reduction; lane 0 writes y. Dequant: one
//          thread per 8 consecutive weights, 256-thread CTAs, one 16-byte store each.
// Shared memory: none.
// Bytes: 144 * rows * supers of weights (once per launch whatever NT, + x from cache) -> 7B
//        q/o projection (4096 x 4096): 9.4 MB, 3.6 us at 2.6 TB/s. FLOPs: 2 * NT * rows * cols
//        int8 MACs + ~10 fp32 per lane-step and token. Dequant: reads 0.56 and writes 2 bytes
//        per weight.

#include "common.cuh"

__device__ __forceinline__ int byte_of(unsigned w, int i) { return (w >> (8 * i)) & 0xFF; }

// Sub-block j's 6-bit scale and minimum from the 12 packed bytes held as three words u0, u1, u2
// (GGUF's packing, ggml's get_scale_min_k4); word extraction keeps them in registers.
__device__ __forceinline__ void q4k_scale_min(unsigned u0, unsigned u1, unsigned u2, int j, int& sc, int& m)
{
    if (j < 4) { sc = byte_of(u0, j) & 63; m = byte_of(u1, j) & 63; }
    else
    {
        sc = (byte_of(u2, j - 4) & 0x0F) | ((byte_of(u0, j - 4) >> 6) << 4);
        m = (byte_of(u2, j - 4) >> 4) | ((byte_of(u1, j - 4) >> 6) << 4);
    }
}

template <int NT>
__device__ __forceinline__ void matvec_q4_k(
    const uint4* __restrict__ qs, const uint4* __restrict__ meta,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int supers, int ldy)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int g = lane & 7, p = g >> 1, half = g & 1;
    const uint4* wq = qs + (size_t)row * supers * 8;
    const uint4* wm = meta + (size_t)row * supers;
    const size_t cols = (size_t)supers * 256;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
#pragma unroll (NT == 1 ? 2 : 1)
    for (int sb = lane >> 3; sb < supers; sb += 4)
    {
        const uint4 q = wq[sb * 8 + g];
        const uint4 mv = wm[sb];
        const int jLo = 2 * p, jHi = 2 * p + 1;
#pragma unroll
        for (int t = 0; t < NT; t++)
        {
            const signed char* xt = xq + t * cols;
            const float2* st = xds + t * (size_t)supers * 8;
            // Activation codes 16 * half .. +15 of sub-blocks jLo and jHi.
            const int4 xl = *reinterpret_cast<const int4*>(xt + sb * 256 + 32 * jLo + 16 * half);
            const int4 xh = *reinterpret_cast<const int4*>(xt + sb * 256 + 32 * jHi + 16 * half);
            int lo = 0, hi = 0;
            lo = __dp4a((int)(q.x & 0x0F0F0F0Fu), xl.x, lo);
            lo = __dp4a((int)(q.y & 0x0F0F0F0Fu), xl.y, lo);
            lo = __dp4a((int)(q.z & 0x0F0F0F0Fu), xl.z, lo);
            lo = __dp4a((int)(q.w & 0x0F0F0F0Fu), xl.w, lo);
            hi = __dp4a((int)((q.x >> 4) & 0x0F0F0F0Fu), xh.x, hi);
            hi = __dp4a((int)((q.y >> 4) & 0x0F0F0F0Fu), xh.y, hi);
            hi = __dp4a((int)((q.z >> 4) & 0x0F0F0F0Fu), xh.z, hi);
            hi = __dp4a((int)((q.w >> 4) & 0x0F0F0F0Fu), xh.w, hi);
            int scLo, mLo, scHi, mHi;
            q4k_scale_min(mv.y, mv.z, mv.w, jLo, scLo, mLo);
            q4k_scale_min(mv.y, mv.z, mv.w, jHi, scHi, mHi);
            const float2 sLo = st[sb * 8 + jLo], sHi = st[sb * 8 + jHi];
            const float d = f16_to_f32((unsigned short)(mv.x & 0xFFFFu)), dmin = f16_to_f32((unsigned short)(mv.x >> 16));
            acc[t] += d * ((float)(scLo * lo) * sLo.x + (float)(scHi * hi) * sHi.x);
            if (half == 0) acc[t] -= dmin * ((float)mLo * sLo.y + (float)mHi * sHi.y);
        }
    }
    store_matvec_rows<NT>(acc, y, row, ldy);
}

#define MATVEC_Q4_K_ARGS                                                             \
    const uint4* __restrict__ qs, const uint4* __restrict__ meta,                    \
    const signed char* __restrict__ xq, const float2* __restrict__ xds,              \
    float* __restrict__ y, int rows, int supers, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_q4_k_1(MATVEC_Q4_K_ARGS) { matvec_q4_k<1>(qs, meta, xq, xds, y, rows, supers, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_k_2(MATVEC_Q4_K_ARGS) { matvec_q4_k<2>(qs, meta, xq, xds, y, rows, supers, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_k_4(MATVEC_Q4_K_ARGS) { matvec_q4_k<4>(qs, meta, xq, xds, y, rows, supers, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_k_8(MATVEC_Q4_K_ARGS) { matvec_q4_k<8>(qs, meta, xq, xds, y, rows, supers, ldy); }

extern "C" __global__ void __launch_bounds__(256) dequant_q4_k_f16(
    const unsigned char* __restrict__ qs, const uint4* __restrict__ meta,
    uint4* __restrict__ out, int rows, int supers)
{
    const size_t i = (size_t)blockIdx.x * 256 + threadIdx.x; // weights 8i .. 8i + 7
    if (i >= (size_t)rows * supers * 32) return;
    const size_t s = i >> 5;
    const int k = 8 * (int)(i & 31);            // first weight within the super-block
    const int pair = k >> 6, j = k >> 5, l = k & 31; // sub-block j = 2 * pair (low nibbles) or 2 * pair + 1
    const uint4 mv = meta[s];
    int sc, m;
    q4k_scale_min(mv.y, mv.z, mv.w, j, sc, m);
    // Host order (Dequantize.Q4_K): (d * sc) * q - (dmin * m), each step rounded (no FMA).
    const float d1 = __fmul_rn(f16_to_f32((unsigned short)(mv.x & 0xFFFFu)), (float)sc);
    const float m1 = __fmul_rn(f16_to_f32((unsigned short)(mv.x >> 16)), (float)m);
    const uint2 q = *reinterpret_cast<const uint2*>(qs + s * 128 + 32 * pair + l);
    const int shift = (j & 1) * 4;
    float v[8];
#pragma unroll
    for (int e = 0; e < 8; e++)
        v[e] = __fsub_rn(__fmul_rn(d1, (float)((((e < 4 ? q.x : q.y) >> (8 * (e & 3) + shift)) & 0xF))), m1);
    store_f16x8(v, out + i);
}
