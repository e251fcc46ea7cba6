// rmsnorm_q8_1: residual add, RMSNorm and the normed row in the forms the next matrix products
// read (Q8_1 for the dp4a matvecs, fp32 for the float matvecs, fp16 for cuBLAS), in one pass
// over each token's activations: step 1 of a layer, and the final norm before the output.
//
// Inputs:  x      [rows, dim] fp32 residual stream; each row this launch reads is updated in
//                 place to x + add when add is given (with a rowmap, only the gathered rows).
//          add    [rows, dim] fp32 or null (the previous block's output).
//          w      [dim] fp32 norm weights; eps.
//          rowmap [n] int32 or null: output row i reads row rowmap[i] of x and add (the final
//                 norm gathers only the tokens that want logits); null = identity.
// Outputs: x (see above), and for output row i each of these that is not null:
//          q [n, dim] int8 + ds [n, dim / 32] float2: x * w / sqrt(mean(x^2) + eps) as Q8_1
//          (quantize_q8_1.cu's format); xf [n, dim] fp32; xh [n, dim] fp16. dim % 32 == 0 when
//          q is given (the forms are then written by the quantizing warps).
// Threads: one 256-thread CTA per output row (grid = n). Pass 1: strided residual add and sum
//          of squares, reduced by warp shuffles and 8 partial sums in shared memory. Pass 2:
//          warp k takes the 32-value blocks k, k + 8, ...: lane i owns value 32b + i.
// Shared memory: 8 floats.
// Bytes: per row 4 * dim read (8 * dim with add) + 4 * dim written when add is given, + 4 * dim
//        of w (cached) + 1.25 / 4 / 2 bytes per value for q / xf / xh. FLOPs: ~8 per value.
//        Tiny next to the matvecs (dim 2048: 8 KB per row); it exists to fuse launches.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(256) rmsnorm_q8_1(
    float* __restrict__ x, const float* __restrict__ add, const float* __restrict__ w,
    const int* __restrict__ rowmap, signed char* __restrict__ q, float2* __restrict__ ds,
    float* __restrict__ xf, unsigned short* __restrict__ xh, int dim, float eps)
{
    __shared__ float partial[8];
    const int out = blockIdx.x, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int row = rowmap ? rowmap[out] : out;
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
    const size_t o = (size_t)out * dim;
    if (q)
    {
        for (int b = warp; b < dim / 32; b += 8)
        {
            const int i = 32 * b + lane;
            const float v = xr[i] * scale * w[i];
            store_q8_1_block(v, q + o + i, ds + (size_t)out * (dim / 32) + b);
            if (xf) xf[o + i] = v;
            if (xh) xh[o + i] = f32_to_f16_bits(v);
        }
    }
    else if (xf || xh)
    {
        for (int i = threadIdx.x; i < dim; i += 256)
        {
            const float v = xr[i] * scale * w[i];
            if (xf) xf[o + i] = v;
            if (xh) xh[o + i] = f32_to_f16_bits(v);
        }
    }
}
