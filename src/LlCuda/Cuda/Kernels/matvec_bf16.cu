// matvec_bf16_1: y = W x for bf16 weights and fp32 activations (decode's matrix-vector
// product); matvec_bf16_2, _4, _8 apply each weight read to 2, 4, 8 tokens; dequant_bf16_f16
// converts W to fp16 for the prefill GEMM.
//
// Inputs:  w   [rows, cols] bf16 bits, row-major (GGUF's BF16 tensor unchanged), cols a
//              multiple of 8 so each row starts 16-byte aligned (32 in real models).
//          x   [NT, cols] fp32: token t at x + t * cols.
// Outputs: y   [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
//          dequant_bf16_f16: out [rows, cols] fp16 bits, row-major, 16-byte aligned; rounded to
//          nearest even (values beyond fp16's range become infinities, small ones subnormal or 0).
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Lane l takes
//          the 8-weight groups l, l + 32, ...: one 16-byte load of weights (the warp reads 512
//          consecutive bytes per step), widened by a shift, then per token two float4 loads of
//          x (from L1/L2) and 8 fp32 FMAs. Shuffle reduction; lane 0 writes y. Dequant: one
//          thread per 8 consecutive weights, 256-thread CTAs, one 16-byte load and store each.
// Shared memory: none.
// Bytes: 2 * rows * cols of weights (the roofline term, once per launch whatever NT), + 4 * NT
//        * cols of x per row from cache. FLOPs: 2 * NT * rows * cols. Dequant: 2 + 2 bytes
//        per weight.

#include "common.cuh"

template <int NT>
__device__ __forceinline__ void matvec_bf16(
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
        const float w0 = __uint_as_float(v.x << 16), w1 = __uint_as_float(v.x & 0xFFFF0000u);
        const float w2 = __uint_as_float(v.y << 16), w3 = __uint_as_float(v.y & 0xFFFF0000u);
        const float w4 = __uint_as_float(v.z << 16), w5 = __uint_as_float(v.z & 0xFFFF0000u);
        const float w6 = __uint_as_float(v.w << 16), w7 = __uint_as_float(v.w & 0xFFFF0000u);
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

#define MATVEC_BF16_ARGS const uint4* __restrict__ w, const float* __restrict__ x, float* __restrict__ y, int rows, int cols, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_bf16_1(MATVEC_BF16_ARGS) { matvec_bf16<1>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_bf16_2(MATVEC_BF16_ARGS) { matvec_bf16<2>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_bf16_4(MATVEC_BF16_ARGS) { matvec_bf16<4>(w, x, y, rows, cols, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_bf16_8(MATVEC_BF16_ARGS) { matvec_bf16<8>(w, x, y, rows, cols, ldy); }

extern "C" __global__ void __launch_bounds__(256) dequant_bf16_f16(
    const uint4* __restrict__ w, uint4* __restrict__ out, int rows, int cols)
{
    const size_t i = (size_t)blockIdx.x * 256 + threadIdx.x; // weights 8i .. 8i + 7
    if (i >= (size_t)rows * (cols / 8)) return;
    const uint4 v = w[i];
    const float f[8] = {
        __uint_as_float(v.x << 16), __uint_as_float(v.x & 0xFFFF0000u), __uint_as_float(v.y << 16), __uint_as_float(v.y & 0xFFFF0000u),
        __uint_as_float(v.z << 16), __uint_as_float(v.z & 0xFFFF0000u), __uint_as_float(v.w << 16), __uint_as_float(v.w & 0xFFFF0000u) };
    store_f16x8(f, out + i);
}
