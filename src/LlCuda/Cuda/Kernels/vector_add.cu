// vector_add: c = a + b, element-wise, fp32. The smoke test of the toolchain: if this compiles,
// loads, launches and gives exact sums, NVRTC, the driver and our argument passing work.
//
// Inputs:  a [n] fp32 and b [n] fp32, device memory, contiguous; n as unsigned 64-bit.
// Outputs: c [n] fp32, contiguous; may alias a or b (each element is read before it is written).
// Threads: 1-D grid of 1-D blocks, one element per thread: i = blockIdx.x * blockDim.x +
//          threadIdx.x, threads with i >= n do nothing. Launch ceil(n / 256) blocks of 256.
// Shared memory: none.
// Bytes: reads 8n, writes 4n. FLOPs: n (1 per 12 bytes: memory-bound).

extern "C" __global__ void vector_add(const float* a, const float* b, float* c, unsigned long long n)
{
    const unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}
