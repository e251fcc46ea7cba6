// matvec_q6_k_1: y = W x for Q6_K weights (decode's matrix-vector product), dequantization
// fused; matvec_q6_k_2, _4, _8 apply each weight read to 2, 4, 8 tokens; dequant_q6_k_f16
// expands W to fp16 for the prefill GEMM.
//
// Inputs:  ql  [rows, supers] x 128 bytes and qh [rows, supers] x 64 bytes: GGUF's Q6_K low
//              4 bits and high 2 bits of each 256-weight super-block, unchanged;
//          sc  [rows, supers] x 16 int8 sub-block scales (16 weights each); d [rows, supers] fp16.
//              w = d * sc_s * (code - 32). GGUF's 210-byte super-block split in four arrays so
//              each lane's bytes are 8-byte aligned vectors.
//          xq  [NT, supers * 256] int8, xds [NT, supers * 8] float2: NT tokens' x as Q8_1
//              (quantize_q8_1.cu), token t at xq + t * cols, xds + t * supers * 8.
// Outputs: y   [NT, ldy] fp32: y[t * ldy + row] for row < rows (ldy >= rows; the rest untouched).
//          dequant_q6_k_f16: out [rows, supers * 256] fp16 bits, row-major, 16-byte aligned.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Eight lanes per
//          super-block, four super-blocks per warp step: lane g (0..7) takes half h = g / 4 and
//          l0 = 8 * (g % 4): 8 bytes of ql at l0 and l0 + 32, 8 of qh at l0, which hold 32 codes
//          (weights 128h + 32k + l0 .. +7 for k = 0..3); codes - 32 as signed bytes, then per
//          token 8 dp4a. Dequant: one thread per 8 consecutive weights, 256-thread CTAs, one
//          16-byte store each.
// Shared memory: none.
// Bytes: 210 * rows * supers of weights (once per launch whatever NT, + x from cache).
//        FLOPs: 2 * NT * rows * cols int8 MACs. Dequant: reads 0.82 and writes 2 bytes per weight.

#include "common.cuh"

template <int NT>
__device__ __forceinline__ void matvec_q6_k(
    const unsigned char* __restrict__ ql, const unsigned char* __restrict__ qh,
    const signed char* __restrict__ sc, const unsigned short* __restrict__ d,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int supers, int ldy)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int g = lane & 7, h = g >> 2, l0 = 8 * (g & 3);
    const size_t rowSupers = (size_t)row * supers;
    const size_t cols = (size_t)supers * 256;
    float acc[NT];
#pragma unroll
    for (int t = 0; t < NT; t++) acc[t] = 0.0f;
#pragma unroll (NT == 1 ? 2 : 1)
    for (int sb = lane >> 3; sb < supers; sb += 4)
    {
        const size_t s = rowSupers + sb;
        const uint2 a = *reinterpret_cast<const uint2*>(ql + s * 128 + 64 * h + l0);      // weights k = 0 (low), 2 (high)
        const uint2 b = *reinterpret_cast<const uint2*>(ql + s * 128 + 64 * h + 32 + l0); // k = 1 (low), 3 (high)
        const uint2 hb = *reinterpret_cast<const uint2*>(qh + s * 64 + 32 * h + l0);
        const signed char* scales = sc + s * 16 + 8 * h + l0 / 16;
#pragma unroll
        for (int t = 0; t < NT; t++)
        {
            const signed char* xs = xq + t * cols + sb * 256 + 128 * h + l0;
            const float2* st = xds + t * (size_t)supers * 8;
            float part = 0.0f;
#pragma unroll
            for (int k = 0; k < 4; k++)
            {
                // Codes of weights 128h + 32k + l0 .. +7: low 4 bits from a (k even) or b (k odd),
                // nibble k / 2; high 2 bits from hb at bit 2k.
                const uint2 src = (k & 1) ? b : a;
                const int shift = (k >> 1) * 4;
                const unsigned lo0 = (src.x >> shift) & 0x0F0F0F0Fu, lo1 = (src.y >> shift) & 0x0F0F0F0Fu;
                const unsigned hi0 = ((hb.x >> (2 * k)) & 0x03030303u) << 4, hi1 = ((hb.y >> (2 * k)) & 0x03030303u) << 4;
                const int c0 = (int)__vsub4(lo0 | hi0, 0x20202020u), c1 = (int)__vsub4(lo1 | hi1, 0x20202020u);
                const int2 xv = *reinterpret_cast<const int2*>(xs + 32 * k);
                int sumi = __dp4a(c0, xv.x, 0);
                sumi = __dp4a(c1, xv.y, sumi);
                part += (float)(scales[2 * k] * sumi) * st[sb * 8 + 4 * h + k].x;
            }
            acc[t] += f16_to_f32(d[s]) * part;
        }
    }
    store_matvec_rows<NT>(acc, y, row, ldy);
}

