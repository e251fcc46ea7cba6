using System.Runtime.CompilerServices;
using System.Diagnostics.CodeAnalysis;
using LlCuda.Tensors;

namespace LlCuda.Cpu;

/// <summary>
/// Matrix products of activations with weight matrices on the CPU: Y = X * W^T, the linear
/// layers of a transformer. Quantized weights take integer dot products against activations
/// quantized once per call to the weight type's partner format, as ggml does (Q8_0 codes for
/// Q4_0/Q4_1/Q5_0/Q5_1/Q8_0, Q8_K for Q4_K/Q5_K/Q6_K); F32/F16/BF16 weights take fp32 dot
/// products. Work is split over rows (and token tiles) on a <see cref="CpuThreadPool"/>; every
/// output element is computed by one kernel call whatever the thread count, so results do not
/// depend on it.
/// </summary>
public static unsafe class CpuMatMul
{
    internal const string SupportedTypesText = "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K";

    /// <summary>True when weights of <paramref name="type"/> have a kernel here.</summary>
    public static bool Supports(GgmlType type) => type is GgmlType.F32 or GgmlType.F16 or GgmlType.BF16
        or GgmlType.Q4_0 or GgmlType.Q4_1 or GgmlType.Q5_0 or GgmlType.Q5_1 or GgmlType.Q8_0
        or GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K;

    /// <summary>The kernel path MatMul uses by default on this CPU.</summary>
    internal static KernelPath DefaultPath { get; } = KernelPaths.Default;

    /// <summary>
    /// Y[n, w.Rows] = X[n, w.Cols] * W^T. n = 1 is decode's matrix-vector product; n > 1 is
    /// prefill, where each weight block is loaded once for several activation rows.
    /// </summary>
    /// <param name="w">Weights: [Rows, Cols] in the matrix's type.</param>
    /// <param name="x">[n, w.Cols] fp32, row-major (at least n * Cols values).</param>
    /// <param name="n">Activation rows (tokens), >= 0.</param>
    /// <param name="y">[n, w.Rows] fp32 out, row-major (at least n * Rows values); overwritten.</param>
    /// <param name="scratch">Reusable buffers for the quantized activations.</param>
    /// <param name="pool">Threads to split the rows over.</param>
    /// <exception cref="ArgumentException">x or y too short, or n negative.</exception>
    public static void MatMul(in WeightMatrix w, ReadOnlySpan<float> x, int n, Span<float> y, MatMulScratch scratch, CpuThreadPool pool)
    {
        CheckGroup(w, w, x, n, y, nameof(y));
        WeightMatrix copy = w;
        fixed (float* xp = x)
        fixed (float* yp = y)
            Group(&copy, &yp, 1, xp, n, scratch, pool, DefaultPath, InterleavedMinTokens, PackedUnpackMinTokens);
    }

    /// <summary>
    /// <see cref="MatMul(in WeightMatrix, ReadOnlySpan{float}, int, Span{float}, MatMulScratch, CpuThreadPool)"/>
    /// with managed fp32 weights [rows, cols] (e.g. a matrix built in memory rather than mapped from a file).
    /// </summary>
    public static void MatMul(ReadOnlySpan<float> weights, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y,
        MatMulScratch scratch, CpuThreadPool pool)
    {
        if ((long)rows * cols > weights.Length) ThrowShort("weights", weights.Length, (long)rows * cols, $"[{rows}, {cols}]");
        fixed (float* p = weights)
            MatMul(new WeightMatrix((byte*)p, GgmlType.F32, rows, cols), x, n, y, scratch, pool, DefaultPath);
    }

    /// <summary>As the fp32 overload, with managed fp16 weights [rows, cols].</summary>
    public static void MatMul(ReadOnlySpan<Half> weights, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y,
        MatMulScratch scratch, CpuThreadPool pool)
    {
        if ((long)rows * cols > weights.Length) ThrowShort("weights", weights.Length, (long)rows * cols, $"[{rows}, {cols}]");
        fixed (Half* p = weights)
            MatMul(new WeightMatrix((byte*)p, GgmlType.F16, rows, cols), x, n, y, scratch, pool, DefaultPath);
    }

