// matvec_f16_1: y = W x for fp16 weights and fp32 activations (decode's matrix-vector
// product); matvec_f16_2, _4, _8 apply each weight read to 2, 4, 8 tokens. (The prefill GEMM
// reads these weights as they are: no dequant kernel.)
//
// Inputs:  w   [rows, cols] fp16 bits, row-major (GGUF's F16 tensor unchanged), cols a
//              multiple of 8 so each row starts 16-byte aligned (32 in real models).
//          x   [NT, cols] fp32: token t at x + t * cols.
// Outputs: y   [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          the 8-weight groups l, l + 32, ...: one 16-byte load of weights (the warp reads 512
//          consecutive bytes per step), converted with cvt.f32.f16, then per token two float4
//          loads of x (from L1/L2) and 8 fp32 FMAs. Shuffle reduction; lane 0 writes y.
// Shared memory: none.
// Bytes: 2 * rows * cols of weights (the roofline term, once per launch whatever NT), + 4 * NT
//        * cols of x per row from cache. FLOPs: 2 * NT * rows * cols.
//        7B q/o projection (4096 x 4096): 33.6 MB -> 12 us at 2.8 TB/s.

#include "common.cuh"

template <int NT>
__device__ __forceinline__ void matvec_f16(
    const uint4* __restrict__ w, const float* __restrict__ x,
    float* __restrict__ y, int rows, int cols, int ldy)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int groups = cols / 8;
    const uint4* wr = w + (size_t)row * groups;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
#pragma unroll (NT == 1 ? 4 : 2)
    for (int i = lane; i < groups; i += 32)
    {
        const uint4 v = wr[i];
        const float w0 = f16_to_f32((unsigned short)(v.x & 0xFFFFu)), w1 = f16_to_f32((unsigned short)(v.x >> 16));
        const float w2 = f16_to_f32((unsigned short)(v.y & 0xFFFFu)), w3 = f16_to_f32((unsigned short)(v.y >> 16));
        const float w4 = f16_to_f32((unsigned short)(v.z & 0xFFFFu)), w5 = f16_to_f32((unsigned short)(v.z >> 16));
        const float w6 = f16_to_f32((unsigned short)(v.w & 0xFFFFu)), w7 = f16_to_f32((unsigned short)(v.w >> 16));
#pragma unroll
        for (int t = 0; t < NT; t++)
        {
            const float4* xv = reinterpret_cast<const float4*>(x + (size_t)t * cols) + 2 * i;
            const float4 a = xv[0], b = xv[1];
            acc[t] += w0 * a.x + w1 * a.y + w2 * a.z + w3 * a.w + w4 * b.x + w5 * b.y + w6 * b.z + w7 * b.w;
        }
    }
    store_matvec_rows<NT>(acc, y, row, ldy);
}

#define MATVEC_F16_ARGS const uint4* __restrict__ w, const float* __restrict__ x, float* __restrict__ y, int rows, int cols, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_f16_1(MATVEC_F16_ARGS) { matvec_f16<1>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_f16_2(MATVEC_F16_ARGS) { matvec_f16<2>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_f16_4(MATVEC_F16_ARGS) { matvec_f16<4>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_f16_8(MATVEC_F16_ARGS) { matvec_f16<8>(w, x, y, rows, cols, ldy); }
