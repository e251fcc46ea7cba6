// matvec_q8_0: y = W x for Q8_0 weights (decode's matrix-vector product), dequantization fused.
//
// Inputs:  qs  [rows, blocks] x 32 bytes (two uint4): each 32-weight block's int8 codes,
//              w = d * code. GGUF's 34-byte blocks with the fp16 scale moved to its own array
//              at upload, so the codes load as aligned 16-byte vectors.
//          d   [rows, blocks] fp16 weight scales (as bits).
//          xq  [blocks * 32] int8 and xds [blocks] float2: x as Q8_1 (quantize_q8_1.cu).
// Outputs: y   [rows] fp32.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          blocks l, l + 32, ...: two 16-byte loads of codes (coalesced: the warp reads 1 KiB
//          of consecutive codes per step), 8 dp4a. Shuffle reduction; lane 0 writes y[row].
// Shared memory: none.
// Bytes: 34 * rows * blocks of weights (+ x from cache): 7B q/o projection (4096 x 4096)
//        17.8 MB, 6.3 us at 2.8 TB/s. FLOPs: 2 * rows * cols int8 MACs.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(128) matvec_q8_0(
    const uint4* __restrict__ qs, const unsigned short* __restrict__ d,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int blocks)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const uint4* wq = qs + (size_t)row * blocks * 2;
    const unsigned short* wd = d + (size_t)row * blocks;
    const int4* xv = reinterpret_cast<const int4*>(xq);
    float acc = 0.0f;
#pragma unroll 4
    for (int b = lane; b < blocks; b += 32)
    {
        const uint4 q0 = wq[2 * b], q1 = wq[2 * b + 1];
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
        acc += f16_to_f32(wd[b]) * xds[b].x * (float)sumi;
    }
    acc = warp_sum(acc);
    if (lane == 0) y[row] = acc;
}