    /// <summary>
    /// Two products of the same activations, Y0 = X * W0^T and Y1 = X * W1^T (e.g. a feed-forward
    /// block's gate and up projections): the activations are quantized once and both matrices'
    /// rows go to the threads in one dispatch. W0 and W1 must have the same Cols; their types
    /// may differ (matrices whose activation formats differ are simply run one after the other).
    /// </summary>
    public static void MatMul(in WeightMatrix w0, in WeightMatrix w1, ReadOnlySpan<float> x, int n,
        Span<float> y0, Span<float> y1, MatMulScratch scratch, CpuThreadPool pool)
    {
        CheckGroup(w0, w0, x, n, y0, "y0");
        CheckGroup(w0, w1, x, n, y1, "y1");
        var ws = stackalloc WeightMatrix[2] { w0, w1 };
        fixed (float* xp = x)
        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        {
            var ys = stackalloc float*[2] { p0, p1 };
            Group(ws, ys, 2, xp, n, scratch, pool, DefaultPath, InterleavedMinTokens, PackedUnpackMinTokens);
        }
    }

    /// <summary>
    /// Three products of the same activations (e.g. attention's Q, K and V projections); see the
    /// two-matrix overload.
    /// </summary>
    public static void MatMul(in WeightMatrix w0, in WeightMatrix w1, in WeightMatrix w2, ReadOnlySpan<float> x, int n,
        Span<float> y0, Span<float> y1, Span<float> y2, MatMulScratch scratch, CpuThreadPool pool)
    {
        CheckGroup(w0, w0, x, n, y0, "y0");
        CheckGroup(w0, w1, x, n, y1, "y1");
        CheckGroup(w0, w2, x, n, y2, "y2");
        var ws = stackalloc WeightMatrix[3] { w0, w1, w2 };
        fixed (float* xp = x)
        fixed (float* p0 = y0)
        fixed (float* p1 = y1)
        fixed (float* p2 = y2)
        {
            var ys = stackalloc float*[3] { p0, p1, p2 };
            Group(ws, ys, 3, xp, n, scratch, pool, DefaultPath, InterleavedMinTokens, PackedUnpackMinTokens);
        }
    }

    /// <summary>MatMul on a forced kernel path (tests and benchmarks).</summary>
    /// <param name="interleavedMinTokens">Token count from which row-interleaved kernels run, for repacked tiles too (int.MaxValue: never; tests).</param>
    internal static void MatMul(in WeightMatrix w, ReadOnlySpan<float> x, int n, Span<float> y, MatMulScratch scratch,
        CpuThreadPool pool, KernelPath path, int interleavedMinTokens = InterleavedMinTokens)
    {
        CheckGroup(w, w, x, n, y, nameof(y));
        WeightMatrix copy = w;
        fixed (float* xp = x)
        fixed (float* yp = y)
            Group(&copy, &yp, 1, xp, n, scratch, pool, path, interleavedMinTokens, interleavedMinTokens);
    }

    static void CheckGroup(in WeightMatrix first, in WeightMatrix w, ReadOnlySpan<float> x, int n, Span<float> y, string yName)
    {
        if (n < 0) ThrowNegative(n);
        if (w.Cols != first.Cols) ThrowCols(first, w);
        if ((long)n * w.Cols > x.Length) ThrowShort(nameof(x), x.Length, (long)n * w.Cols, $"[{n}, {w.Cols}]");
        if ((long)n * w.Rows > y.Length) ThrowShort(yName, y.Length, (long)n * w.Rows, $"[{n}, {w.Rows}]");
    }

    /// <summary>
    /// Y_i = X * W_i^T for <paramref name="count"/> (1..3) matrices of equal Cols: quantize X once
    /// per activation format, then one dispatch whose chunks cover every matrix's rows.
    /// </summary>
    static void Group(WeightMatrix* ws, float** ys, int count, float* x, int n, MatMulScratch scratch, CpuThreadPool pool,
        KernelPath path, int interleavedMinTokens, int packedUnpackMinTokens)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(pool);
        if (n == 0) return;
        int cols = ws[0].Cols;
        var kernels = stackalloc DotKernels[count];
        for (int i = 0; i < count; i++) kernels[i] = DotKernels.For(ws[i].Type, path);
        for (int i = 1; i < count; i++)
        {
            if (!SameActivations(kernels[0], kernels[i]))
            {
                // Different activation formats: one group per matrix.
                for (int j = 0; j < count; j++) Group(ws + j, ys + j, 1, x, n, scratch, pool, path, interleavedMinTokens, packedUnpackMinTokens);
                return;
            }
        }
        if (cols == 0)
        {
            for (int i = 0; i < count; i++) new Span<float>(ys[i], n * ws[i].Rows).Clear();
            return;
        }

