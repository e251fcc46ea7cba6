// What fake_cuda.c (driver, NVRTC, cuBLAS and the selftest's kernels) and fake_forward.c (the
// forward pass's kernels) share: the launch's grid, fp16 conversions, the Q8_1 block writer and
// fake_forward.c's kernel table. Not NVIDIA code: written for these tests.
#pragma once

#include <stdint.h>
#include <string.h>

// An emulated kernel: run over the whole launch grid, arguments as 8-byte slots (pointers, and
// ints and floats in the low bytes), as cuLaunchKernel copied them.
typedef void (*FakeEmulation)(unsigned grid, unsigned block, const uint64_t *args);

// A kernel handle, what cuModuleGetFunction gives for fake_forward.c's kernels: name, emulation,
// argument count, and the block size the kernel's code assumes (its shared partials are sized
// for it; another size is refused at launch).
typedef struct { const char *name; FakeEmulation fn; int nargs; unsigned block; } FakeKernel;

typedef struct { unsigned x, y, z; } FakeDim3;

// gridDim of the launch being emulated (CUDA's built-in), set before every emulation runs: the
// kernels with a two-dimensional grid read y from it.
extern FakeDim3 fake_grid_dim;

// fake_forward.c's kernel of that name, or NULL.
const FakeKernel *fake_forward_kernel(const char *name);

// fn as one of fake_forward.c's kernel handles, or NULL when it is not one.
const FakeKernel *fake_forward_handle(const void *fn);

// fp16 bits to fp32, exact (every fp16 value is an fp32 value).
static inline float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) { float f = (float)man / 16777216.0f; return sign ? -f : f; } // subnormal: man * 2^-24
    bits = exp == 31 ? sign | 0x7F800000u | (man << 13) : sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// fp32 to fp16 bits rounded to nearest, ties to even, as cvt.rn.f16.f32 (common.cuh's
// f32_to_f16_bits): subnormal results below 2^-14, infinity from 65520 up, and NaN as the
// canonical 0x7FFF.
static inline uint16_t float_to_half(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) return 0x7FFF;
    if (ax >= 0x47800000u) return (uint16_t)(sign | 0x7C00);   // 2^16 and up (and infinity)
    uint32_t h, rem, halfway;
    if (ax >= 0x38800000u)
    {
        // Normal: rebias the exponent by 127 - 15 and drop 13 mantissa bits; a carry out of the
        // mantissa rightly bumps the exponent (65504 + half an ulp becomes infinity).
        h = (ax >> 13) - (112u << 10);
        rem = ax & 0x1FFF;
        halfway = 0x1000;
    }
    else
    {
        // Below 2^-14: a multiple of 2^-24. f = m * 2^(e - 150) with the implicit bit in m, so
        // the count of 2^-24 units is m >> (126 - e); under 2^-25 everything rounds to zero.
        uint32_t e = ax >> 23, m = (ax & 0x7FFFFF) | 0x800000;
        if (e < 102) return (uint16_t)sign;
        uint32_t shift = 126 - e;                              // 14..24
        h = m >> shift;
        rem = m & ((1u << shift) - 1);
        halfway = 1u << (shift - 1);
    }
    if (rem > halfway || (rem == halfway && (h & 1))) h++;
    return (uint16_t)(sign | h);
}

// One Q8_1 block from 32 values, as store_q8_1_block in common.cuh: codes to q, (d, d * sum) to
// ds[0..1], d = max|v| / 127, codes rounded to nearest even (rintf, as __float2int_rn).
static inline void q8_1_block(const float *v, signed char *q, float *ds)
{
    float amax = 0;
    for (int i = 0; i < 32; i++) { float m = v[i] < 0 ? -v[i] : v[i]; if (m > amax) amax = m; }
    float d = amax / 127.0f;
    int sum = 0;
    for (int i = 0; i < 32; i++)
    {
        int code = amax == 0 ? 0 : (int)__builtin_rintf(v[i] / d);
        q[i] = (signed char)code;
        sum += code;
    }
    ds[0] = d;
    ds[1] = d * (float)sum;
}
