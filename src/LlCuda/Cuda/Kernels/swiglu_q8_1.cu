// swiglu_q8_1: the feed-forward gate, silu(g) * u, in the forms the down projection reads (Q8_1
// for the dp4a matvecs, fp32 for the float matvecs, fp16 for cuBLAS), in one pass (step 6 of
// the decode plan in docs/cuda.md).
//
// Inputs:  gu  [n, 2 * ffn] fp32: each token's gate values (columns 0..ffn-1) then its up values
//              (ffn..2ffn-1), as one matvec over the concatenated [gate; up] rows writes them.
// Outputs: each that is not null: q [n, ffn] int8 + ds [n, ffn / 32] float2: silu(g) * u as
//          Q8_1 (quantize_q8_1.cu's format; needs ffn % 32 == 0); xf [n, ffn] fp32; xh [n, ffn]
//          fp16. silu(g) = g / (1 + e^-g).
// Threads: one thread per value, 128-thread CTAs, grid = ceil(n * ffn / 128); with ffn % 32 == 0
//          a warp owns one 32-value block (lane i value 32b + i): block max and code sum by
//          warp shuffles.
// Shared memory: none.
// Bytes: 8 * ffn read + 1.25 (q) / 4 (xf) / 2 (xh) * ffn written per token (TinyLlama: 45 KB +
//        7 KB). FLOPs: ~6 per value plus one exp.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(128) swiglu_q8_1(
    const float* __restrict__ gu, signed char* __restrict__ q, float2* __restrict__ ds,
    float* __restrict__ xf, unsigned short* __restrict__ xh, int n, int ffn)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x; // value index in [n, ffn]
    if (i >= n * ffn) return;                             // with q, ffn % 32 == 0: whole warps leave together
    const int token = i / ffn, col = i - token * ffn;
    const float g = gu[(size_t)token * 2 * ffn + col], u = gu[(size_t)token * 2 * ffn + ffn + col];
    const float v = g / (1.0f + expf(-g)) * u;
    if (q) store_q8_1_block(v, q + i, ds + i / 32);
    if (xf) xf[i] = v;
    if (xh) xh[i] = f32_to_f16_bits(v);
}
