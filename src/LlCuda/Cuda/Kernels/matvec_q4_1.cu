// matvec_q4_1_1: y = W x for Q4_1 weights (decode's matrix-vector product), dequantization
// fused; matvec_q4_1_2, _4, _8 apply each weight read to 2, 4, 8 tokens; dequant_q4_1_f16
// expands W to fp16 for the prefill GEMM.
//
// Inputs:  qs  [rows, blocks] x 16 bytes (uint4): the Q4_1 quants of each 32-weight block, byte
//              j = code j (low nibble) | code j + 16 (high nibble), w = d * code + m.
//          dm  [rows, blocks] x 4 bytes: d (fp16, low half) and m (fp16, high half).
//              GGUF's 20-byte blocks split in two arrays so the quants load as 16-byte vectors.
//          xq  [NT, blocks * 32] int8 and xds [NT, blocks] float2: NT tokens' x as Q8_1
//              (quantize_q8_1.cu), token t at xq + t * cols, xds + t * blocks.
// Outputs: y   [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
//          dequant_q4_1_f16: out [rows, blocks * 32] fp16 bits, row-major, 16-byte aligned.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          blocks l, l + 32, ...: one 16-byte load of quants and one 4-byte load of d, m per
//          block, then per token 8 dp4a; sum_j (d q_j + m) dx xq_j = d dx sumi + m (dx sum xq),
//          the second factor being Q8_1's stored d * sum. Shuffle reduction; lane 0 writes y.
//          Dequant: one thread per 8 consecutive weights, 256-thread CTAs, one 16-byte store.
// Shared memory: none.
// Bytes: 20 * rows * blocks of weights (once per launch whatever NT, + x from cache).
//        FLOPs: 2 * NT * rows * cols int8 MACs + ~5 fp32 per block and token. Dequant: reads
//        0.63 and writes 2 bytes per weight.

#include "common.cuh"

template <int NT>
__device__ __forceinline__ void matvec_q4_1(
    const uint4* __restrict__ qs, const unsigned* __restrict__ dm,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int blocks, int ldy)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const uint4* wq = qs + (size_t)row * blocks;
    const unsigned* wdm = dm + (size_t)row * blocks;
    const size_t cols = (size_t)blocks * 32;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
#pragma unroll (NT == 1 ? 4 : 2)
    for (int b = lane; b < blocks; b += 32)
    {
        const uint4 q = wq[b];
        const unsigned m2 = wdm[b];
        const float dw = f16_to_f32((unsigned short)(m2 & 0xFFFFu)), mw = f16_to_f32((unsigned short)(m2 >> 16));
        const int4 lo = low_nibbles(q), hi = high_nibbles(q); // once for all NT tokens
#pragma unroll
        for (int t = 0; t < NT; t++)
        {
            const int4* xv = reinterpret_cast<const int4*>(xq + t * cols);
            const int sumi = dot_block32(lo, hi, xv[2 * b], xv[2 * b + 1]); // x codes 0..15, 16..31
            const float2 s = xds[t * (size_t)blocks + b];
            acc[t] += dw * s.x * (float)sumi + mw * s.y;
        }
    }
    store_matvec_rows<NT>(acc, y, row, ldy);
}

#define MATVEC_Q4_1_ARGS                                                             \
    const uint4* __restrict__ qs, const unsigned* __restrict__ dm,                   \
    const signed char* __restrict__ xq, const float2* __restrict__ xds,              \
    float* __restrict__ y, int rows, int blocks, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_q4_1_1(MATVEC_Q4_1_ARGS) { matvec_q4_1<1>(qs, dm, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_1_2(MATVEC_Q4_1_ARGS) { matvec_q4_1<2>(qs, dm, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_1_4(MATVEC_Q4_1_ARGS) { matvec_q4_1<4>(qs, dm, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q4_1_8(MATVEC_Q4_1_ARGS) { matvec_q4_1<8>(qs, dm, xq, xds, y, rows, blocks, ldy); }

extern "C" __global__ void __launch_bounds__(256) dequant_q4_1_f16(
    const unsigned char* __restrict__ qs, const unsigned* __restrict__ dm,
    uint4* __restrict__ out, int rows, int blocks)
{
    const size_t i = (size_t)blockIdx.x * 256 + threadIdx.x; // weights 8i .. 8i + 7
    if (i >= (size_t)rows * blocks * 4) return;
    const size_t b = i >> 2;
    const int part = (int)(i & 3); // 0, 1: low nibbles of bytes 0..7, 8..15; 2, 3: high nibbles
    const uint2 q = *reinterpret_cast<const uint2*>(qs + b * 16 + 8 * (part & 1));
    const unsigned m2 = dm[b];
    const float dw = f16_to_f32((unsigned short)(m2 & 0xFFFFu)), mw = f16_to_f32((unsigned short)(m2 >> 16));
    const int shift = part >= 2 ? 4 : 0;
    float v[8];
    // Host order (Dequantize.Q4_1): q * d + m, each step rounded (no FMA).
#pragma unroll
    for (int k = 0; k < 8; k++)
        v[k] = __fadd_rn(__fmul_rn((float)(((k < 4 ? q.x : q.y) >> (8 * (k & 3) + shift)) & 0xF), dw), mw);
    store_f16x8(v, out + i);
}
