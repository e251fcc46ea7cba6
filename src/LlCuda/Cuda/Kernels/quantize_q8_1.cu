// quantize_q8_1: fp32 activations to ggml's Q8_1 blocks (int8 codes, per 32 values a scale and
// the scaled sum), the input format of the dp4a matrix-vector kernels.
//
// Inputs:  x   [n] fp32, n a multiple of 32.
// Outputs: q   [n] int8, q[i] = round(x[i] / d_b) for i in block b = i / 32;
//          ds  [n / 32] float2: (d_b, d_b * sum of the block's 32 codes), d_b = max|x| / 127
//          (0 for an all-zero block, whose codes are all 0).
// Threads: one warp per 32-value block, lane i owns x[32b + i]; block and sum reductions by
//          warp shuffles; 128 threads (4 blocks of 32 values) per CTA, grid = ceil(n / 128).
// Shared memory: none.
// Bytes: reads 4n, writes n + 8n/32 = 1.25n: 5.25 bytes per value (21.5 KB for n = 4096);
// FLOPs: ~3 per value. Memory-bound and tiny: it exists so the matvec reads 1 byte per
// activation instead of 4.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(128) quantize_q8_1(
    const float* __restrict__ x, signed char* __restrict__ q, float2* __restrict__ ds, int n)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return; // n is a multiple of 32, so whole warps leave together
    store_q8_1_block(x[i], q + i, ds + i / 32);
}
