// A stand-in for libcuda.so.1, libnvrtc.so.13 and libcublas.so.13 that runs on the CPU, so the
// tests can drive llcuda's whole CUDA host path (library probing under NativeAOT, every
// signature we import, argument marshalling, graph capture, the selftest) on machines
// without a GPU. "Device" memory is host memory; the two known kernels (vector_add, copy_f4)
// are emulated thread by thread over the launch grid, so a launch that does not cover its
// elements fails the selftest as it would on a GPU. The forward pass's kernels are in
// fake_forward.c. Not NVIDIA code: written for these tests from the documented C signatures.
//
// Environment: FAKE_CUDA_FREE_MIB (default 600) sets the free memory reported;
// FAKE_CUDA_FAIL_LAUNCH=1 makes every launch fail with CUDA_ERROR_ILLEGAL_ADDRESS (700);
// FAKE_CUDA_TRACE_CAPTURE=1 prints "fake-cuda: captured HtoD N bytes" to stderr for each
// host-to-device copy a graph capture records (what every replay of it will copy).
// At exit it prints "fake-cuda: N ... leaked" to stderr for anything not released.

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_cuda.h"

typedef unsigned long long CUdeviceptr;
typedef int CUresult;

static long live_blas;
static long live_allocs, live_streams, live_events, live_modules, live_graphs, live_execs, live_host, ctx_refs;
static char fake_context;

__attribute__((destructor)) static void report_leaks(void)
{
    if (live_allocs) fprintf(stderr, "fake-cuda: %ld device allocations leaked\n", live_allocs);
    if (live_host) fprintf(stderr, "fake-cuda: %ld pinned host allocations leaked\n", live_host);
    if (live_streams) fprintf(stderr, "fake-cuda: %ld streams leaked\n", live_streams);
    if (live_events) fprintf(stderr, "fake-cuda: %ld events leaked\n", live_events);
    if (live_modules) fprintf(stderr, "fake-cuda: %ld modules leaked\n", live_modules);
    if (live_graphs || live_execs) fprintf(stderr, "fake-cuda: %ld graphs and %ld graph execs leaked\n", live_graphs, live_execs);
    if (ctx_refs) fprintf(stderr, "fake-cuda: %ld primary context references leaked\n", ctx_refs);
    if (live_blas) fprintf(stderr, "fake-cuda: %ld cuBLAS handles leaked\n", live_blas);
}

// ---- driver: init, devices, context ----------------------------------------------------------

CUresult cuInit(unsigned int flags) { return flags == 0 ? 0 : 1; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = 1; return 0; }
CUresult cuDeviceGet(int *d, int ordinal) { if (ordinal != 0) return 101; *d = 0; return 0; }
CUresult cuDeviceGetName(char *name, int len, int dev)
{
    if (dev != 0 || len < 1) return 1;
    snprintf(name, (size_t)len, "llcuda fake GPU");
    return 0;
}
CUresult cuDeviceGetAttribute(int *v, int attribute, int dev)
{
    if (dev != 0) return 101;
    switch (attribute) {
    case 1: *v = 1024; return 0;       // max threads per block
    case 16: *v = 4; return 0;         // SMs
    case 36: *v = 1000000; return 0;   // memory clock, kHz
    case 37: *v = 256; return 0;       // bus width, bits
    case 38: *v = 1 << 20; return 0;   // L2
    case 75: *v = 9; return 0;         // compute capability 9.0
    case 76: *v = 0; return 0;
    case 97: *v = 232448; return 0;    // opt-in shared memory per block
    default: return 1;
    }
}
CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev) { if (dev != 0) return 101; *bytes = (size_t)16 << 30; return 0; }
CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev) { if (dev != 0) return 101; ctx_refs++; *ctx = &fake_context; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int dev) { if (dev != 0 || ctx_refs == 0) return 1; ctx_refs--; return 0; }
CUresult cuCtxSetCurrent(void *ctx) { return ctx == NULL || ctx == &fake_context ? 0 : 201; }
CUresult cuCtxSynchronize(void) { return 0; }

// ---- memory ----------------------------------------------------------------------------------

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total)
{
    const char *mib = getenv("FAKE_CUDA_FREE_MIB");
    *free_bytes = (size_t)(mib ? atol(mib) : 600) << 20;
    *total = (size_t)16 << 30;
    return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes)
{
    if (bytes == 0) return 1;
    void *m = aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!m) return 2;
    live_allocs++;
    *p = (CUdeviceptr)(uintptr_t)m;
    return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { if (!p) return 1; free((void *)(uintptr_t)p); live_allocs--; return 0; }
