// matvec_q4_0: y = W x for Q4_0 weights (decode's matrix-vector product), dequantization fused.
//
// Inputs:  qs  [rows, blocks] x 16 bytes (uint4): the Q4_0 quants of each 32-weight block, byte
//              j = code j (low nibble) | code j + 16 (high nibble), w = d * (code - 8).
//              This is GGUF's Q4_0 with the fp16 scales moved to their own array at upload:
//              GGUF's 18-byte blocks leave the quants 2-byte aligned, and a warp reading 16-byte
//              vectors moves the same bytes in an eighth of the load instructions.
//          d   [rows, blocks] fp16 weight scales.
//          xq  [blocks * 32] int8 and xds [blocks] float2: x as Q8_1 (quantize_q8_1.cu).
// Outputs: y   [rows] fp32.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          blocks l, l + 32, ...: each step the warp reads 512 consecutive bytes of quants
//          (one 16-byte load per lane, coalesced) and 64 bytes of scales; 8 dp4a per block.
//          The warp's partial sums meet in a shuffle reduction; lane 0 writes y[row].
// Shared memory: none (x, 1.1 bytes per value, stays in L1/L2 for all rows).
// Bytes: 18 * rows * blocks of weights (the roofline term), + 36 * blocks of x per row from
//        cache, + 4 * rows. FLOPs: 2 * rows * blocks * 32 (int8 MACs) + ~4 fp32 per block.
//        7B q/o projection (4096 x 4096): 9.4 MB -> 3.6 us at 2.6 TB/s.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(128) matvec_q4_0(
    const uint4* __restrict__ qs, const unsigned short* __restrict__ d,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int blocks)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const uint4* wq = qs + (size_t)row * blocks;
    const unsigned short* wd = d + (size_t)row * blocks;
    const int4* xv = reinterpret_cast<const int4*>(xq);
    float acc = 0.0f;
#pragma unroll 4
    for (int b = lane; b < blocks; b += 32)
    {
        const uint4 q = wq[b];
        const int4 x0 = xv[2 * b];     // activation codes 0..15 of the block
        const int4 x1 = xv[2 * b + 1]; // codes 16..31
        // Low and high nibbles in two dp4a chains: one chain of 8 would make each block wait
        // on 8 dependent dp4a.
        int lo = 0, hi = 0;
        lo = __dp4a((int)(q.x & 0x0F0F0F0Fu), x0.x, lo);
        hi = __dp4a((int)((q.x >> 4) & 0x0F0F0F0Fu), x1.x, hi);
        lo = __dp4a((int)(q.y & 0x0F0F0F0Fu), x0.y, lo);
        hi = __dp4a((int)((q.y >> 4) & 0x0F0F0F0Fu), x1.y, hi);
        lo = __dp4a((int)(q.z & 0x0F0F0F0Fu), x0.z, lo);
        hi = __dp4a((int)((q.z >> 4) & 0x0F0F0F0Fu), x1.z, hi);
        lo = __dp4a((int)(q.w & 0x0F0F0F0Fu), x0.w, lo);
        hi = __dp4a((int)((q.w >> 4) & 0x0F0F0F0Fu), x1.w, hi);
        const int sumi = lo + hi;
        const float2 s = xds[b];
        // sum_j (code_j - 8) * d_x * xq_j = d_x * sumi - 8 * (d_x * sum_j xq_j)
        acc += f16_to_f32(wd[b]) * (s.x * (float)sumi - 8.0f * s.y);
    }
    acc = warp_sum(acc);
    if (lane == 0) y[row] = acc;
}

