// The forward pass's kernels for the fake CUDA driver (fake_cuda.c): residual + RMSNorm,
// SwiGLU, RoPE + KV-cache write, split-K attention and its combine, argmax. Each is emulated
// from what its .cu header in src/LlCuda/Cuda/Kernels specifies, over the launch grid it is
// given (blocks outside the grid do not run, as on a GPU, so a grid that does not cover the
// work shows up as wrong results), and following the kernel's code where the header leaves a
// detail open (which rows an add updates, which chunk slot a partial result lands in).
// Arithmetic is fp32 in the kernel's order where it matters; reductions run sequentially, so
// results match a GPU to rounding, not bit for bit. Not NVIDIA code: written for these tests.

#include <math.h>

#include "fake_cuda.h"

FakeDim3 fake_grid_dim = { 1, 1, 1 };

static void *ptr(uint64_t a) { return (void *)(uintptr_t)a; }
static int arg_int(uint64_t a) { return (int)(uint32_t)a; }
static float arg_float(uint64_t a)
{
    uint32_t bits = (uint32_t)a;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

#define ATTN_CHUNK 256 // positions per attention_partial chunk (attention.cu)

// rmsnorm_q8_1(x, add, w, rowmap, q, ds, xf, xh, dim, eps); grid = output rows, 256 threads.
// As the kernel does, only the rows rowmap gathers get add folded in.
static void rmsnorm_q8_1(unsigned grid, unsigned block, const uint64_t *a)
{
    (void)block;
    float *x = ptr(a[0]);
    const float *add = ptr(a[1]), *w = ptr(a[2]);
    const int *rowmap = ptr(a[3]);
    signed char *q = ptr(a[4]);
    float *ds = ptr(a[5]), *xf = ptr(a[6]);
    uint16_t *xh = ptr(a[7]);
    int dim = arg_int(a[8]);
    float eps = arg_float(a[9]);
    for (unsigned out = 0; out < grid; out++)
    {
        int row = rowmap ? rowmap[out] : (int)out;
        float *xr = x + (size_t)row * dim, ss = 0;
        for (int i = 0; i < dim; i++)
        {
            if (add) xr[i] += add[(size_t)row * dim + i];
            ss += xr[i] * xr[i];
        }
        float scale = 1.0f / sqrtf(ss / (float)dim + eps);
        size_t o = (size_t)out * dim;
        // With q, values are written block by block (dim % 32 == 0 is the header's precondition).
        int count = q ? dim / 32 * 32 : dim;
        float v[32];
        for (int i = 0; i < count; i++)
        {
            float y = xr[i] * scale * w[i];
            if (xf) xf[o + i] = y;
            if (xh) xh[o + i] = float_to_half(y);
            v[i % 32] = y;
            if (q && i % 32 == 31) q8_1_block(v, q + o + i - 31, ds + 2 * ((size_t)out * (dim / 32) + i / 32));
        }
    }
}

// swiglu_q8_1(gu, q, ds, xf, xh, n, ffn); one thread per value, grid = ceil(n * ffn / 128).
static void swiglu_q8_1(unsigned grid, unsigned block, const uint64_t *a)
{
    const float *gu = ptr(a[0]);
    signed char *q = ptr(a[1]);
    float *ds = ptr(a[2]), *xf = ptr(a[3]);
    uint16_t *xh = ptr(a[4]);
    int n = arg_int(a[5]), ffn = arg_int(a[6]);
    size_t threads = (size_t)grid * block, values = (size_t)n * ffn;
    size_t count = threads < values ? threads : values;
    float v[32];
    for (size_t i = 0; i < count; i++)
    {
        size_t t = i / ffn, col = i - t * ffn;
        float g = gu[t * 2 * ffn + col], u = gu[t * 2 * ffn + ffn + col];
        float y = g / (1.0f + expf(-g)) * u;
        if (xf) xf[i] = y;
        if (xh) xh[i] = float_to_half(y);
        v[i % 32] = y;
        // A warp owns block i / 32 (ffn % 32 == 0 is the header's precondition with q).
        if (q && i % 32 == 31) q8_1_block(v, q + i - 31, ds + 2 * (i / 32));
    }
}

// The cache row of position p through a token's block table row (rope_kv.cu, attention.cu).
static size_t cache_row(const int *table, int block_size, int p) { return (size_t)table[p / block_size] * block_size + p % block_size; }

// rope_kv(qkv, ldqkv, pos, tables, table_stride, block_size, freqs, rot_half, kc, vc, q_dim,
// kv_dim, head_dim); grid (ceil(pairs / 128), n), 128 threads: thread p of token blockIdx.y
// takes pair p; token t's key and value go to the cache row its table row gives for pos[t].
static void rope_kv(unsigned grid, unsigned block, const uint64_t *a)
{
    float *qkv = ptr(a[0]);
    int ldqkv = arg_int(a[1]);
    const int *pos = ptr(a[2]), *tables = ptr(a[3]);
    int table_stride = arg_int(a[4]), block_size = arg_int(a[5]);
    const float *freqs = ptr(a[6]);
    int rot_half = arg_int(a[7]);
    uint16_t *kc = ptr(a[8]), *vc = ptr(a[9]);
    int q_dim = arg_int(a[10]), kv_dim = arg_int(a[11]), head_dim = arg_int(a[12]);
    int qp = q_dim / 2, kp = kv_dim / 2;
    long threads = (long)grid * block, pairs = qp + 2L * kp;
    for (unsigned t = 0; t < fake_grid_dim.y; t++)
    {
        float *row = qkv + (size_t)t * ldqkv;
        size_t cache_at = cache_row(tables + (size_t)t * table_stride, block_size, pos[t]) * kv_dim;
        for (long p = 0; p < threads && p < pairs; p++)
        {
            if (p >= qp + kp)
            {
                size_t e = 2 * (size_t)(p - qp - kp);
                vc[cache_at + e] = float_to_half(row[q_dim + kv_dim + e]);
                vc[cache_at + e + 1] = float_to_half(row[q_dim + kv_dim + e + 1]);
                continue;
            }
            int is_q = p < qp;
            int e = 2 * (int)(is_q ? p : p - qp), i = (e % head_dim) / 2;
            float *v = row + (is_q ? 0 : q_dim) + e, x0 = v[0], x1 = v[1];
            if (i < rot_half)
            {
                float angle = (float)pos[t] * freqs[i], s = sinf(angle), c = cosf(angle);
                float r0 = x0 * c - x1 * s, r1 = x0 * s + x1 * c;
                x0 = r0;
                x1 = r1;
            }
            if (is_q) { v[0] = x0; v[1] = x1; }
            else
            {
                kc[cache_at + e] = float_to_half(x0);
                kc[cache_at + e + 1] = float_to_half(x1);
            }
        }
    }
}

// attention_partial(q, ldq, pos, tables, table_stride, block_size, kc, vc, part_o, part_ml,
// n_head, group, head_dim, kv_dim, chunks, scale); grid (n * n_head, chunks), 128 threads.
// Position p of token t is read from the cache row its table row gives. As the kernel, the slot
// of chunk c of (token, head) bh is bh * gridDim.y + c: the chunks argument is not read.
static void attention_partial(unsigned grid, unsigned block, const uint64_t *a)
{
    (void)block;
    const float *q = ptr(a[0]);
    int ldq = arg_int(a[1]);
    const int *pos = ptr(a[2]), *tables = ptr(a[3]);
    int table_stride = arg_int(a[4]), block_size = arg_int(a[5]);
    const uint16_t *kc = ptr(a[6]), *vc = ptr(a[7]);
    float *part_o = ptr(a[8]), *part_ml = ptr(a[9]);
    int n_head = arg_int(a[10]), group = arg_int(a[11]), head_dim = arg_int(a[12]), kv_dim = arg_int(a[13]);
    float scale = arg_float(a[15]);
    float qs[256], sc[ATTN_CHUNK];
    size_t rows[ATTN_CHUNK];
    for (unsigned bh = 0; bh < grid; bh++)
        for (unsigned c = 0; c < fake_grid_dim.y; c++)
        {
            int t = (int)bh / n_head, h = (int)bh - t * n_head;
            int len = pos[t] + 1, start = (int)c * ATTN_CHUNK;
            if (start >= len) continue;
            int count = len - start < ATTN_CHUNK ? len - start : ATTN_CHUNK;
            for (int d = 0; d < head_dim; d++) qs[d] = q[(size_t)t * ldq + h * head_dim + d] * scale;
            for (int j = 0; j < count; j++) rows[j] = cache_row(tables + (size_t)t * table_stride, block_size, start + j);
            size_t base = (size_t)(h / group) * head_dim;
            float m = -INFINITY;
            for (int j = 0; j < count; j++)
            {
                const uint16_t *kr = kc + base + rows[j] * kv_dim;
                float s = 0;
                for (int d = 0; d < head_dim; d += 2) s += qs[d] * half_to_float(kr[d]) + qs[d + 1] * half_to_float(kr[d + 1]);
                sc[j] = s;
                if (s > m) m = s;
            }
            float l = 0;
            for (int j = 0; j < count; j++) { sc[j] = expf(sc[j] - m); l += sc[j]; }
            size_t out = (size_t)bh * fake_grid_dim.y + c;
            for (int d = 0; d < head_dim; d++)
            {
                const uint16_t *vr = vc + base + d;
                float acc = 0;
                for (int j = 0; j < count; j++) acc += sc[j] * half_to_float(vr[rows[j] * kv_dim]);
                part_o[out * head_dim + d] = acc;
            }
            part_ml[2 * out] = m;
            part_ml[2 * out + 1] = l;
        }
}

// attention_combine(part_o, part_ml, pos, out, outh, q8, ds, n_head, head_dim, chunks); one
// 256-thread CTA per token: merges the chunks holding positions 0..pos[t] of every head.
static void attention_combine(unsigned grid, unsigned block, const uint64_t *a)
{
    (void)block;
    const float *part_o = ptr(a[0]), *part_ml = ptr(a[1]);
    const int *pos = ptr(a[2]);
    float *out = ptr(a[3]);
    uint16_t *outh = ptr(a[4]);
    signed char *q8 = ptr(a[5]);
    float *ds = ptr(a[6]);
    int n_head = arg_int(a[7]), head_dim = arg_int(a[8]), chunks = arg_int(a[9]);
    int q_dim = n_head * head_dim;
    float v[32];
    for (unsigned t = 0; t < grid; t++)
    {
        int used = (pos[t] + ATTN_CHUNK) / ATTN_CHUNK;
        for (int e = 0; e < q_dim; e++)
        {
            int h = e / head_dim, d = e - h * head_dim;
            size_t bh = (size_t)t * n_head + h;
            float mx = -INFINITY, l = 0, o = 0;
            for (int c = 0; c < used; c++) if (part_ml[2 * (bh * chunks + c)] > mx) mx = part_ml[2 * (bh * chunks + c)];
            for (int c = 0; c < used; c++)
            {
                float f = expf(part_ml[2 * (bh * chunks + c)] - mx);
                l += f * part_ml[2 * (bh * chunks + c) + 1];
                o += f * part_o[(bh * chunks + c) * head_dim + d];
            }
            float y = o / l;
            size_t at = (size_t)t * q_dim + e;
            if (out) out[at] = y;
            if (outh) outh[at] = float_to_half(y);
            v[e % 32] = y;
            // q_dim % 32 == 0 (the header's precondition): block at / 32 is the warp's 32 values.
            if (q8 && e % 32 == 31) q8_1_block(v, q8 + at - 31, ds + 2 * (at / 32));
        }
    }
}

// argmax(logits, ids, vocab); one 1024-thread CTA per row. A scan in index order keeps the
// lowest index among equal maxima, as the kernel's (value, index) reduction does; NaN
// compares false, so it never wins, and a row with nothing above -inf gives index 0.
static void argmax(unsigned grid, unsigned block, const uint64_t *a)
{
    (void)block;
    const float *logits = ptr(a[0]);
    int *ids = ptr(a[1]);
    int vocab = arg_int(a[2]);
    for (unsigned r = 0; r < grid; r++)
    {
        const float *row = logits + (size_t)r * vocab;
        float best = -INFINITY;
        int at = 0x7FFFFFFF;
        for (int k = 0; k < vocab; k++)
            if (row[k] > best || (row[k] == best && k < at)) { best = row[k]; at = k; }
        ids[r] = at == 0x7FFFFFFF ? 0 : at;
    }
}

static const FakeKernel kernels[] = {
    { "rmsnorm_q8_1", rmsnorm_q8_1, 10, 256 },
    { "swiglu_q8_1", swiglu_q8_1, 7, 128 },
    { "rope_kv", rope_kv, 13, 128 },
    { "attention_partial", attention_partial, 16, 128 },
    { "attention_combine", attention_combine, 10, 256 },
    { "argmax", argmax, 3, 1024 },
};
enum { KERNELS = sizeof kernels / sizeof kernels[0] };

const FakeKernel *fake_forward_kernel(const char *name)
{
    for (int i = 0; i < KERNELS; i++)
        if (strcmp(name, kernels[i].name) == 0) return &kernels[i];
    return NULL;
}

const FakeKernel *fake_forward_handle(const void *fn)
{
    for (int i = 0; i < KERNELS; i++)
        if (fn == &kernels[i]) return &kernels[i];
    return NULL;
}