// Pinned allocations are remembered: stream capture accepts copies from and to them only.
typedef struct { char *p; size_t bytes; } HostRange;
static HostRange *pinned;
static size_t pinned_count, pinned_cap;

CUresult cuMemHostAlloc(void **p, size_t bytes, unsigned int flags)
{
    (void)flags;
    if (pinned_count == pinned_cap)
    {
        size_t cap = pinned_cap ? 2 * pinned_cap : 16;
        HostRange *grown = realloc(pinned, cap * sizeof *grown);
        if (!grown) return 2;
        pinned = grown;
        pinned_cap = cap;
    }
    *p = malloc(bytes);
    if (!*p) return 2;
    pinned[pinned_count++] = (HostRange){ *p, bytes };
    live_host++;
    return 0;
}
CUresult cuMemFreeHost(void *p)
{
    for (size_t i = 0; i < pinned_count; i++)
        if (pinned[i].p == p)
        {
            pinned[i] = pinned[--pinned_count];
            free(p);
            live_host--;
            if (pinned_count == 0) { free(pinned); pinned = NULL; pinned_cap = 0; }
            return 0;
        }
    return 1;
}
static int is_pinned(const void *p, size_t n)
{
    for (size_t i = 0; i < pinned_count; i++)
        if ((const char *)p >= pinned[i].p && (const char *)p + n <= pinned[i].p + pinned[i].bytes) return 1;
    return 0;
}

// ---- streams, capture, graphs ------------------------------------------------------------------

// A graph is its nodes in capture order (one stream: each depends on the one before), replayed
// in that order. Copies keep their host pointers, so a replay reads and writes host memory as
// it is then, as a real memcpy node does.
enum { NODE_KERNEL = 1, NODE_MEMSET, NODE_HTOD, NODE_DTOH, NODE_DTOD };
typedef struct
{
    int kind;
    void *fn; unsigned grid, grid_y, block; uint64_t args[16]; int nargs; // kernel
    void *dst; const void *src; unsigned char value; size_t n;            // memset, copies
} Node;
typedef struct { Node *nodes; int count, cap; } Graph;
typedef struct { int capturing; Graph *graph; } Stream;

CUresult cuStreamCreate(void **s, unsigned int flags)
{
    (void)flags;
    *s = calloc(1, sizeof(Stream));
    live_streams++;
    return 0;
}
CUresult cuStreamDestroy_v2(void *s) { if (!s) return 400; free(s); live_streams--; return 0; }
CUresult cuStreamSynchronize(void *s) { return s && ((Stream *)s)->capturing ? 900 : 0; }

static int capturing(void *s) { return s && ((Stream *)s)->capturing; }
static CUresult record(void *s, Node n)
{
    Graph *g = ((Stream *)s)->graph;
    if (g->count == g->cap)
    {
        int cap = g->cap ? 2 * g->cap : 64;
        Node *grown = realloc(g->nodes, (size_t)cap * sizeof(Node));
        if (!grown) return 2;
        g->nodes = grown;
        g->cap = cap;
    }
    g->nodes[g->count++] = n;
    return 0;
}
static void graph_free(Graph *g) { free(g->nodes); free(g); }

static CUresult copy(int kind, void *dst, const void *src, size_t n, void *s)
{
    if (capturing(s))
    {
        // Pageable host memory cannot be captured (the real driver fails the capture too).
        if ((kind == NODE_HTOD && !is_pinned(src, n)) || (kind == NODE_DTOH && !is_pinned(dst, n))) return 900;
        Node node = { .kind = kind, .dst = dst, .src = src, .n = n };
        if (kind == NODE_HTOD && getenv("FAKE_CUDA_TRACE_CAPTURE")) fprintf(stderr, "fake-cuda: captured HtoD %zu bytes\n", n);
        return record(s, node);
    }
    memmove(dst, src, n);
    return 0;
}
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, void *s) { return copy(NODE_HTOD, (void *)(uintptr_t)dst, src, n, s); }
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, void *s) { return copy(NODE_DTOH, dst, (const void *)(uintptr_t)src, n, s); }
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void *s) { return copy(NODE_DTOD, (void *)(uintptr_t)dst, (const void *)(uintptr_t)src, n, s); }
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t n, void *s)
{
    if (capturing(s)) { Node node = { .kind = NODE_MEMSET, .dst = (void *)(uintptr_t)dst, .value = value, .n = n }; return record(s, node); }
    memset((void *)(uintptr_t)dst, value, n);
    return 0;
}

