// copy_f4: dst = src over n4 float4 elements, a grid-stride streaming copy. It does no
// arithmetic, so its time is the card's copy bandwidth: `llcuda selftest --device cuda`
// reports it as (bytes read + bytes written) / time.
//
// Inputs:  src [n4] float4 (16-byte elements), device memory, 16-byte aligned (cuMemAlloc
//              gives 256); n4 = bytes / 16 as unsigned 64-bit, a byte tail that is not a whole
//              float4 is the caller's to copy (cuMemcpyDtoD).
// Outputs: dst [n4] float4, 16-byte aligned, not overlapping src.
// Threads: 1-D grid of 1-D blocks; thread t = blockIdx.x * blockDim.x + threadIdx.x copies
//          elements t, t + stride, ... with stride = gridDim.x * blockDim.x, so any grid covers
//          any n4 and a warp moves 512 contiguous bytes per load (coalesced). The selftest
//          launches 8 blocks of 256 threads per SM: enough loads in flight to saturate HBM
//          without a tail of idle SMs.
// Shared memory: none.
// Bytes: reads 16 * n4, writes 16 * n4: time >= 32 * n4 / bandwidth (1 GiB each way on an
//        H100 at ~2.6 TB/s: ~0.8 ms). FLOPs: 0.

extern "C" __global__ void copy_f4(const float4* __restrict__ src, float4* __restrict__ dst, unsigned long long n4)
{
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; i < n4; i += stride)
        dst[i] = src[i];
}
