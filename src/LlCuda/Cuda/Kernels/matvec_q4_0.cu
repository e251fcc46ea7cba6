// matvec_q4_0_1: y = W x for Q4_0 weights (decode's matrix-vector product), dequantization
// fused; matvec_q4_0_2, _4, _8 apply each weight read to 2, 4, 8 tokens; dequant_q4_0_f16
// expands W to fp16 for the prefill GEMM.
//
// Inputs:  qs  [rows, blocks] x 16 bytes (uint4): the Q4_0 quants of each 32-weight block, byte
//              j = code j (low nibble) | code j + 16 (high nibble), w = d * (code - 8).
//              This is GGUF's Q4_0 with the fp16 scales moved to their own array at upload:
//              GGUF's 18-byte blocks leave the quants 2-byte aligned, and a warp reading 16-byte
//              vectors moves the same bytes in an eighth of the load instructions.
//          d   [rows, blocks] fp16 weight scales.
//          xq  [NT, blocks * 32] int8 and xds [NT, blocks] float2: NT tokens' x as Q8_1
//              (quantize_q8_1.cu), token t at xq + t * cols, xds + t * blocks.
// Outputs: y   [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
//          dequant_q4_0_f16: out [rows, blocks * 32] fp16 bits, row-major, 16-byte aligned.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          blocks l, l + 32, ...: each step the warp reads 512 consecutive bytes of quants
//          (one 16-byte load per lane, coalesced) and 64 bytes of scales, then per token 8 dp4a
//          against that token's codes (from L1/L2). The warp's partial sums meet in a shuffle
//          reduction; lane 0 writes y. Dequant: one thread per 8 consecutive weights (half a
//          block's low or high nibbles), 256-thread CTAs, one 16-byte store each.
// Shared memory: none (x, 1.1 bytes per value per token, stays in L1/L2 for all rows).
// Bytes: 18 * rows * blocks of weights (the roofline term, once per launch whatever NT),
//        + 36 * NT * blocks of x per row from cache, + 4 * NT * rows. FLOPs: 2 * NT * rows *
//        blocks * 32 (int8 MACs) + ~4 fp32 per block and token.
//        7B q/o projection (4096 x 4096): 9.4 MB -> 3.6 us at 2.6 TB/s. Dequant: reads 0.56 and
//        writes 2 bytes per weight.

#include "common.cuh"

template <int NT>
__device__ __forceinline__ void matvec_q4_0(
    const uint4* __restrict__ qs, const unsigned short* __restrict__ d,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int blocks, int ldy)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const uint4* wq = qs + (size_t)row * blocks;
    const unsigned short* wd = d + (size_t)row * blocks;
    const size_t cols = (size_t)blocks * 32;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
#pragma unroll (NT == 1 ? 4 : 2)
    for (int b = lane; b < blocks; b += 32)
    {
        const uint4 q = wq[b];
        const int4 lo = low_nibbles(q), hi = high_nibbles(q); // once for all NT tokens
#pragma unroll
        for (int t = 0; t < NT; t++)
        {
            const int4* xv = reinterpret_cast<const int4*>(xq + t * cols);
            const int sumi = dot_block32(lo, hi, xv[2 * b], xv[2 * b + 1]); // x codes 0..15, 16..31
            const float2 s = xds[t * (size_t)blocks + b];
            // sum_j (code_j - 8) * d_x * xq_j = d_x * sumi - 8 * (d_x * sum_j xq_j)
            acc[t] += f16_to_f32(wd[b]) * (s.x * (float)sumi - 8.0f * s.y);
        }
    }
    store_matvec_rows<NT>(acc, y, row, ldy);
}

#define MATVEC_Q4_0_ARGS                                                             \
    const uint4* __restrict__ qs, const unsigned short* __restrict__ d,              \
    const signed char* __restrict__ xq, const float2* __restrict__ xds,              \
    float* __restrict__ y, int rows, int blocks, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_q4_0_1(MATVEC_Q4_0_ARGS) { matvec_q4_0<1>(qs, d, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_0_2(MATVEC_Q4_0_ARGS) { matvec_q4_0<2>(qs, d, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_0_4(MATVEC_Q4_0_ARGS) { matvec_q4_0<4>(qs, d, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_0_8(MATVEC_Q4_0_ARGS) { matvec_q4_0<8>(qs, d, xq, xds, y, rows, blocks, ldy); }

extern "C" __global__ void __launch_bounds__(256) dequant_q4_0_f16(
    const unsigned char* __restrict__ qs, const unsigned short* __restrict__ d,
    uint4* __restrict__ out, int rows, int blocks)
{
    const size_t i = (size_t)blockIdx.x * 256 + threadIdx.x; // weights 8i .. 8i + 7
    if (i >= (size_t)rows * blocks * 4) return;
    const size_t b = i >> 2;
    const int part = (int)(i & 3); // 0, 1: low nibbles of bytes 0..7, 8..15; 2, 3: high nibbles
    const uint2 q = *reinterpret_cast<const uint2*>(qs + b * 16 + 8 * (part & 1));
    const float dw = f16_to_f32(d[b]);
    const int shift = part >= 2 ? 4 : 0;
    float v[8];
#pragma unroll
    for (int k = 0; k < 8; k++)
        v[k] = (float)((int)((((k < 4 ? q.x : q.y) >> (8 * (k & 3) + shift)) & 0xF)) - 8) * dw;
    store_f16x8(v, out + i);
}
