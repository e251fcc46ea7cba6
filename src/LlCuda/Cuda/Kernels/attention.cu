// attention_partial: causal softmax(q k^T / sqrt(head_dim)) v over the paged F16 KV cache,
// split over the cached positions (flash-decoding), for decode and prefill alike (step 3 of the
// decode plan in docs/cuda.md). Two kernels: attention_partial (one CTA per token, query head
// and chunk of 256 positions) and attention_combine (one CTA per token: merges the chunks of
// every head).
//
// attention_partial
// Inputs:  q      [n, ldq] fp32 rotated queries, head h at columns h * head_dim .. +head_dim-1.
//          pos    [n] int32: token t attends to positions 0..pos[t] of its sequence.
//          tables [n, table_stride] int32: row t is the block table of token t's sequence;
//                 position p lives at cache row tables[t][p / block_size] * block_size +
//                 p % block_size (any block_size >= 1: blocks need not align with chunks).
//          kc,vc  this layer's cache [blocks, block_size, kv_dim] fp16 bits (rope_kv.cu writes
//                 it); query head h reads kv head h / group. head_dim % 8 == 0, head_dim <= 256,
//                 kv_dim % 8 == 0 (every key row starts on 16 bytes).
// Outputs: part_o  [n * n_head, chunks, head_dim] fp32: sum_j e^(s_j - m) v_j over the chunk;
//          part_ml [n * n_head, chunks] float2 (m, l): the chunk's largest score and
//          sum_j e^(s_j - m). Chunks past pos[t] are not written (the combine skips them).
// Threads: grid (n * n_head, chunks), 128 threads. First each thread looks up the cache rows of
//          positions k and k + 128 of the chunk (one table read and one division each, kept in
//          shared memory). Scores: thread k takes positions k and k + 128 (16-byte loads of its
//          key row); block max and sum by warp shuffles and shared partials; then thread d
//          accumulates output dims d, d + 128 over the chunk's values (a warp reads 64
//          consecutive bytes of a value row).
// Shared memory: q [256] + scores [256] fp32, cache rows [256] int32, 8 partials (3 KB).
// Bytes: per (token, head) 2 * 2 * head_dim * (pos + 1) of cache (L2-resident for the query
//        heads that share a kv head) + 4 * head_dim * (chunks + 1) + 4 * (pos + 1) of table
//        lookups (ceil((pos + 1) / block_size) distinct words, cached). FLOPs: 4 * head_dim *
//        (pos + 1).
//
// attention_combine
// Inputs:  part_o, part_ml as above; pos [n].
// Outputs: each that is not null: out [n, q_dim] fp32, outh [n, q_dim] fp16, q8 [n, q_dim] int8 +
//          ds [n, q_dim / 32] float2 (Q8_1 for the output projection's dp4a matvec).
//          q_dim = n_head * head_dim, a multiple of 32.
// Threads: one 256-thread CTA per token; thread k takes values k, k + 256, ... of the token's
//          heads (a warp owns 32 consecutive values: one Q8_1 block).
// Shared memory: none. Bytes: 4 * q_dim * chunks read per token. FLOPs: ~3 per value and chunk.

#include "common.cuh"

#define ATTN_CHUNK 256