        var acts = Quantize(kernels[0], x, n, cols, scratch, pool, path);
        var job = new GroupJob { Count = count };
        long tileBytes = 0;
        for (int i = 0; i < count; i++)
        {
            ref Part part = ref job.Parts[i];
            part.W = ws + i;
            if (ws[i].Layout == WeightLayout.Tiles16)
            {
                if (kernels[i].PackedGemv == null) ThrowLayout(ws[i]);
                bool unpack = kernels[i].PackedUnpack != null && kernels[i].InterleavedTokens != null && n >= packedUnpackMinTokens;
                int tiles = (ws[i].Rows + Interleaved.Rows - 1) / Interleaved.Rows;
                // Gemv chunks span several tiles: with one tile each, the threads would take
                // alternate 18 KB tiles and each core's prefetcher would run on into its
                // neighbour's tile, fetching everything twice (measured: 2 threads slower than 1).
                int span = unpack ? 1 : Math.Clamp(tiles / (4 * pool.Threads), 1, 16);
                part.Inter = new InterleavedJob { W = ws + i, Acts = acts, K = kernels[i], Y = ys[i], N = n, Packed = true, Unpack = unpack, Span = span };
                part.Chunks = (tiles + span - 1) / span;
                if (unpack) tileBytes = Math.Max(tileBytes, kernels[i].InterleavedTileBytes(cols));
            }
            else if (kernels[i].InterleavedTokens != null && n >= interleavedMinTokens)
            {
                part.Inter = new InterleavedJob { W = ws + i, Acts = acts, K = kernels[i], Y = ys[i], N = n };
                part.Chunks = (ws[i].Rows + Interleaved.Rows - 1) / Interleaved.Rows;
                tileBytes = Math.Max(tileBytes, kernels[i].InterleavedTileBytes(cols));
            }
            else
            {
                part.Rowwise = new MatMulJob(ws[i], acts, kernels[i], ys[i], n, pool.Threads);
                part.Chunks = part.Rowwise.ChunkCount;
            }
            job.Ends[i] = (i == 0 ? 0 : job.Ends[i - 1]) + part.Chunks;
        }
        if (tileBytes > 0)
        {
            scratch.EnsureTiles(pool.Threads, tileBytes);
            for (int i = 0; i < count; i++) job.Parts[i].Inter.Tiles = scratch.Tiles;
        }
        pool.Run(job, job.Ends[count - 1]);
    }

    /// <summary>True when two kernels read identical activation rows (one quantization serves both).</summary>
    static bool SameActivations(in DotKernels a, in DotKernels b) =>
        a.Format == b.Format && a.SumOffset == b.SumOffset && (a.Tile != null) == (b.Tile != null);

    /// <summary>The activations in <paramref name="k"/>'s format (quantized into the scratch, or the fp32 rows as they are).</summary>
    static ActivationRows Quantize(in DotKernels k, float* x, int n, int cols, MatMulScratch scratch, CpuThreadPool pool, KernelPath path)
    {
        var acts = new ActivationRows { Floats = x, Cols = cols };
        if (k.Format == ActivationFormat.Float) return acts;
        scratch.Ensure(n, cols);
        acts.Codes = scratch.Codes;
        acts.Scales = scratch.Scales;
        acts.Sums = scratch.Sums;
        acts.ScaleLanes = scratch.ScaleLanes;
        acts.CorrLanes = scratch.CorrLanes;
        acts.OffsetSums = scratch.OffsetSums;
        acts.ScalesPerToken = cols / k.ScaleBlock;
        acts.SumsPerToken = cols / k.SumBlock;
        var quantize = new QuantizeJob { Acts = acts, Format = k.Format, Path = path, SumOffset = k.SumOffset, Lanes = k.Tile != null };
        // One row takes ~1 us: below a few rows, waking the workers costs more than it saves.
        if (n < 4 * pool.Threads)
            for (int t = 0; t < n; t++) quantize.Execute(t, 0);
        else
            pool.Run(quantize, n);
        return acts;
    }

    /// <summary>One matrix of a group: either kind of job and its chunk count.</summary>
    struct Part
    {
        public WeightMatrix* W;
        public MatMulJob Rowwise;
        public InterleavedJob Inter;
        public int Chunks;
        public readonly bool IsInterleaved => Inter.W != null;
    }

    [InlineArray(3)]
    struct Parts3 { Part _e0; }

    [InlineArray(3)]
    struct Ints3 { int _e0; }

    /// <summary>Chunks [0, Ends[0]) are matrix 0's, [Ends[0], Ends[1]) matrix 1's, ...</summary>
    struct GroupJob : IChunkJob
    {
        public Parts3 Parts;
        public Ints3 Ends;
        public int Count;

        public readonly void Execute(int chunk, int worker)
        {
            int i = 0;
            while (chunk >= Ends[i]) i++;
            int local = chunk - (i == 0 ? 0 : Ends[i - 1]);
            if (Parts[i].IsInterleaved) Parts[i].Inter.Execute(local, worker);
            else Parts[i].Rowwise.Execute(local, worker);
        }
    }

    /// <summary>
    /// Token count from which the row-interleaved kernels run (where the type has them): a tile
    /// decode costs about what two tokens of per-row products do, and each token after that
    /// costs about a third of a per-row product.
    /// </summary>
    internal const int InterleavedMinTokens = 4;

    /// <summary>
    /// Token count from which repacked (Tiles16) weights are expanded for the token kernels;
    /// below it each token takes the packed gemv over a tile that the first token brought into
    /// L1 (18 KB for Q4_0 at 2048 columns), which costs far less than a gemv from memory.
    /// Measured on the 2-core dev box, TinyLlama Q4_0, pp N, gemv / expansion, t/s (2026-12-08,
    /// `llcuda bench -p N -n 0 -r 3 -t 2`, 3 alternating rounds): 4: 106-114 / 61-63; 8:
    /// 130-138 / 96-99; 16: 151-155 / 129-131; 24: 151-164 / 150-154; 32 and up: equal. Batched
    /// decode (continuous batching's 4-16 tokens per step) is what gains.
    /// </summary>
    internal const int PackedUnpackMinTokens = 24;

    /// <summary>One chunk = 16 weight rows decoded into this worker's tile, then every token over it.</summary>
    struct InterleavedJob : IChunkJob
    {
        public WeightMatrix* W;
        public ActivationRows Acts;
        public DotKernels K;
        public float* Y;   // [n, rows]
        public int N;
        public byte** Tiles; // [threads] each worker's tile buffer
        public bool Packed;  // W is repacked (WeightLayout.Tiles16): chunk = one of its tiles
        public bool Unpack;  // packed: expand the tile for the token kernels, else one gemv per token
        public int Span;     // packed gemv: tiles per chunk

        public readonly void Execute(int chunk, int worker)
        {
            var acts0 = Acts;
            if (Packed && !Unpack)
            {
                int tiles = (W->Rows + Interleaved.Rows - 1) / Interleaved.Rows;
                for (int i = chunk * Span, end = Math.Min(tiles, i + Span); i < end; i++)
                {
                    int first = i * Interleaved.Rows, count = Math.Min(Interleaved.Rows, W->Rows - first);
                    byte* src = W->Tile(i);
                    for (int t = 0; t < N; t++) K.PackedGemv(src, &acts0, t, Y + (long)t * W->Rows + first, count);
                }
                return;
            }
            int r0 = chunk * Interleaved.Rows;
            int rows = Math.Min(Interleaved.Rows, W->Rows - r0);
            byte* tile = Tiles[worker];
            if (Packed)
            {
                K.PackedUnpack(W->Tile(chunk), W->Cols, tile);
                K.InterleavedTokens(tile, &acts0, 0, N, Y + r0, W->Rows, rows);
                return;
            }
            K.InterleavedDecode(W, r0, rows, tile);
            var acts = Acts;
            K.InterleavedTokens(tile, &acts, 0, N, Y + r0, W->Rows, rows);
        }
    }

    /// <summary>Quantizes one activation row per chunk.</summary>
    struct QuantizeJob : IChunkJob
    {
        public ActivationRows Acts;
        public ActivationFormat Format;
        public KernelPath Path;
        public int SumOffset;
        public bool Lanes;

        public readonly void Execute(int token, int worker)
        {
            float* x = Acts.FloatsOf(token);
            if (Format == ActivationFormat.Q8Blocks)
            {
                ActivationQuantizer.Q8Blocks(x, Acts.Cols, Acts.CodesOf(token), Acts.ScalesOf(token), Acts.SumsOf(token), Path);
                if (Lanes)
                    ActivationQuantizer.FillLanes(Acts.ScalesOf(token), Acts.SumsOf(token), Acts.Cols / 32, SumOffset,
                        Acts.ScaleLanesOf(token), Acts.CorrLanesOf(token), Acts.OffsetSumsOf(token));
            }
            else
                ActivationQuantizer.Q8K(x, Acts.Cols, Acts.CodesOf(token), Acts.ScalesOf(token), Acts.SumsOf(token), Path);
        }
    }

    /// <summary>
    /// One chunk = a tile of weight rows times a tile of tokens. Row tiles are small enough that
    /// the rows stay in L1/L2 while every token of the tile passes over them; token tiles bound
    /// the activations one chunk touches.
    /// </summary>
    struct MatMulJob : IChunkJob
    {
        /// <summary>Tokens per chunk: 64 rows of quantized activations (128 KiB at 2048 columns) stay in L2.</summary>
        const int TokenTile = 64;

        readonly WeightMatrix _w;
        readonly ActivationRows _acts;
        readonly DotKernels _k;
        readonly float* _y;          // [n, rows]
        readonly int _n;
        readonly int _rowTile;
        readonly int _rowChunks;
        public readonly int ChunkCount;

        public MatMulJob(in WeightMatrix w, ActivationRows acts, DotKernels k, float* y, int n, int threads)
        {
            _w = w;
            _acts = acts;
            _k = k;
            _y = y;
            _n = n;
            // Aim for >= 8 chunks per thread so a thread the OS delays costs little, with 16..64
            // rows per chunk so each claim (one atomic) amortizes over >= ~20 KB of weights.
            int tokenChunks = (n + TokenTile - 1) / TokenTile;
            int wanted = Math.Max(1, 8 * threads / tokenChunks);
            _rowTile = Math.Clamp((w.Rows + wanted - 1) / wanted, 16, 64);
            _rowTile = (_rowTile + 3) & ~3;
            _rowChunks = (w.Rows + _rowTile - 1) / _rowTile;
            ChunkCount = _rowChunks * tokenChunks;
        }

        public readonly void Execute(int chunk, int worker)
        {
            int r0 = chunk % _rowChunks * _rowTile;
            int r1 = Math.Min(_w.Rows, r0 + _rowTile);
            int t0 = chunk / _rowChunks * TokenTile;
            int t1 = Math.Min(_n, t0 + TokenTile);
            int rows = _w.Rows;
            var acts = _acts;
            if (_k.Tile != null)
            {
                for (int t = t0; t < t1; t += DotKernels.MaxTile)
                {
                    int count = Math.Min(DotKernels.MaxTile, t1 - t);
                    for (int r = r0; r < r1; r++)
                        _k.Tile(_w.Row(r), &acts, t, count, _y + (long)t * rows + r, rows);
                }
                return;
            }
            int cols = _w.Cols;
            if (_k.Format == ActivationFormat.Float)
            {
                for (int t = t0; t < t1; t++)
                    for (int r = r0; r < r1; r++)
                        _y[(long)t * rows + r] = _k.FloatRow(_w.Row(r), acts.FloatsOf(t), cols);
            }
            else
            {
                int blocks = cols / GgmlTypeInfo.BlockSize(_w.Type);
                for (int t = t0; t < t1; t++)
                    for (int r = r0; r < r1; r++)
                        _y[(long)t * rows + r] = _k.QuantRow(_w.Row(r), acts.CodesOf(t), acts.ScalesOf(t), acts.SumsOf(t), blocks);
            }
        }
    }

    [DoesNotReturn]
    static void ThrowLayout(in WeightMatrix w) => throw new NotSupportedException($"CpuMatMul: no kernel for {w} (repacked layouts exist for Q4_0 and Q4_K only)");

    [DoesNotReturn]
    static void ThrowCols(in WeightMatrix first, in WeightMatrix w) => throw new ArgumentException(
        $"CpuMatMul: matrices multiplied with the same activations need the same Cols, but {first} and {w} differ", nameof(w));

    [DoesNotReturn]
    static void ThrowNegative(int n) => throw new ArgumentOutOfRangeException(nameof(n), n, "CpuMatMul: n (activation rows) must not be negative");

    [DoesNotReturn]
    static void ThrowShort(string name, int length, long needed, string shape) => throw new ArgumentException(
        $"CpuMatMul: {name} has {length} elements but the product needs {needed} ({shape})", name);
}
