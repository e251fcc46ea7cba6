// vector_add.cu: c = a + b, element-wise, fp32. The smoke test of the toolchain: if this
// compiles, loads, launches and gives exact sums, NVRTC, the driver and our argument passing work.
//
// Inputs and outputs
//   a: [n] float, device memory, contiguous
//   b: [n] float, device memory, contiguous
//   c: [n] float, device memory, contiguous; may alias a or b (each element is read before written)
//   n: element count, unsigned 64-bit
//
// Thread mapping
//   1-D grid of 1-D blocks, one element per thread: i = blockIdx.x * blockDim.x + threadIdx.x,
//   threads with i >= n do nothing. Launch ceil(n / 256) blocks of 256 threads.
//
// Shared memory
//   none.
//
// Bytes and FLOPs
//   reads 8 * n bytes, writes 4 * n bytes, n FLOPs: 1 FLOP per 12 bytes, memory bound.

extern "C" __global__ void vector_add(const float* a, const float* b, float* c, unsigned long long n)
{
    const unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        c[i] = a[i] + b[i];
}