// ---- events ------------------------------------------------------------------------------------

CUresult cuEventCreate(void **e, unsigned int flags) { (void)flags; *e = calloc(1, sizeof(double)); live_events++; return 0; }
CUresult cuEventRecord(void *e, void *s)
{
    (void)s;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    *(double *)e = t.tv_sec * 1e3 + t.tv_nsec / 1e6;
    return 0;
}
CUresult cuEventSynchronize(void *e) { return e ? 0 : 400; }
CUresult cuEventElapsedTime(float *ms, void *start, void *end)
{
    double d = *(double *)end - *(double *)start;
    *ms = (float)(d > 0.001 ? d : 0.001);
    return 0;
}
CUresult cuEventDestroy_v2(void *e) { if (!e) return 400; free(e); live_events--; return 0; }

// ---- modules and the two emulated kernels ------------------------------------------------------

static void vector_add(unsigned grid, unsigned block, const uint64_t *a)
{
    const float *x = (const float *)(uintptr_t)a[0], *y = (const float *)(uintptr_t)a[1];
    float *z = (float *)(uintptr_t)a[2];
    unsigned long long n = a[3];
    for (unsigned long long i = 0; i < (unsigned long long)grid * block; i++)
        if (i < n) z[i] = x[i] + y[i];
}
static void copy_f4(unsigned grid, unsigned block, const uint64_t *a)
{
    (void)grid; (void)block;   // grid-stride: any grid covers everything
    memcpy((void *)(uintptr_t)a[1], (const void *)(uintptr_t)a[0], (size_t)a[2] * 16);
}

// The quantized matrix-vector kernels, emulated from what their .cu headers specify (one
// output per row, x as Q8_1), so the host side's layouts and argument order are exercised.
static void quantize_q8_1(unsigned grid, unsigned block, const uint64_t *a)
{
    (void)grid; (void)block;
    const float *x = (const float *)(uintptr_t)a[0];
    signed char *q = (signed char *)(uintptr_t)a[1];
    float *ds = (float *)(uintptr_t)a[2];
    int n = (int)a[3];
    for (int b = 0; b < n / 32; b++) q8_1_block(x + 32 * b, q + 32 * b, ds + 2 * b);
}
// The matrix-vector kernels (matvec_TYPE_NT) and the fp16 dequantizers (dequant_TYPE_f16),
// emulated from what their .cu headers specify: the planar weight layouts of
// src/LlCuda/Cuda/Layouts, NT tokens per launch with outputs at y[t * ldy + row], x as Q8_1 for
// the quantized types and fp32 for F32/F16/BF16, one warp per row and 4 rows per 128-thread CTA
// (rows the grid does not cover stay unwritten), one dequant thread per 8 weights.
enum wtype { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, F16, BF16, F32 };
static const int plane_count[] = { 2, 2, 3, 3, 2, 2, 3, 4, 1, 1, 1 };

