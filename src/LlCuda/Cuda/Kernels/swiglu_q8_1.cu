// swiglu_q8_1: the feed-forward gate, silu(g) * u, quantized to Q8_1 for the down projection's
// matvec, in one pass (step 6 of the decode plan in docs/cuda.md).
//
// Inputs:  gu  [n, 2 * ffn] fp32: each token's gate values (columns 0..ffn-1) then its up values
//              (ffn..2ffn-1), as one matvec over the concatenated [gate; up] rows writes them.
// Outputs: q   [n, ffn] int8 and ds [n, ffn / 32] float2: silu(g) * u as Q8_1
//              (quantize_q8_1.cu's format); silu(g) = g / (1 + e^-g). ffn % 32 == 0.
// Threads: one warp per 32-value block, 4 blocks per 128-thread CTA, grid = ceil(n * ffn / 128);
//          lane i owns value 32b + i; block max and code sum by warp shuffles.
// Shared memory: none.
// Bytes: 8 * ffn read + 1.25 * ffn written per token (TinyLlama: 45 KB + 7 KB).
//        FLOPs: ~6 per value plus one exp.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(128) swiglu_q8_1(
    const float* __restrict__ gu, signed char* __restrict__ q, float2* __restrict__ ds, int n, int ffn)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x; // value index in [n, ffn]
    if (i >= n * ffn) return;                             // ffn % 32 == 0: whole warps leave together
    const int token = i / ffn, col = i - token * ffn;
    const float g = gu[(size_t)token * 2 * ffn + col], u = gu[(size_t)token * 2 * ffn + ffn + col];
    store_q8_1_block(g / (1.0f + expf(-g)) * u, q + i, ds + i / 32);
}
