// matvec_q6_k: y = W x for Q6_K weights (decode's matrix-vector product), dequantization fused.
//
// Inputs:  ql  [rows, supers] x 128 bytes and qh [rows, supers] x 64 bytes: GGUF's Q6_K low
//              4 bits and high 2 bits of each 256-weight super-block, unchanged;
//          sc  [rows, supers] x 16 int8 sub-block scales (16 weights each); d [rows, supers] fp16.
//              w = d * sc_s * (code - 32). GGUF's 210-byte super-block split in four arrays so
//              each lane's bytes are 8-byte aligned vectors.
//          xq  [supers * 256] int8, xds [supers * 8] float2: x as Q8_1 (quantize_q8_1.cu).
// Outputs: y   [rows] fp32.
// Threads: one warp per row, 4 rows per 128-thread CTA, grid = ceil(rows / 4). Eight lanes per
//          super-block, four super-blocks per warp step: lane g (0..7) takes half h = g / 4 and
//          l0 = 8 * (g % 4): 8 bytes of ql at l0 and l0 + 32, 8 of qh at l0, which hold 32 codes
//          (weights 128h + 32k + l0 .. +7 for k = 0..3); codes - 32 as signed bytes, 8 dp4a.
// Shared memory: none.
// Bytes: 210 * rows * supers of weights (+ x from cache). FLOPs: 2 * rows * cols int8 MACs.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(128) matvec_q6_k(
    const unsigned char* __restrict__ ql, const unsigned char* __restrict__ qh,
    const signed char* __restrict__ sc, const unsigned short* __restrict__ d,
    const signed char* __restrict__ xq, const float2* __restrict__ xds,
    float* __restrict__ y, int rows, int supers)
{
    const int row = blockIdx.x * 4 + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= rows) return;
    const int g = lane & 7, h = g >> 2, l0 = 8 * (g & 3);
    const size_t rowSupers = (size_t)row * supers;
    float acc = 0.0f;
#pragma unroll 2
    for (int sb = lane >> 3; sb < supers; sb += 4)
    {
        const size_t s = rowSupers + sb;
        const uint2 a = *reinterpret_cast<const uint2*>(ql + s * 128 + 64 * h + l0);      // weights k = 0 (low), 2 (high)
        const uint2 b = *reinterpret_cast<const uint2*>(ql + s * 128 + 64 * h + 32 + l0); // k = 1 (low), 3 (high)
        const uint2 hb = *reinterpret_cast<const uint2*>(qh + s * 64 + 32 * h + l0);
        const signed char* scales = sc + s * 16 + 8 * h + l0 / 16;
        const signed char* xs = xq + sb * 256 + 128 * h + l0;
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
            part += (float)(scales[2 * k] * sumi) * xds[sb * 8 + 4 * h + k].x;
        }
        acc += f16_to_f32(d[s]) * part;
    }
    acc = warp_sum(acc);
    if (lane == 0) y[row] = acc;
}