static float bf16_to_float(uint16_t b) { uint32_t bits = (uint32_t)b << 16; float f; memcpy(&f, &bits, 4); return f; }
static uint16_t float_to_half_bits(float f) { _Float16 h = (_Float16)f; uint16_t bits; memcpy(&bits, &h, 2); return bits; }
static const unsigned char *plane(const uint64_t *a, int i) { return (const unsigned char *)(uintptr_t)a[i]; }
static uint16_t u16_at(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32_at(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

// Block b (rows * blocks of them, row-major) of a 32-weight type: codes c[0..31], scale d, minimum m.
static void legacy_block(int type, const uint64_t *a, size_t b, int *c, float *d, float *m)
{
    const unsigned char *q = plane(a, 0) + b * (type == Q8_0 ? 32 : 16);
    *m = 0;
    if (type == Q8_0) { for (int j = 0; j < 32; j++) c[j] = (signed char)q[j]; *d = half_to_float(u16_at(plane(a, 1) + 2 * b)); return; }
    uint32_t qh = type == Q5_0 || type == Q5_1 ? u32_at(plane(a, 1) + 4 * b) : 0;
    for (int j = 0; j < 16; j++)
    {
        c[j] = (q[j] & 15) | (int)(((qh >> j) & 1) << 4);
        c[j + 16] = (q[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
    }
    if (type == Q4_0) *d = half_to_float(u16_at(plane(a, 1) + 2 * b));
    else if (type == Q5_0) *d = half_to_float(u16_at(plane(a, 2) + 2 * b));
    else
    {
        const unsigned char *dm = plane(a, type == Q4_1 ? 1 : 2) + 4 * b;
        *d = half_to_float(u16_at(dm));
        *m = half_to_float(u16_at(dm + 2));
    }
}

// Sub-block j's 6-bit scale and minimum of a Q4_K/Q5_K super-block from its 12 packed bytes.
static void k_scale_min(const unsigned char *s, int j, int *sc, int *mn)
{
    if (j < 4) { *sc = s[j] & 63; *mn = s[j + 4] & 63; }
    else { *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4); *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4); }
}

// Super-block s of a K-quant: codes c[0..255] (Q6_K: minus 32), per 32 weights (Q6_K: per 16) the
// scale factor and minimum as the kernels use them: Q4_K/Q5_K sc[j], mn[j] with *d, *dmin; Q6_K sc[0..15], *d.
static void k_block(int type, const uint64_t *a, size_t s, int *c, int *sc, int *mn, float *d, float *dmin)
{
    if (type == Q6_K)
    {
        const unsigned char *ql = plane(a, 0) + s * 128, *qh = plane(a, 1) + s * 64;
        const signed char *scales = (const signed char *)plane(a, 2) + s * 16;
        *d = half_to_float(u16_at(plane(a, 3) + 2 * s));
        *dmin = 0;
        for (int i = 0; i < 16; i++) { sc[i] = scales[i]; mn[i] = 0; }
        for (int h = 0; h < 2; h++)
            for (int k = 0; k < 4; k++)
                for (int l = 0; l < 32; l++)
                {
                    unsigned char lo = ql[64 * h + (k & 1) * 32 + l];
                    c[128 * h + 32 * k + l] = (((k >> 1) ? lo >> 4 : lo & 15) | (((qh[32 * h + l] >> (2 * k)) & 3) << 4)) - 32;
                }
        return;
    }
    const unsigned char *q = plane(a, 0) + s * 128;
    const unsigned char *qh = type == Q5_K ? plane(a, 1) + s * 32 : NULL;
    const unsigned char *meta = plane(a, type == Q5_K ? 2 : 1) + s * 16;
    *d = half_to_float(u16_at(meta));
    *dmin = half_to_float(u16_at(meta + 2));
    for (int j = 0; j < 8; j++)
    {
        k_scale_min(meta + 4, j, &sc[j], &mn[j]);
        for (int i = 0; i < 32; i++)
            c[32 * j + i] = (j % 2 == 0 ? q[32 * (j / 2) + i] & 15 : q[32 * (j / 2) + i] >> 4) | (qh ? ((qh[i] >> j) & 1) << 4 : 0);
    }
}

static void matvec(int type, unsigned grid, unsigned block, const uint64_t *a, int nt)
{
    int p = type >= F16 ? 1 : plane_count[type];
    int isfloat = type >= F16;
    const signed char *xq = isfloat ? NULL : (const signed char *)(uintptr_t)a[p];
    const float *xds = isfloat ? NULL : (const float *)(uintptr_t)a[p + 1];
    const float *xf = isfloat ? (const float *)(uintptr_t)a[p] : NULL;
    int base = isfloat ? p + 1 : p + 2;
    float *y = (float *)(uintptr_t)a[base];
    int rows = (int)a[base + 1], blocks = (int)a[base + 2], ldy = (int)a[base + 3];
    long covered = (long)grid * (block / 32);
    for (int r = 0; r < rows && r < covered; r++)
        for (int t = 0; t < nt; t++)
        {
            float acc = 0;
            if (isfloat)
            {
                // Lane l sums the 8-weight groups (4 for F32) l, l + 32, ...; then the shuffle tree.
                int cols = blocks, g = type == F32 ? 4 : 8;
                float lane[32] = { 0 };
                for (int i = 0; i < cols; i++)
                {
                    size_t k = (size_t)r * cols + i;
                    float w = type == F32 ? ((const float *)plane(a, 0))[k] : type == F16 ? half_to_float(u16_at(plane(a, 0) + 2 * k)) : bf16_to_float(u16_at(plane(a, 0) + 2 * k));
                    lane[(i / g) % 32] += w * xf[(size_t)t * cols + i];
                }
                for (int o = 16; o > 0; o >>= 1)
                {
                    float next[32];
                    for (int l = 0; l < 32; l++) next[l] = lane[l] + lane[l ^ o];
                    memcpy(lane, next, sizeof lane);
                }
                acc = lane[0];
            }
            else if (type < Q4_K)
            {
                const signed char *xt = xq + (size_t)t * blocks * 32;
                const float *st = xds + 2 * (size_t)t * blocks;
                for (int b = 0; b < blocks; b++)
                {
                    int c[32], sumi = 0;
                    float d, m;
                    legacy_block(type, a, (size_t)r * blocks + b, c, &d, &m);
                    for (int j = 0; j < 32; j++) sumi += c[j] * xt[32 * b + j];
                    float dx = st[2 * b], sx = st[2 * b + 1];
                    acc += type == Q4_0 ? d * (dx * (float)sumi - 8.0f * sx)
                         : type == Q5_0 ? d * (dx * (float)sumi - 16.0f * sx)
                         : type == Q8_0 ? d * dx * (float)sumi
                         : d * dx * (float)sumi + m * sx;
                }
            }
            else
            {
                const signed char *xt = xq + (size_t)t * blocks * 256;
                const float *st = xds + 2 * (size_t)t * blocks * 8;
                for (int s = 0; s < blocks; s++)
                {
                    int c[256], sc[16], mn[16];
                    float d, dmin;
                    k_block(type, a, (size_t)r * blocks + s, c, sc, mn, &d, &dmin);
                    if (type == Q6_K)
                    {
                        float part = 0;
                        for (int g = 0; g < 16; g++)
                        {
                            int sumi = 0;
                            for (int l = 0; l < 16; l++) sumi += c[16 * g + l] * xt[256 * s + 16 * g + l];
                            part += (float)(sc[g] * sumi) * st[2 * (8 * s + g / 2)];
                        }
                        acc += d * part;
                    }
                    else
                        for (int j = 0; j < 8; j++)
                        {
                            int sumi = 0;
                            for (int i = 0; i < 32; i++) sumi += c[32 * j + i] * xt[256 * s + 32 * j + i];
                            const float *x2 = st + 2 * (8 * s + j);
                            acc += d * (float)(sc[j] * sumi) * x2[0] - dmin * (float)mn[j] * x2[1];
                        }
                }
            }
            y[(size_t)t * ldy + r] = acc;
        }
}

// The host's Dequantize.Row arithmetic (no FMA), each weight rounded to fp16.
static void dequant(int type, unsigned grid, unsigned block, const uint64_t *a)
{
    int p = type >= F16 ? 1 : plane_count[type];
    uint16_t *out = (uint16_t *)(uintptr_t)a[p];
    int rows = (int)a[p + 1], blocks = (int)a[p + 2];
    size_t total = (size_t)rows * blocks * (type >= F16 ? 1 : type >= Q4_K ? 256 : 32);
    size_t threads = (size_t)grid * block;
    for (size_t e = 0; e < total && e / 8 < threads; e++)
    {
        float w;
        if (type == F32) w = ((const float *)plane(a, 0))[e];
        else if (type == BF16) w = bf16_to_float(u16_at(plane(a, 0) + 2 * e));
        else if (type < Q4_K)
        {
            int c[32];
            float d, m;
            legacy_block(type, a, e / 32, c, &d, &m);
            int q = c[e % 32];
            w = type == Q4_0 ? (float)(q - 8) * d : type == Q5_0 ? (float)(q - 16) * d : type == Q8_0 ? (float)q * d : (float)q * d + m;
        }
        else
        {
            int c[256], sc[16], mn[16];
            float d, dmin;
            k_block(type, a, e / 256, c, sc, mn, &d, &dmin);
            int k = (int)(e % 256);
            if (type == Q6_K) { float ds = d * (float)sc[k / 16]; w = ds * (float)c[k]; }
            else { float d1 = d * (float)sc[k / 32], m1 = dmin * (float)mn[k / 32]; w = d1 * (float)c[k] - m1; }
        }
        out[e] = float_to_half_bits(w);
    }
}

#define EMULATE_MATVEC(lower, T)                                                                            \
    static void matvec_##lower##_1(unsigned g, unsigned b, const uint64_t *a) { matvec(T, g, b, a, 1); }    \
    static void matvec_##lower##_2(unsigned g, unsigned b, const uint64_t *a) { matvec(T, g, b, a, 2); }    \
    static void matvec_##lower##_4(unsigned g, unsigned b, const uint64_t *a) { matvec(T, g, b, a, 4); }    \
    static void matvec_##lower##_8(unsigned g, unsigned b, const uint64_t *a) { matvec(T, g, b, a, 8); }
#define EMULATE(lower, T) EMULATE_MATVEC(lower, T)                                                          \
    static void dequant_##lower##_f16(unsigned g, unsigned b, const uint64_t *a) { dequant(T, g, b, a); }
EMULATE(q4_0, Q4_0) EMULATE(q4_1, Q4_1) EMULATE(q5_0, Q5_0) EMULATE(q5_1, Q5_1) EMULATE(q8_0, Q8_0)
EMULATE(q4_k, Q4_K) EMULATE(q5_k, Q5_K) EMULATE(q6_k, Q6_K) EMULATE_MATVEC(f16, F16) EMULATE(bf16, BF16) EMULATE(f32, F32)

typedef void (*emulation)(unsigned grid, unsigned block, const uint64_t *args);
typedef struct { const char *name; emulation fn; int nargs; } Kernel;
// Matvec: the planes, x (codes and scales, or floats), y, rows, blocks or cols, ldy. Dequant:
// the planes, out, rows, blocks or cols. F16 has no dequant kernel.
#define MATVEC_KERNELS(lower, planes, xs)                                                              \
    { "matvec_" #lower "_1", matvec_##lower##_1, planes + xs + 4 }, { "matvec_" #lower "_2", matvec_##lower##_2, planes + xs + 4 }, \
    { "matvec_" #lower "_4", matvec_##lower##_4, planes + xs + 4 }, { "matvec_" #lower "_8", matvec_##lower##_8, planes + xs + 4 }
#define KERNELS(lower, planes, xs) MATVEC_KERNELS(lower, planes, xs), { "dequant_" #lower "_f16", dequant_##lower##_f16, planes + 3 }
static const Kernel kernels[] = {
    { "vector_add", vector_add, 4 }, { "copy_f4", copy_f4, 3 }, { "quantize_q8_1", quantize_q8_1, 4 },
    KERNELS(q4_0, 2, 2), KERNELS(q4_1, 2, 2), KERNELS(q5_0, 3, 2), KERNELS(q5_1, 3, 2), KERNELS(q8_0, 2, 2),
    KERNELS(q4_k, 2, 2), KERNELS(q5_k, 3, 2), KERNELS(q6_k, 4, 2), MATVEC_KERNELS(f16, 1, 1), KERNELS(bf16, 1, 1), KERNELS(f32, 1, 1),
};

static const char magic[] = "FAKECUBIN\n";

CUresult cuModuleLoadData(void **module, const void *image)
{
    if (memcmp(image, magic, sizeof magic - 1) != 0) return 200;
    *module = malloc(1);
    live_modules++;
    return 0;
}
CUresult cuModuleGetFunction(void **fn, void *module, const char *name)
{
    if (!module) return 400;
    // fake_forward.c's kernels first (they may have 2-D grids), then this file's table.
    if ((*fn = (void *)fake_forward_kernel(name)) != NULL) return 0;
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        if (strcmp(name, kernels[i].name) == 0) { *fn = (void *)&kernels[i]; return 0; }
    return 500;
}
CUresult cuModuleUnload(void *module) { if (!module) return 400; free(module); live_modules--; return 0; }
CUresult cuFuncSetAttribute(void *fn, int attribute, int value) { (void)attribute; (void)value; return fn ? 0 : 400; }

static void run(const Node *n)
{
    switch (n->kind)
    {
    case NODE_MEMSET: memset(n->dst, n->value, n->n); return;
    case NODE_HTOD: case NODE_DTOH: case NODE_DTOD: memmove(n->dst, n->src, n->n); return;
    default:
    {
        const FakeKernel *k = fake_forward_handle(n->fn);
        fake_grid_dim = (FakeDim3){ n->grid, n->grid_y, 1 };
        (k ? k->fn : ((const Kernel *)n->fn)->fn)(n->grid, n->block, n->args);
    }
    }
}

CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *s, void **params, void **extra)
{
    (void)shared;
    if (getenv("FAKE_CUDA_FAIL_LAUNCH")) return 700;
    if (!fn || extra || gy == 0 || gz != 1 || by != 1 || bz != 1 || bx == 0 || bx > 1024 || gx == 0) return 1;
    const FakeKernel *k = fake_forward_handle(fn); // fake_forward.c's kernels, which may have 2-D grids
    if (k && k->block != bx)
    {
        fprintf(stderr, "fake-cuda: %s launched with %u threads per block; its code assumes %u\n", k->name, bx, k->block);
        return 1;
    }
    if (!k && gy != 1) return 1;
    int nargs = k ? k->nargs : ((const Kernel *)fn)->nargs;
    Node n = { .kind = NODE_KERNEL, .fn = fn, .grid = gx, .grid_y = gy, .block = bx, .nargs = nargs };
    // Every parameter is read as 8 bytes: KernelArgument slots are 8 bytes with the value in the
    // low bytes, and the emulations read ints from the low 32 bits.
    for (int i = 0; i < n.nargs; i++) memcpy(&n.args[i], params[i], 8);
    if (capturing(s)) return record(s, n);
    run(&n);
    return 0;
}

CUresult cuStreamBeginCapture_v2(void *s, int mode)
{
    (void)mode;
    Stream *st = s;
    if (!st || st->capturing) return 1;
    st->capturing = 1;
    st->graph = calloc(1, sizeof(Graph));
    return 0;
}
CUresult cuStreamEndCapture(void *s, void **graph)
{
    Stream *st = s;
    if (!st || !st->capturing) return 1;
    st->capturing = 0;
    *graph = st->graph;
    st->graph = NULL;
    live_graphs++;
    return 0;
}
CUresult cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long flags)
{
    (void)flags;
    const Graph *g = graph;
    Graph *copy = calloc(1, sizeof(Graph));
    if (!copy) return 2;
    if (g->count > 0)
    {
        copy->nodes = malloc((size_t)g->count * sizeof(Node));
        if (!copy->nodes) { free(copy); return 2; }
        memcpy(copy->nodes, g->nodes, (size_t)g->count * sizeof(Node));
    }
    copy->count = copy->cap = g->count;
    *exec = copy;
    live_execs++;
    return 0;
}
CUresult cuGraphLaunch(void *exec, void *s)
{
    (void)s;
    Graph *g = exec;
    for (int i = 0; i < g->count; i++) run(&g->nodes[i]);
    return 0;
}
typedef struct { int result; void *error_node; void *error_from_node; } UpdateInfo;
// Same node count and, node by node, the same kind and kernel (CUDA's rules for an in-place
// update); arguments, grids, copy addresses and sizes may change.
CUresult cuGraphExecUpdate_v2(void *exec, void *graph, UpdateInfo *info)
{
    Graph *e = exec, *g = graph;
    memset(info, 0, sizeof *info);
    if (e->count != g->count) { info->result = 2; return 910; }
    for (int i = 0; i < g->count; i++)
    {
        // CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED (3), ..._FUNCTION_CHANGED (4)
        if (e->nodes[i].kind != g->nodes[i].kind) { info->result = 3; return 910; }
        if (e->nodes[i].fn != g->nodes[i].fn) { info->result = 4; return 910; }
    }
    if (g->count > 0) memcpy(e->nodes, g->nodes, (size_t)g->count * sizeof(Node));
    return 0;
}
CUresult cuGraphExecDestroy(void *exec) { if (!exec) return 400; graph_free(exec); live_execs--; return 0; }
CUresult cuGraphDestroy(void *graph) { if (!graph) return 400; graph_free(graph); live_graphs--; return 0; }

CUresult cuGetErrorName(CUresult e, const char **s)
{
    switch (e) {
    case 0: *s = "CUDA_SUCCESS"; return 0;
    case 1: *s = "CUDA_ERROR_INVALID_VALUE"; return 0;
    case 2: *s = "CUDA_ERROR_OUT_OF_MEMORY"; return 0;
    case 200: *s = "CUDA_ERROR_INVALID_IMAGE"; return 0;
    case 500: *s = "CUDA_ERROR_NOT_FOUND"; return 0;
    case 700: *s = "CUDA_ERROR_ILLEGAL_ADDRESS"; return 0;
    case 900: *s = "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"; return 0;
    default: *s = NULL; return 1;
    }
}
CUresult cuGetErrorString(CUresult e, const char **s)
{
    *s = e == 700 ? "an illegal memory access was encountered" : NULL;
    return *s ? 0 : 1;
}

// ---- NVRTC -------------------------------------------------------------------------------------

typedef struct { char *source; char *image; size_t size; const char *log; } Program;

int nvrtcVersion(int *major, int *minor) { *major = 13; *minor = 0; return 0; }
int nvrtcGetNumSupportedArchs(int *n) { *n = 3; return 0; }
int nvrtcGetSupportedArchs(int *a) { a[0] = 90; a[1] = 75; a[2] = 89; return 0; }   // unsorted on purpose
int nvrtcCreateProgram(void **prog, const char *src, const char *name, int nh, const char *const *h, const char *const *inc)
{
    (void)name; (void)h; (void)inc;
    if (nh != 0) return 3;
    Program *p = calloc(1, sizeof(Program));
    p->source = strdup(src);
    *prog = p;
    return 0;
}
int nvrtcCompileProgram(void *prog, int n, const char *const *options)
{
    Program *p = prog;
    const char *arch = NULL;
    int include_path = 0;
    for (int i = 0; i < n; i++) {
        if (strncmp(options[i], "--gpu-architecture=", 19) == 0) arch = options[i] + 19;
        if (strncmp(options[i], "--include-path=", 15) == 0) include_path = 1;
    }
    if (!arch) { p->log = "error: no --gpu-architecture option"; return 5; }
    // Plays an NVRTC without a built-in cuda_fp16.h: it needs the toolkit's include folder.
    if (strstr(p->source, "#include <cuda_fp16.h>") && !include_path) {
        p->log = "kernel.cu(20): catastrophic error: cannot open source file \"cuda_fp16.h\"";
        return 6;
    }
    if (strstr(p->source, "__global__") == NULL) { p->log = "error: no kernel in the source"; return 6; }
    size_t len = strlen(magic) + strlen(arch) + 1 + strlen(p->source);
    p->image = malloc(len + 1);
    snprintf(p->image, len + 1, "%s%s\n%s", magic, arch, p->source);
    p->size = len + 1;
    p->log = "";
    return 0;
}
int nvrtcGetProgramLogSize(void *prog, size_t *n) { Program *p = prog; *n = strlen(p->log ? p->log : "") + 1; return 0; }
int nvrtcGetProgramLog(void *prog, char *log) { Program *p = prog; strcpy(log, p->log ? p->log : ""); return 0; }
int nvrtcGetCUBINSize(void *prog, size_t *n) { Program *p = prog; if (!p->image) return 4; *n = p->size; return 0; }
int nvrtcGetCUBIN(void *prog, char *out) { Program *p = prog; if (!p->image) return 4; memcpy(out, p->image, p->size); return 0; }
int nvrtcGetPTXSize(void *prog, size_t *n) { return nvrtcGetCUBINSize(prog, n); }
int nvrtcGetPTX(void *prog, char *out) { return nvrtcGetCUBIN(prog, out); }
int nvrtcDestroyProgram(void **prog)
{
    Program *p = *prog;
    if (!p) return 4;
    free(p->source);
    free(p->image);
    free(p);
    *prog = NULL;
    return 0;
}
const char *nvrtcGetErrorString(int r) { return r == 0 ? "NVRTC_SUCCESS" : r == 6 ? "NVRTC_ERROR_COMPILATION" : "NVRTC_ERROR"; }

// ---- cuBLAS: handles and an fp16 x fp16 -> fp32 GEMM ----------------------------------------------

int cublasGetProperty(int type, int *value) { *value = type == 0 ? 13 : type == 1 ? 0 : 1; return 0; }
int cublasCreate_v2(void **h) { *h = malloc(1); live_blas++; return 0; }
int cublasDestroy_v2(void *h) { if (!h) return 1; free(h); live_blas--; return 0; }
int cublasSetStream_v2(void *h, void *s) { (void)s; return h ? 0 : 1; }
int cublasSetMathMode(void *h, int mode) { return !h ? 1 : (mode == 0 || mode == 2 || mode == 3) ? 0 : 7; }
const char *cublasGetStatusName(int status) { return status == 0 ? "CUBLAS_STATUS_SUCCESS" : "CUBLAS_STATUS_NOT_SUPPORTED"; }
const char *cublasGetStatusString(int status) { return status == 0 ? "success" : "the functionality requested is not supported"; }

// Column-major, as cuBLAS: op(A) is m x k, op(B) is k x n. C is not read when beta is 0.
int cublasGemmEx(void *h, int ta, int tb, int m, int n, int k, const void *alpha, const void *A, int at, int lda,
                 const void *B, int bt, int ldb, const void *beta, void *C, int ct, int ldc, int compute, int algo)
{
    (void)algo;
    if (!h) return 1;
    if (at != 2 || bt != 2 || ct != 0 || compute != 68 || ta < 0 || ta > 1 || tb < 0 || tb > 1) return 15;
    if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) return 7;
    const _Float16 *a = A, *b = B;
    float *c = C, al = *(const float *)alpha, be = *(const float *)beta;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            float sum = 0;
            for (int p = 0; p < k; p++)
                sum += (float)(ta ? a[p + (size_t)i * lda] : a[i + (size_t)p * lda]) * (float)(tb ? b[j + (size_t)p * ldb] : b[p + (size_t)j * ldb]);
            c[i + (size_t)j * ldc] = al * sum + (be == 0 ? 0 : be * c[i + (size_t)j * ldc]);
        }
    return 0;
}
