// copy.cu: dst = src over n4 float4 elements, a grid-stride streaming copy. It does no
// arithmetic, so its time is the card's copy bandwidth: `llcuda selftest --device cuda`
// reports it as (bytes read + bytes written) / time.
//
// Inputs and outputs
//   src: [n4] float4 (16-byte elements), device memory, 16-byte aligned (cuMemAlloc gives 256)
//   dst: [n4] float4, device memory, 16-byte aligned, not overlapping src
//   n4:  element count (bytes / 16) as unsigned 64-bit; a byte tail that is not a whole
//        float4 is the caller's to copy (cuMemcpyDtoD)
//
// Thread mapping
//   1-D grid of 1-D blocks. Thread t = blockIdx.x * blockDim.x + threadIdx.x copies elements
//   t, t + stride, t + 2 * stride, ... with stride = gridDim.x * blockDim.x, so any grid size
//   covers any n4 and consecutive threads touch consecutive 16 bytes (each warp moves 512
//   contiguous bytes per load: fully coalesced). The selftest launches 256-thread blocks,
//   8 blocks per SM: enough loads in flight to saturate HBM without a tail of idle SMs.
//
// Shared memory
//   none.
//
// Bytes and FLOPs
//   reads 16 * n4 bytes, writes 16 * n4 bytes, 0 FLOPs: time >= 32 * n4 / bandwidth.

extern "C" __global__ void copy_f4(const float4* __restrict__ src, float4* __restrict__ dst, unsigned long long n4)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride)
        dst[i] = src[i];
}
