// matvec_f32_1: y = W x for fp32 weights and activations (decode's matrix-vector product);
// matvec_f32_2, _4, _8 apply each weight read to 2, 4, 8 tokens; dequant_f32_f16 converts W
// to fp16 for the prefill GEMM.
//
// Inputs:  w   [rows, cols] fp32, row-major (GGUF's F32 tensor unchanged), cols a multiple of
//              4 so each row starts 16-byte aligned (32 in real models: 128-byte rows).
//          x   [NT, cols] fp32: token t at x + t * cols.
// Outputs: y   [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
//          dequant_f32_f16: out [rows, cols] fp16 bits, row-major, 16-byte aligned; rounded to
//          nearest even (values beyond fp16's range become infinities, small ones subnormal or 0).
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          the 4-weight groups l, l + 32, ...: one 16-byte load of weights (the warp reads 512
//          consecutive bytes per step), then per token one float4 load of x (from L1/L2) and
//          4 FMAs. Shuffle reduction; lane 0 writes y. Dequant: one thread per 8 consecutive
//          weights, 256-thread CTAs, two 16-byte loads and one 16-byte store each.
// Shared memory: none.
// Bytes: 4 * rows * cols of weights (the roofline term, once per launch whatever NT), + 4 * NT
//        * cols of x per row from cache. FLOPs: 2 * NT * rows * cols. Dequant: 4 + 2 bytes
//        per weight.

#include "common.cuh"

template <int NT>
__device__ __forceinline__ void matvec_f32(
    const float4* __restrict__ w, const float* __restrict__ x,
    float* __restrict__ y, int rows, int cols, int ldy)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int groups = cols / 4;
    const float4* wr = w + (size_t)row * groups;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
#pragma unroll (NT == 1 ? 4 : 2)
    for (int i = lane; i < groups; i += 32)
    {
        const float4 v = wr[i];
#pragma unroll
        for (int t = 0; t < NT; t++)
        {
            const float4 a = reinterpret_cast<const float4*>(x + (size_t)t * cols)[i];
            acc[t] += v.x * a.x + v.y * a.y + v.z * a.z + v.w * a.w;
        }
    }
    store_matvec_rows<NT>(acc, y, row, ldy);
}

#define MATVEC_F32_ARGS const float4* __restrict__ w, const float* __restrict__ x, float* __restrict__ y, int rows, int cols, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_f32_1(MATVEC_F32_ARGS) { matvec_f32<1>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_f32_2(MATVEC_F32_ARGS) { matvec_f32<2>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_f32_4(MATVEC_F32_ARGS) { matvec_f32<4>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_f32_8(MATVEC_F32_ARGS) { matvec_f32<8>(w, x, y, rows, cols, ldy); }

extern "C" __global__ void __launch_bounds__(256) dequant_f32_f16(
    const float4* __restrict__ w, uint4* __restrict__ out, int rows, int cols)
{
    const size_t i = (size_t)blockIdx.x * 256 + threadIdx.x; // weights 8i .. 8i + 7
    if (i >= (size_t)rows * (cols / 8)) return;
    const float4 a = w[2 * i], b = w[2 * i + 1];
    const float f[8] = { a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w };
    store_f16x8(f, out + i);
}
