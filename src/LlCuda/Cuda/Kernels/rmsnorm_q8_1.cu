// rmsnorm_q8_1: residual add, RMSNorm and Q8_1 quantization of the normed row in one pass over
// each token's activations (step 1 of a layer: what the next matvec reads).
//
// Inputs:  x    [n, dim] fp32 residual stream; updated in place to x + add when add is given.
//          add  [n, dim] fp32 or null (the previous block's output).
//          w    [dim] fp32 norm weights; eps.
// Outputs: x    (see above); q [n, dim] int8 and ds [n, dim / 32] float2: the normed row
//          x * w / sqrt(mean(x^2) + eps) as Q8_1 (quantize_q8_1.cu's format). dim % 32 == 0.
// Threads: one 256-thread CTA per token row (grid = n). Pass 1: strided residual add and sum
//          of squares, reduced by warp shuffles and 8 partial sums in shared memory. Pass 2:
//          warp k quantizes the 32-value blocks k, k + 8, ...: lane i owns value 32b + i.
// Shared memory: 8 floats.
// Bytes: per row 4 * dim read (8 * dim with add) + 4 * dim written when add is given, + 4 * dim
//        of w (cached) + 1.25 * dim written. FLOPs: ~8 per value. Tiny next to the matvecs
//        (dim 2048: 8 KB per row); it exists to fuse three launches into one.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256) rmsnorm_q8_1(
    float* __restrict__ x, const float* __restrict__ add, const float* __restrict__ w,
    signed char* __restrict__ q, float2* __restrict__ ds, int dim, float eps)
{
    __shared__ float partial[8];
    const int row = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    float* xr = x + (size_t)row * dim;
    const float* ar = add ? add + (size_t)row * dim : nullptr;
    float ss = 0.0f;
    for (int i = threadIdx.x; i < dim; i += 256)
    {
        float v = xr[i];
        if (ar) { v += ar[i]; xr[i] = v; }
        ss += v * v;
    }
    ss = warp_sum(ss);
    if (lane == 0) partial[warp] = ss;
    __syncthreads(); // also orders pass 1's writes of x before pass 2 reads them
    ss = 0.0f;
#pragma unroll
    for (int k = 0; k < 8; k++) ss += partial[k];
    const float scale = 1.0f / sqrtf(ss / (float)dim + eps);
    for (int b = warp; b < dim / 32; b += 8)
    {
        const int i = 32 * b + lane;
        store_q8_1_block(xr[i] * scale * w[i], q + (size_t)row * dim + i, ds + (size_t)row * (dim / 32) + b);
    }
}
