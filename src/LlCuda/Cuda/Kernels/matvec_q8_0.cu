// matvec_q8_0_1: y = W x for Q8_0 weights (decode's matrix-vector product), dequantization
// fused; matvec_q8_0_2, _4, _8 apply each weight read to 2, 4, 8 tokens; dequant_q8_0_f16
// expands W to fp16 for the prefill GEMM.
//
// Inputs:  qs  [rows, blocks] x 32 bytes (two uint4): each 32-weight block's int8 codes,
//              w = d * code. GGUF's 34-byte blocks with the fp16 scale moved to its own array
//              at upload, so the codes load as aligned 16-byte vectors.
//          d   [rows, blocks] fp16 weight scales (as bits).
//          xq  [NT, blocks * 32] int8 and xds [NT, blocks] float2: NT tokens' x as Q8_1
//              (quantize_q8_1.cu), token t at xq + t * cols, xds + t * blocks.
// Outputs: y   [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
//          dequant_q8_0_f16: out [rows, blocks * 32] fp16 bits, row-major, 16-byte aligned.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          blocks l, l + 32, ...: two 16-byte loads of codes (coalesced: the warp reads 1 KiB
//          of consecutive codes per step), then per token 8 dp4a. Shuffle reduction; lane 0
//          writes y. Dequant: one thread per 8 consecutive weights, 256-thread CTAs, one
//          16-byte store each.
// Shared memory: none.
// Bytes: 34 * rows * blocks of weights (once per launch whatever NT, + x from cache): 7B q/o
//        projection (4096 x 4096) 17.8 MB, 6.3 us at 2.8 TB/s. FLOPs: 2 * NT * rows * cols
//        int8 MACs. Dequant: reads 1.06 and writes 2 bytes per weight.

#include "common.cuh"

template <int NT>
__device__ __forceinline__ void matvec_q8_0(
    const uint4* __restrict__ qs, const unsigned short* __restrict__ d,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int blocks, int ldy)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const uint4* wq = qs + (size_t)row * blocks * 2;
    const unsigned short* wd = d + (size_t)row * blocks;
    const size_t cols = (size_t)blocks * 32;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
#pragma unroll (NT == 1 ? 4 : 2)
    for (int b = lane; b < blocks; b += 32)
    {
        const uint4 q0 = wq[2 * b], q1 = wq[2 * b + 1];
#pragma unroll
        for (int t = 0; t < NT; t++)
        {
            const int4* xv = reinterpret_cast<const int4*>(xq + t * cols);
            const int4 x0 = xv[2 * b], x1 = xv[2 * b + 1];
            int sumi = 0;
            sumi = __dp4a((int)q0.x, x0.x, sumi);
            sumi = __dp4a((int)q0.y, x0.y, sumi);
            sumi = __dp4a((int)q0.z, x0.z, sumi);
            sumi = __dp4a((int)q0.w, x0.w, sumi);
            sumi = __dp4a((int)q1.x, x1.x, sumi);
            sumi = __dp4a((int)q1.y, x1.y, sumi);
            sumi = __dp4a((int)q1.z, x1.z, sumi);
            sumi = __dp4a((int)q1.w, x1.w, sumi);
            acc[t] += f16_to_f32(wd[b]) * xds[t * (size_t)blocks + b].x * (float)sumi;
        }
    }
    store_matvec_rows<NT>(acc, y, row, ldy);
}

#define MATVEC_Q8_0_ARGS                                                             \
    const uint4* __restrict__ qs, const unsigned short* __restrict__ d,              \
    const signed char* __restrict__ xq, const float2* __restrict__ xds,              \
    float* __restrict__ y, int rows, int blocks, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_q8_0_1(MATVEC_Q8_0_ARGS) { matvec_q8_0<1>(qs, d, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q8_0_2(MATVEC_Q8_0_ARGS) { matvec_q8_0<2>(qs, d, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q8_0_4(MATVEC_Q8_0_ARGS) { matvec_q8_0<4>(qs, d, xq, xds, y, rows, blocks, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q8_0_8(MATVEC_Q8_0_ARGS) { matvec_q8_0<8>(qs, d, xq, xds, y, rows, blocks, ldy); }

extern "C" __global__ void __launch_bounds__(256) dequant_q8_0_f16(
    const signed char* __restrict__ qs, const unsigned short* __restrict__ d,
    uint4* __restrict__ out, int rows, int blocks)
{
    const size_t i = (size_t)blockIdx.x * 256 + threadIdx.x; // weights 8i .. 8i + 7
    if (i >= (size_t)rows * blocks * 4) return;
    const uint2 q = *reinterpret_cast<const uint2*>(qs + 8 * i); // codes of block i / 4, in order
    const float dw = f16_to_f32(d[i >> 2]);
    float v[8];
#pragma unroll
    for (int k = 0; k < 8; k++) v[k] = (float)(signed char)(((k < 4 ? q.x : q.y) >> (8 * (k & 3))) & 0xFF) * dw;
    store_f16x8(v, out + i);
}
