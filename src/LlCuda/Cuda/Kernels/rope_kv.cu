// rope_kv: rotary position embedding of each token's query and key heads, and the write of its
// key and value into the paged F16 KV cache, in one pass (step 2 of the decode plan in
// docs/cuda.md).
//
// Inputs:  qkv    [n, ldqkv] fp32: per token q [n_head * head_dim], then k [n_kv * head_dim],
//                 then v [n_kv * head_dim] (one matvec over the concatenated [q; k; v] rows
//                 writes them so).
//          pos    [n] int32 position of each token in its sequence.
//          tables [n, table_stride] int32: row t is the block table of token t's sequence
//                 (physical cache blocks in position order, padded to table_stride =
//                 ceil(ctx / block_size)); only entry pos[t] / block_size is read.
//          freqs  [n_rot / 2] fp32: pair i of every head turns by pos * freqs[i] (base^(-2i/n_rot),
//                 scaled); pairs at or past n_rot / 2 are not rotated (partial rotary).
// Outputs: qkv's q part rotated in place; kc, vc: this layer's cache [blocks, block_size, kv_dim]
//          fp16 bits, kv_dim = n_kv * head_dim: the rotated key and the value of token t written
//          at cache row tables[t][pos[t] / block_size] * block_size + pos[t] % block_size
//          (blocks * block_size < 2^31, which the host checks). Pairs are llama.cpp's "normal"
//          ordering (2i, 2i + 1), which Llama GGUFs are permuted for.
// Threads: one thread per (token, element pair): grid = (ceil(pairs / 128), n), 128 threads,
//          pairs = (q_dim + 2 * kv_dim) / 2; pair p < q_dim / 2 is a query pair, then key pairs,
//          then value pairs (copied, not rotated).
// Shared memory: none.
// Bytes: per token 4 * (q_dim + 2 kv_dim) read, 4 * q_dim + 4 * kv_dim written (2 * 2 * kv_dim
//        into the cache), 4 of block table. FLOPs: 6 per rotated pair + one sincos.

#include "common.cuh"

extern "C" __global__ void __launch_bounds__(128) rope_kv(
    float* __restrict__ qkv, int ldqkv, const int* __restrict__ pos,
    const int* __restrict__ tables, int table_stride, int block_size,
    const float* __restrict__ freqs, int rot_half,
    unsigned short* __restrict__ kc, unsigned short* __restrict__ vc,
    int q_dim, int kv_dim, int head_dim)
{
    const int t = blockIdx.y;
    const int p = blockIdx.x * blockDim.x + threadIdx.x;
    const int qp = q_dim / 2, kp = kv_dim / 2;
    if (p >= qp + 2 * kp) return;
    float* row = qkv + (size_t)t * ldqkv;
    const int at = pos[t];
    const int cache_row = tables[(size_t)t * table_stride + at / block_size] * block_size + at % block_size;
    const size_t cache_at = (size_t)cache_row * kv_dim;
    if (p >= qp + kp)
    {
        const int e = 2 * (p - qp - kp);
        vc[cache_at + e] = f32_to_f16_bits(row[q_dim + kv_dim + e]);
        vc[cache_at + e + 1] = f32_to_f16_bits(row[q_dim + kv_dim + e + 1]);
        return;
    }
    const bool is_q = p < qp;
    const int e = 2 * (is_q ? p : p - qp);          // element within q or k
    const int i = (e % head_dim) / 2;               // pair index within the head
    float* v = row + (is_q ? 0 : q_dim) + e;
    float x0 = v[0], x1 = v[1];
    if (i < rot_half)
    {
        float s, c;
        sincosf((float)at * freqs[i], &s, &c);      // full-precision: the angle reaches thousands of radians
        const float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
        x0 = r0;
        x1 = r1;
    }
    if (is_q) { v[0] = x0; v[1] = x1; }
    else
    {
        kc[cache_at + e] = f32_to_f16_bits(x0);
        kc[cache_at + e + 1] = f32_to_f16_bits(x1);
    }
}
