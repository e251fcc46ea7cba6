// Checks of the fake CUDA driver itself, linked with fake_cuda.c and fake_forward.c and driven
// through the driver API as the engine drives it: the fp16 conversion (every value, every tie),
// each forward kernel's emulation against a plain double-precision reference, and graph capture
// of copies and kernels replayed in order. Prints one line per failure and "fake-check: N
// failures" last; exits 1 on any failure.

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fake_cuda.h"

typedef unsigned long long CUdeviceptr;
typedef int CUresult;
CUresult cuModuleLoadData(void **module, const void *image);
CUresult cuModuleGetFunction(void **fn, void *module, const char *name);
CUresult cuModuleUnload(void *module);
CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void *s, void **params, void **extra);
CUresult cuMemHostAlloc(void **p, size_t bytes, unsigned int flags);
CUresult cuMemFreeHost(void *p);
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t bytes);
CUresult cuMemFree_v2(CUdeviceptr p);
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, void *s);
CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, void *s);
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t n, void *s);
CUresult cuStreamCreate(void **s, unsigned int flags);
CUresult cuStreamDestroy_v2(void *s);
CUresult cuStreamBeginCapture_v2(void *s, int mode);
CUresult cuStreamEndCapture(void *s, void **graph);
CUresult cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long flags);
CUresult cuGraphLaunch(void *exec, void *s);
CUresult cuGraphExecUpdate_v2(void *exec, void *graph, void *info);
CUresult cuGraphExecDestroy(void *exec);
CUresult cuGraphDestroy(void *graph);

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static void *module;
static void *kernel(const char *name)
{
    void *fn = NULL;
    CHECK(cuModuleGetFunction(&fn, module, name) == 0, "cuModuleGetFunction(%s)", name);
    return fn;
}
// Launches fn with its arguments as 8-byte slots, as the engine's KernelArgument does.
static CUresult launch(void *fn, unsigned gx, unsigned gy, unsigned bx, void *stream, const uint64_t *args, int n)
{
    void *params[16];
    for (int i = 0; i < n; i++) params[i] = (void *)&args[i];
    return cuLaunchKernel(fn, gx, gy, 1, bx, 1, 1, 0, stream, params, NULL);
}
static uint64_t P(const void *p) { return (uint64_t)(uintptr_t)p; }
static uint64_t F(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

static uint32_t rng = 12345;
static float rnd(void) { rng = rng * 1664525u + 1013904223u; return (float)(rng >> 8) / 8388608.0f - 1.0f; } // [-1, 1)

static float bits_float(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }

static void check_f16(void)
{
    for (uint32_t h = 0; h < 0x10000; h++)
    {
        int nan = (h & 0x7C00) == 0x7C00 && (h & 0x3FF);
        if (!nan) CHECK(float_to_half(half_to_float((uint16_t)h)) == h, "f16 round trip of 0x%04x", h);
    }
    // Every tie between neighbours (subnormal, normal, up to 65504 and infinity) goes to the
    // even one; a float ulp either side goes to the nearer one.
    for (uint32_t h = 0; h < 0x7C00; h++)
    {
        float lo = half_to_float((uint16_t)h), hi = h == 0x7BFF ? 65536.0f : half_to_float((uint16_t)(h + 1));
        float mid = (lo + hi) / 2;
        uint16_t even = (uint16_t)(h & 1 ? h + 1 : h);
        CHECK(float_to_half(mid) == even, "tie %g (0x%04x/0x%04x) gave 0x%04x", mid, h, h + 1, float_to_half(mid));
        CHECK(float_to_half(-mid) == (even | 0x8000), "tie %g", -mid);
        CHECK(float_to_half(nextafterf(mid, 0)) == h, "just below the tie %g", mid);
        CHECK(float_to_half(nextafterf(mid, INFINITY)) == h + 1, "just above the tie %g", mid);
    }
    CHECK(float_to_half(1e-8f) == 0 && float_to_half(-1e-8f) == 0x8000, "tiny values flush to signed zero");
    CHECK(float_to_half(1e6f) == 0x7C00 && float_to_half(-INFINITY) == 0xFC00, "overflow to infinity");
    CHECK(float_to_half(NAN) == 0x7FFF, "NaN is the canonical 0x7FFF");
    // Against the compiler's own conversion over a sweep of every 4099th bit pattern.
    for (uint64_t b = 0; b < 0x100000000ull; b += 4099)
    {
        float f = bits_float((uint32_t)b);
        if (isnan(f)) continue;
        _Float16 h = (_Float16)f;
        uint16_t want;
        memcpy(&want, &h, 2);
        if (float_to_half(f) != want) { CHECK(0, "f16 of 0x%08x: 0x%04x, compiler 0x%04x", (uint32_t)b, float_to_half(f), want); break; }
    }
}

static void check_rmsnorm(void)
{
    enum { DIM = 64, ROWS = 3 };
    float x[ROWS * DIM], x0[ROWS * DIM], add[ROWS * DIM], w[DIM], xf[2 * DIM], ds[2 * DIM / 32 * 2];
    signed char q[2 * DIM];
    uint16_t xh[2 * DIM];
    int rowmap[2] = { 2, 0 };
    for (int i = 0; i < ROWS * DIM; i++) { x[i] = x0[i] = 3 * rnd(); add[i] = rnd(); }
    for (int i = 0; i < DIM; i++) w[i] = 1 + rnd() / 2;
    const float eps = 1e-5f;
    uint64_t a[] = { P(x), P(add), P(w), P(rowmap), P(q), P(ds), P(xf), P(xh), DIM, F(eps) };
    void *fn = kernel("rmsnorm_q8_1");
    CHECK(launch(fn, 2, 1, 128, NULL, a, 10) == 1, "rmsnorm with 128 threads is refused (its code needs 256)");
    CHECK(launch(fn, 2, 1, 256, NULL, a, 10) == 0, "rmsnorm launch");
    for (int out = 0; out < 2; out++)
    {
        int row = rowmap[out];
        double ss = 0;
        for (int i = 0; i < DIM; i++) { double v = (double)x0[row * DIM + i] + add[row * DIM + i]; ss += v * v; }
        double scale = 1 / sqrt(ss / DIM + eps);
        for (int i = 0; i < DIM; i++)
        {
            double v = (double)x0[row * DIM + i] + add[row * DIM + i], y = v * scale * w[i];
            CHECK(fabs(x[row * DIM + i] - v) < 1e-6, "rmsnorm: x row %d += add", row);
            CHECK(fabs(xf[out * DIM + i] - y) < 1e-5, "rmsnorm: xf[%d][%d] = %g, expected %g", out, i, xf[out * DIM + i], y);
            CHECK(xh[out * DIM + i] == float_to_half(xf[out * DIM + i]), "rmsnorm: xh is xf in fp16");
            const float *d = ds + 2 * (out * DIM / 32 + i / 32);
            CHECK(fabs(q[out * DIM + i] * d[0] - y) <= d[0] / 2 + 1e-6, "rmsnorm: Q8_1 code %d of row %d", i, out);
        }
        for (int b = 0; b < DIM / 32; b++)
        {
            int sum = 0;
            for (int i = 0; i < 32; i++) sum += q[out * DIM + 32 * b + i];
            CHECK(fabsf(ds[2 * (out * DIM / 32 + b) + 1] - ds[2 * (out * DIM / 32 + b)] * sum) < 1e-6f, "rmsnorm: ds holds (d, d * sum)");
        }
    }
    for (int i = 0; i < DIM; i++) CHECK(x[DIM + i] == x0[DIM + i], "rmsnorm: row 1, not gathered, is left as it was");
}

static void check_swiglu(void)
{
    enum { N = 2, FFN = 96 };
    float gu[N * 2 * FFN], xf[N * FFN], ds[N * FFN / 32 * 2];
    signed char q[N * FFN];
    for (int i = 0; i < N * 2 * FFN; i++) gu[i] = 4 * rnd();
    for (int i = 0; i < N * FFN; i++) xf[i] = -7;
    void *fn = kernel("swiglu_q8_1");
    // One CTA of 128 threads covers 128 of the 192 values: the rest stay as they were.
    uint64_t args[] = { P(gu), P(q), P(ds), P(xf), 0, N, FFN }; // no fp16 form
    CHECK(launch(fn, 1, 1, 128, NULL, args, 7) == 0, "swiglu launch");
    for (int i = 0; i < N * FFN; i++)
    {
        int t = i / FFN, c = i % FFN;
        double g = gu[t * 2 * FFN + c], u = gu[t * 2 * FFN + FFN + c], y = g / (1 + exp(-g)) * u;
        if (i < 128)
        {
            CHECK(fabs(xf[i] - y) < 1e-5, "swiglu: value %d = %g, expected %g", i, xf[i], y);
            CHECK(fabs(q[i] * ds[2 * (i / 32)] - y) <= ds[2 * (i / 32)] / 2 + 1e-6, "swiglu: Q8_1 code %d", i);
        }
        else CHECK(xf[i] == -7, "swiglu: value %d is outside the grid and must not be written", i);
    }
    CHECK(launch(fn, (N * FFN + 127) / 128, 1, 128, NULL, args, 7) == 0, "swiglu launch");
    CHECK(fabs(xf[N * FFN - 1]) < 100 && xf[N * FFN - 1] != -7, "swiglu: a covering grid writes the last value");
}

// A shuffled order of blocks 0..n-1 (Fisher-Yates on rnd), so tables are not contiguous.
static void shuffle(int *blocks, int n)
{
    for (int i = 0; i < n; i++) blocks[i] = i;
    for (int i = n - 1; i > 0; i--)
    {
        int j = (int)((rnd() + 1) / 2 * (i + 1)), tmp = blocks[i];
        if (j > i) j = i;
        blocks[i] = blocks[j];
        blocks[j] = tmp;
    }
}

static void check_rope(void)
{
    enum { N = 2, HEADS = 4, KV = 2, HD = 8, QD = HEADS * HD, KVD = KV * HD, LD = QD + 2 * KVD, BS = 4, STRIDE = 4, BLOCKS = 8, ROT_HALF = 3 };
    float qkv[N * LD], orig[N * LD], freqs[ROT_HALF];
    static uint16_t kc[BLOCKS * BS * KVD], vc[BLOCKS * BS * KVD];
    // Token 0 at position 5 is in its table's block 1 (physical block 2, row 1): cache row 9;
    // token 1 at position 0 in physical block 3, row 0: cache row 12.
    int pos[N] = { 5, 0 }, tables[N * STRIDE] = { 6, 2, 7, 0, 3, 5, 1, 4 }, rows[N] = { 9, 12 };
    for (int i = 0; i < N * LD; i++) qkv[i] = orig[i] = rnd();
    for (int i = 0; i < ROT_HALF; i++) freqs[i] = powf(10000.0f, -2.0f * i / (2 * ROT_HALF));
    for (int i = 0; i < BLOCKS * BS * KVD; i++) kc[i] = vc[i] = 0x1234;
    uint64_t a[] = { P(qkv), LD, P(pos), P(tables), STRIDE, BS, P(freqs), ROT_HALF, P(kc), P(vc), QD, KVD, HD };
    int pairs = LD / 2;
    CHECK(launch(kernel("rope_kv"), (pairs + 127) / 128, N, 128, NULL, a, 13) == 0, "rope_kv launch");
    for (int t = 0; t < N; t++)
    {
        size_t at = (size_t)rows[t] * KVD;
        for (int e = 0; e < QD + KVD; e += 2)
        {
            int i = (e % HD) / 2;
            double x0 = orig[t * LD + e], x1 = orig[t * LD + e + 1], r0 = x0, r1 = x1;
            if (i < ROT_HALF)
            {
                double th = pos[t] * (double)freqs[i];
                r0 = x0 * cos(th) - x1 * sin(th);
                r1 = x0 * sin(th) + x1 * cos(th);
            }
            if (e < QD) CHECK(fabs(qkv[t * LD + e] - r0) < 1e-5 && fabs(qkv[t * LD + e + 1] - r1) < 1e-5, "rope: q pair %d of token %d", e / 2, t);
            else
            {
                int k = e - QD;
                CHECK(fabs(half_to_float(kc[at + k]) - r0) < 1e-3 && fabs(half_to_float(kc[at + k + 1]) - r1) < 1e-3, "rope: key pair %d of token %d in cache row %d", k / 2, t, rows[t]);
                CHECK(qkv[t * LD + e] == orig[t * LD + e], "rope: k in qkv is left unrotated");
            }
        }
        for (int k = 0; k < KVD; k++) CHECK(vc[at + k] == float_to_half(orig[t * LD + QD + KVD + k]), "rope: value %d of token %d copied to cache row %d", k, t, rows[t]);
    }
    int written = 0;
    for (int i = 0; i < BLOCKS * BS * KVD; i++) written += kc[i] != 0x1234 || vc[i] != 0x1234;
    CHECK(written <= N * KVD, "rope: only the tokens' cache rows are written (%d values changed)", written);
}

// Three tokens over a pool of shuffled blocks of 24 positions (not a divisor of the 256-position
// chunk, so blocks straddle chunks): token 0 at position 300 (two chunks), token 1 at position
// 10 (one chunk: its second slot is never written, and the combine must not read it), token 2
// at position 280 whose table starts with token 0's first 11 blocks (a shared prefix of 264
// positions, across the chunk boundary) and continues with blocks of its own.
static void check_attention(void)
{
    enum { N = 3, HEADS = 4, KV = 2, GROUP = 2, HD = 16, QD = HEADS * HD, KVD = KV * HD, BS = 24, CTX = 512,
           STRIDE = (CTX + BS - 1) / BS, BLOCKS = 2 * STRIDE, CHUNKS = 2, LDQ = QD + 2 * KVD, SHARED = 11 };
    static uint16_t kc[BLOCKS * BS * KVD], vc[BLOCKS * BS * KVD];
    static float q[N * LDQ], part_o[N * HEADS * CHUNKS * HD], part_ml[N * HEADS * CHUNKS * 2], out[N * QD], ds[N * QD / 32 * 2];
    static signed char q8[N * QD];
    static uint16_t outh[N * QD];
    int pos[N] = { 300, 10, 280 }, perm[BLOCKS], tables[N * STRIDE];
    shuffle(perm, BLOCKS);
    for (int i = 0; i < STRIDE; i++)
    {
        tables[i] = perm[i];
        tables[STRIDE + i] = perm[BLOCKS - 1 - i];
        tables[2 * STRIDE + i] = i < SHARED ? perm[i] : perm[STRIDE + i];
    }
    for (int i = 0; i < BLOCKS * BS * KVD; i++) { kc[i] = float_to_half(2 * rnd()); vc[i] = float_to_half(rnd()); }
    for (int i = 0; i < N * LDQ; i++) q[i] = rnd();
    for (int i = 0; i < N * HEADS * CHUNKS * HD; i++) part_o[i] = NAN;
    for (int i = 0; i < N * HEADS * CHUNKS * 2; i++) part_ml[i] = NAN;
    float scale = 1.0f / sqrtf(HD);
    uint64_t pa[] = { P(q), LDQ, P(pos), P(tables), STRIDE, BS, P(kc), P(vc), P(part_o), P(part_ml), HEADS, GROUP, HD, KVD, CHUNKS, F(scale) };
    CHECK(launch(kernel("attention_partial"), N * HEADS, CHUNKS, 128, NULL, pa, 16) == 0, "attention_partial launch");
    uint64_t ca[] = { P(part_o), P(part_ml), P(pos), P(out), P(outh), P(q8), P(ds), HEADS, HD, CHUNKS };
    CHECK(launch(kernel("attention_combine"), N, 1, 256, NULL, ca, 10) == 0, "attention_combine launch");
    for (int t = 0; t < N; t++)
        for (int h = 0; h < HEADS; h++)
        {
            double s[CTX], m = -INFINITY, l = 0;
            size_t row[CTX];
            for (int j = 0; j <= pos[t]; j++) row[j] = ((size_t)tables[t * STRIDE + j / BS] * BS + j % BS) * KVD + (h / GROUP) * HD;
            for (int j = 0; j <= pos[t]; j++)
            {
                s[j] = 0;
                for (int d = 0; d < HD; d++) s[j] += (double)q[t * LDQ + h * HD + d] * half_to_float(kc[row[j] + d]);
                s[j] /= sqrt(HD);
                if (s[j] > m) m = s[j];
            }
            for (int j = 0; j <= pos[t]; j++) l += exp(s[j] - m);
            for (int d = 0; d < HD; d++)
            {
                double o = 0;
                for (int j = 0; j <= pos[t]; j++) o += exp(s[j] - m) * half_to_float(vc[row[j] + d]);
                o /= l;
                size_t at = (size_t)t * QD + h * HD + d;
                CHECK(fabs(out[at] - o) < 1e-5, "attention: token %d head %d dim %d = %g, expected %g", t, h, d, out[at], o);
                CHECK(outh[at] == float_to_half(out[at]), "attention: outh is out in fp16");
                CHECK(fabs(q8[at] * ds[2 * (at / 32)] - o) <= ds[2 * (at / 32)] / 2 + 1e-5, "attention: Q8_1 code");
            }
        }
}

static void check_argmax(void)
{
    enum { V = 2000 };
    static float logits[3 * V];
    int ids[3] = { -1, -1, -1 };
    for (int i = 0; i < 2 * V; i++) logits[i] = rnd();
    logits[1500] = logits[1700] = 5;                     // a tie: the lower index wins
    logits[V + 3] = NAN;                                  // NaN never wins
    logits[V + 10] = 4;
    for (int i = 0; i < V; i++) logits[2 * V + i] = -INFINITY;
    uint64_t a[] = { P(logits), P(ids), V };
    void *fn = kernel("argmax");
    CHECK(launch(fn, 3, 1, 256, NULL, a, 3) == 1, "argmax with 256 threads is refused (its code needs 1024)");
    CHECK(launch(fn, 3, 1, 1024, NULL, a, 3) == 0, "argmax launch");
    CHECK(ids[0] == 1500 && ids[1] == 10 && ids[2] == 0, "argmax: %d %d %d, expected 1500 10 0", ids[0], ids[1], ids[2]);
}

// Captures what a decode step does: a copy from pinned memory, a kernel, a copy back to pinned
// memory, and enough other nodes to pass 64; each replay must read the host input as it is then.
static void check_graph(void)
{
    enum { V = 300, FILLERS = 100 };
    void *stream, *graph, *exec, *graph2, *host_logits, *host_id;
    CUdeviceptr logits, ids, scratch;
    CHECK(cuStreamCreate(&stream, 0) == 0, "stream");
    CHECK(cuMemHostAlloc(&host_logits, V * 4, 0) == 0 && cuMemHostAlloc(&host_id, 4, 0) == 0, "pinned memory");
    CHECK(cuMemAlloc_v2(&logits, V * 4) == 0 && cuMemAlloc_v2(&ids, 4) == 0 && cuMemAlloc_v2(&scratch, 64) == 0, "device memory");
    void *fn = kernel("argmax");
    uint64_t a[] = { logits, ids, V };

    CHECK(cuStreamBeginCapture_v2(stream, 2) == 0, "begin capture");
    CHECK(cuMemcpyHtoDAsync_v2(logits, host_logits, V * 4, stream) == 0, "HtoD from pinned memory is captured");
    for (int i = 0; i < FILLERS; i++) CHECK(cuMemsetD8Async(scratch, (unsigned char)i, 64, stream) == 0, "memset %d captured", i);
    CHECK(launch(fn, 1, 1, 1024, stream, a, 3) == 0, "argmax captured");
    CHECK(cuMemcpyDtoHAsync_v2(host_id, ids, 4, stream) == 0, "DtoH to pinned memory is captured");
    CHECK(cuStreamEndCapture(stream, &graph) == 0, "end capture");
    CHECK(cuGraphInstantiateWithFlags(&exec, graph, 0) == 0, "instantiate");
    for (int replay = 0; replay < 3; replay++)
    {
        float *l = host_logits;
        for (int i = 0; i < V; i++) l[i] = 0;
        l[40 + 100 * replay] = 1;
        *(int *)host_id = -1;
        CHECK(cuGraphLaunch(exec, stream) == 0, "graph launch");
        CHECK(*(int *)host_id == 40 + 100 * replay, "replay %d read back id %d, expected %d", replay, *(int *)host_id, 40 + 100 * replay);
        unsigned char last;
        memcpy(&last, (void *)(uintptr_t)scratch, 1);
        CHECK(last == FILLERS - 1, "replay %d ran the memsets in order (last byte %d)", replay, last);
    }

    // The same shape with the result copied to another pinned word: updated in place.
    void *host_id2;
    CHECK(cuMemHostAlloc(&host_id2, 4, 0) == 0, "pinned memory");
    CHECK(cuStreamBeginCapture_v2(stream, 2) == 0, "begin capture");
    cuMemcpyHtoDAsync_v2(logits, host_logits, V * 4, stream);
    for (int i = 0; i < FILLERS; i++) cuMemsetD8Async(scratch, (unsigned char)i, 64, stream);
    launch(fn, 1, 1, 1024, stream, a, 3);
    cuMemcpyDtoHAsync_v2(host_id2, ids, 4, stream);
    CHECK(cuStreamEndCapture(stream, &graph2) == 0, "end capture");
    int info[6];
    CHECK(cuGraphExecUpdate_v2(exec, graph2, info) == 0, "exec update of the same shape");
    *(int *)host_id2 = -1;
    CHECK(cuGraphLaunch(exec, stream) == 0 && *(int *)host_id2 == 240, "the updated graph copies to the new address");
    CHECK(cuGraphDestroy(graph2) == 0, "destroy");

    // Another shape is refused with the reason.
    CHECK(cuStreamBeginCapture_v2(stream, 2) == 0, "begin capture");
    launch(fn, 1, 1, 1024, stream, a, 3);
    CHECK(cuStreamEndCapture(stream, &graph2) == 0, "end capture");
    CHECK(cuGraphExecUpdate_v2(exec, graph2, info) == 910 && info[0] == 2, "exec update of another node count fails with 910");
    CHECK(cuGraphDestroy(graph2) == 0, "destroy");

    // Pageable host memory cannot be captured.
    float pageable[V];
    CHECK(cuStreamBeginCapture_v2(stream, 2) == 0, "begin capture");
    CHECK(cuMemcpyHtoDAsync_v2(logits, pageable, V * 4, stream) == 900, "HtoD from pageable memory during capture fails with 900");
    CHECK(cuStreamEndCapture(stream, &graph2) == 0 && cuGraphDestroy(graph2) == 0, "end capture");

    CHECK(cuGraphExecDestroy(exec) == 0 && cuGraphDestroy(graph) == 0, "destroy");
    CHECK(cuMemFreeHost(host_logits) == 0 && cuMemFreeHost(host_id) == 0 && cuMemFreeHost(host_id2) == 0, "free pinned");
    CHECK(cuMemFreeHost(pageable) == 1, "cuMemFreeHost of memory it did not allocate fails");
    CHECK(cuMemFree_v2(logits) == 0 && cuMemFree_v2(ids) == 0 && cuMemFree_v2(scratch) == 0, "free device memory");
    CHECK(cuStreamDestroy_v2(stream) == 0, "destroy stream");
}

int main(void)
{
    static const char image[] = "FAKECUBIN\nsm_90\n";
    if (cuModuleLoadData(&module, image) != 0) { printf("FAIL: cuModuleLoadData\n"); return 1; }
    check_f16();
    check_rmsnorm();
    check_swiglu();
    check_rope();
    check_attention();
    check_argmax();
    check_graph();
    cuModuleUnload(module);
    printf("fake-check: %d failures\n", failures);
    return failures ? 1 : 0;
}
