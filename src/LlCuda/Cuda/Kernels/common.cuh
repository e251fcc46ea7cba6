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