extern "C" __global__ void __launch_bounds__(128) attention_partial(
    const float* __restrict__ q, int ldq, const int* __restrict__ pos,
    const int* __restrict__ tables, int table_stride, int block_size,
    const unsigned short* __restrict__ kc, const unsigned short* __restrict__ vc,
    float* __restrict__ part_o, float2* __restrict__ part_ml,
    int n_head, int group, int head_dim, int kv_dim, int chunks, float scale)
{
    __shared__ float qs[256];
    __shared__ float sc[ATTN_CHUNK];
    __shared__ int rows[ATTN_CHUNK]; // cache row of each position of the chunk
    __shared__ float red[8];
    const int bh = blockIdx.x, t = bh / n_head, h = bh - t * n_head, c = blockIdx.y;
    const int len = pos[t] + 1, start = c * ATTN_CHUNK;
    if (start >= len) return;
    const int count = min(ATTN_CHUNK, len - start);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int d = threadIdx.x; d < head_dim; d += 128) qs[d] = q[(size_t)t * ldq + h * head_dim + d] * scale;
    const int* table = tables + (size_t)t * table_stride;
    for (int j = threadIdx.x; j < count; j += 128)
    {
        const int p = start + j;
        rows[j] = table[p / block_size] * block_size + p % block_size;
    }
    __syncthreads();

    const size_t base = (size_t)(h / group) * head_dim;
    float m = __int_as_float(0xff800000); // -inf
    for (int j = threadIdx.x; j < count; j += 128)
    {
        const uint4* kr = reinterpret_cast<const uint4*>(kc + base + (size_t)rows[j] * kv_dim);
        float s = 0.0f;
        for (int v8 = 0; v8 < head_dim / 8; v8++)
        {
            const uint4 k = kr[v8];
            const unsigned w[4] = {k.x, k.y, k.z, k.w};
#pragma unroll
            for (int u = 0; u < 4; u++)
                s += qs[8 * v8 + 2 * u] * f16_to_f32((unsigned short)(w[u] & 0xFFFFu))
                   + qs[8 * v8 + 2 * u + 1] * f16_to_f32((unsigned short)(w[u] >> 16));
        }
        sc[j] = s;
        m = fmaxf(m, s);
    }
    m = warp_max(m);
    if (lane == 0) red[warp] = m;
    __syncthreads();
    m = fmaxf(fmaxf(red[0], red[1]), fmaxf(red[2], red[3]));
    float l = 0.0f;
    for (int j = threadIdx.x; j < count; j += 128)
    {
        const float e = __expf(sc[j] - m);
        sc[j] = e;
        l += e;
    }
    l = warp_sum(l);
    if (lane == 0) red[4 + warp] = l;
    __syncthreads(); // the exponentials in sc are complete too
    l = red[4] + red[5] + red[6] + red[7];

    const size_t out = (size_t)bh * chunks + c; // chunks == gridDim.y (the host passes both)
    for (int d = threadIdx.x; d < head_dim; d += 128)
    {
        const unsigned short* vr = vc + base + d;
        float acc = 0.0f;
        for (int j = 0; j < count; j++) acc += sc[j] * f16_to_f32(vr[(size_t)rows[j] * kv_dim]);
        part_o[out * head_dim + d] = acc;
    }
    if (threadIdx.x == 0) part_ml[out] = make_float2(m, l);
}

extern "C" __global__ void __launch_bounds__(256) attention_combine(
    const float* __restrict__ part_o, const float2* __restrict__ part_ml, const int* __restrict__ pos,
    float* __restrict__ out, unsigned short* __restrict__ outh, signed char* __restrict__ q8, float2* __restrict__ ds,
    int n_head, int head_dim, int chunks)
{
    const int t = blockIdx.x, q_dim = n_head * head_dim;
    const int used = (pos[t] + ATTN_CHUNK) / ATTN_CHUNK; // chunks holding positions 0..pos[t]
    for (int e = threadIdx.x; e < q_dim; e += 256)       // q_dim % 32 == 0: whole warps iterate together
    {
        const int h = e / head_dim, d = e - h * head_dim;
        const size_t bh = (size_t)t * n_head + h;
        float mx = __int_as_float(0xff800000);
        for (int c = 0; c < used; c++) mx = fmaxf(mx, part_ml[bh * chunks + c].x);
        float l = 0.0f, o = 0.0f;
        for (int c = 0; c < used; c++)
        {
            const float2 ml = part_ml[bh * chunks + c];
            const float f = __expf(ml.x - mx);
            l += f * ml.y;
            o += f * part_o[(bh * chunks + c) * head_dim + d];
        }
        const float v = o / l;
        const size_t at = (size_t)t * q_dim + e;
        if (out) out[at] = v;
        if (outh) outh[at] = f32_to_f16_bits(v);
        if (q8) store_q8_1_block(v, q8 + at, ds + at / 32);
    }
}
