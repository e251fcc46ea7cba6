// common.cuh: device helpers shared by the kernels. NVRTC compiles each .cu file alone and
// resolves no includes of ours, so KernelSources.Read pastes this file in place of the line
// that includes it by name (and the kernel cache key covers the pasted text).
#pragma once

// fp16 bits to fp32 with the conversion instruction itself: no cuda_fp16.h, which NVRTC 13.0
// on the H100 host does not carry (a host with only the runtime libraries has no toolkit
// headers either).
__device__ __forceinline__ float f16_to_f32(unsigned short h)
{
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

// The sum of v over the 32 lanes of a warp, in every lane.
__device__ __forceinline__ float warp_sum(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// The maximum of v over the 32 lanes of a warp, in every lane.
__device__ __forceinline__ float warp_max(float v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// The sum of an int over the 32 lanes of a warp, in every lane.
__device__ __forceinline__ int warp_sum_int(int v)
{
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

// One Q8_1 block from the warp's 32 values, one per lane (all 32 lanes must call it): the
// lane's code to *q, and lane 0 writes (d, d * sum of codes) to *ds, d = max|v| / 127 (0 and all
// codes 0 for an all-zero block), codes rounded to nearest even. The format quantize_q8_1.cu
// documents, shared by every kernel that feeds a dp4a matvec.
__device__ __forceinline__ void store_q8_1_block(float v, signed char* q, float2* ds)
{
    const float amax = warp_max(fabsf(v));
    const float d = amax / 127.0f;
    const int code = amax == 0.0f ? 0 : __float2int_rn(v / d);
    const int sum = warp_sum_int(code);
    *q = (signed char)code;
    if ((threadIdx.x & 31) == 0) *ds = make_float2(d, d * (float)sum);
}

// fp32 to fp16 bits, rounded to nearest even (cvt.rn.f16.f32; no cuda_fp16.h, as above).
__device__ __forceinline__ unsigned short f32_to_f16_bits(float f)
{
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

// bf16 bits to fp32 (exact: bf16 is the top half of an fp32).
__device__ __forceinline__ float bf16_to_f32(unsigned short b) { return __uint_as_float((unsigned)b << 16); }

// Eight fp32 values as eight fp16 (round to nearest even) in one 16-byte store: the dequant
// kernels' output, so each thread writes one aligned uint4 and a warp 512 consecutive bytes.
__device__ __forceinline__ void store_f16x8(const float (&v)[8], uint4* out)
{
    unsigned u[4];
#pragma unroll
    for (int i = 0; i < 4; i++) u[i] = (unsigned)f32_to_f16_bits(v[2 * i]) | ((unsigned)f32_to_f16_bits(v[2 * i + 1]) << 16);
    *out = make_uint4(u[0], u[1], u[2], u[3]);
}

// The warp-wide sums of a matvec's NT per-lane accumulators, lane 0 writing token t's to
// y[t * ldy + row] (all 32 lanes must call it).
template <int NT>
__device__ __forceinline__ void store_matvec_rows(const float (&acc)[NT], float* y, int row, int ldy)
{
#pragma unroll
    for (int t = 0; t < NT; t++)
    {
        const float v = warp_sum(acc[t]);
        if ((threadIdx.x & 31) == 0) y[(size_t)t * ldy + row] = v;
    }
}

// Bits 0..3 of n moved to bit 4 of bytes 0..3 (a Q5 fifth bit over its four codes' nibbles):
// the multiply copies n to bit offsets 0, 7, 14, 21, which do not overlap, so bit i lands on
// bit 8i and nothing else does.
__device__ __forceinline__ unsigned bits4_to_byte_bit4(unsigned n)
{
    return ((n & 0xFu) * 0x00204081u & 0x01010101u) << 4;
}

// One 32-value block's integer dot product: weight codes lo (bytes of codes 0..15) and hi
// (16..31) against a token's Q8_1 codes x0 (0..15) and x1 (16..31). Two dp4a chains: one chain
// of 8 would make each block wait on 8 dependent dp4a (splitting it gave Q4_0 +7-10 points of
// copy bandwidth on the H100, docs/performance.md). The legacy 32-weight types share it.
__device__ __forceinline__ int dot_block32(int4 lo, int4 hi, int4 x0, int4 x1)
{
    int a = 0, b = 0;
    a = __dp4a(lo.x, x0.x, a);
    b = __dp4a(hi.x, x1.x, b);
    a = __dp4a(lo.y, x0.y, a);
    b = __dp4a(hi.y, x1.y, b);
    a = __dp4a(lo.z, x0.z, a);
    b = __dp4a(hi.z, x1.z, b);
    a = __dp4a(lo.w, x0.w, a);
    b = __dp4a(hi.w, x1.w, b);
    return a + b;
}

// A Q4 block's 16 bytes split into its codes 0..15 (low nibbles) and 16..31 (high nibbles).
__device__ __forceinline__ int4 low_nibbles(uint4 q)
{
    return make_int4((int)(q.x & 0x0F0F0F0Fu), (int)(q.y & 0x0F0F0F0Fu), (int)(q.z & 0x0F0F0F0Fu), (int)(q.w & 0x0F0F0F0Fu));
}
__device__ __forceinline__ int4 high_nibbles(uint4 q)
{
    return make_int4((int)((q.x >> 4) & 0x0F0F0F0Fu), (int)((q.y >> 4) & 0x0F0F0F0Fu), (int)((q.z >> 4) & 0x0F0F0F0Fu), (int)((q.w >> 4) & 0x0F0F0F0Fu));
}