#define MATVEC_Q6_K_ARGS                                                             \
    const unsigned char* __restrict__ ql, const unsigned char* __restrict__ qh,      \
    const signed char* __restrict__ sc, const unsigned short* __restrict__ d,        \
    const signed char* __restrict__ xq, const float2* __restrict__ xds,              \
    float* __restrict__ y, int rows, int supers, int ldy
extern "C" __global__ void __launch_bounds__(128) matvec_q6_k_1(MATVEC_Q6_K_ARGS) { matvec_q6_k<1>(ql, qh, sc, d, xq, xds, y, rows, supers, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q6_k_2(MATVEC_Q6_K_ARGS) { matvec_q6_k<2>(ql, qh, sc, d, xq, xds, y, rows, supers, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q6_k_4(MATVEC_Q6_K_ARGS) { matvec_q6_k<4>(ql, qh, sc, d, xq, xds, y, rows, supers, ldy); }
extern "C" __global__ void __launch_bounds__(128) matvec_q6_k_8(MATVEC_Q6_K_ARGS) { matvec_q6_k<8>(ql, qh, sc, d, xq, xds, y, rows, supers, ldy); }

extern "C" __global__ void __launch_bounds__(256) dequant_q6_k_f16(
    const unsigned char* __restrict__ ql, const unsigned char* __restrict__ qh,
    const signed char* __restrict__ sc, const unsigned short* __restrict__ d,
    uint4* __restrict__ out, int rows, int supers)
{
    const size_t i = (size_t)blockIdx.x * 256 + threadIdx.x; // weights 8i .. 8i + 7
    if (i >= (size_t)rows * supers * 32) return;
    const size_t s = i >> 5;
    const int k = 8 * (int)(i & 31);                   // first weight within the super-block
    const int h = k >> 7, kq = (k >> 5) & 3, l = k & 31; // weight 128h + 32kq + l
    // Low 4 bits: ql byte 64h + 32 * (kq & 1) + l, nibble kq / 2; high 2 bits: qh byte 32h + l, bits 2kq.
    const uint2 lo = *reinterpret_cast<const uint2*>(ql + s * 128 + 64 * h + 32 * (kq & 1) + l);
    const uint2 hi = *reinterpret_cast<const uint2*>(qh + s * 64 + 32 * h + l);
    // Host order (Dequantize.Q6_K): (d * sc) * (q - 32), each product rounded.
    const float ds = __fmul_rn(f16_to_f32(d[s]), (float)sc[s * 16 + 8 * h + l / 16 + 2 * kq]);
    float v[8];
#pragma unroll
    for (int e = 0; e < 8; e++)
    {
        const unsigned lw = e < 4 ? lo.x : lo.y, hw = e < 4 ? hi.x : hi.y;
        const int code = (int)(((lw >> (8 * (e & 3) + 4 * (kq >> 1))) & 0xF) | (((hw >> (8 * (e & 3) + 2 * kq)) & 3) << 4));
        v[e] = __fmul_rn(ds, (float)(code - 32));
    }
    store_f16x8(v, out + i);
}
