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
    internal static KernelPath DefaultPath { get; } = KernelPaths.Widest;

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
    public static void MatMul(in WeightMatrix w, ReadOnlySpan<float> x, int n, Span<float> y, MatMulScratch scratch, CpuThreadPool pool) =>
        MatMul(w, x, n, y, scratch, pool, DefaultPath);

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

    /// <summary>MatMul on a forced kernel path (tests and benchmarks).</summary>
    /// <param name="interleavedMinTokens">Token count from which row-interleaved kernels run (int.MaxValue: never; tests).</param>
    internal static void MatMul(in WeightMatrix w, ReadOnlySpan<float> x, int n, Span<float> y, MatMulScratch scratch,
        CpuThreadPool pool, KernelPath path, int interleavedMinTokens = InterleavedMinTokens)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(pool);
        if (n < 0) ThrowNegative(n);
        if ((long)n * w.Cols > x.Length) ThrowShort(nameof(x), x.Length, (long)n * w.Cols, $"[{n}, {w.Cols}]");
        if ((long)n * w.Rows > y.Length) ThrowShort(nameof(y), y.Length, (long)n * w.Rows, $"[{n}, {w.Rows}]");
        if (n == 0 || w.Rows == 0) return;
        if (w.Cols == 0)
        {
            y[..(n * w.Rows)].Clear();
            return;
        }

        var kernels = DotKernels.For(w.Type, path);
        fixed (float* xp = x)
        fixed (float* yp = y)
        {
            var acts = new ActivationRows { Floats = xp, Cols = w.Cols };
            if (kernels.Format != ActivationFormat.Float)
            {
                scratch.Ensure(n, w.Cols);
                acts.Codes = scratch.Codes;
                acts.Scales = scratch.Scales;
                acts.Sums = scratch.Sums;
                acts.ScaleLanes = scratch.ScaleLanes;
                acts.CorrLanes = scratch.CorrLanes;
                acts.OffsetSums = scratch.OffsetSums;
                acts.ScalesPerToken = w.Cols / kernels.ScaleBlock;
                acts.SumsPerToken = w.Cols / kernels.SumBlock;
                var quantize = new QuantizeJob { Acts = acts, Format = kernels.Format, Path = path, SumOffset = kernels.SumOffset, Lanes = kernels.Tile != null };
                // One row takes ~1 us: below a few rows, waking the workers costs more than it saves.
                if (n < 4 * pool.Threads)
                    for (int t = 0; t < n; t++) quantize.Execute(t, 0);
                else
                    pool.Run(quantize, n);
            }

            if (kernels.InterleavedTokens != null && n >= interleavedMinTokens)
            {
                scratch.EnsureTiles(pool.Threads, kernels.InterleavedTileBytes(w.Cols));
                WeightMatrix wcopy = w;
                var ijob = new InterleavedJob { W = &wcopy, Acts = acts, K = kernels, Y = yp, N = n, Tiles = scratch.Tiles };
                pool.Run(ijob, (w.Rows + Interleaved.Rows - 1) / Interleaved.Rows);
                return;
            }
            var job = new MatMulJob(w, acts, kernels, yp, n, pool.Threads);
            pool.Run(job, job.ChunkCount);
        }
    }

    /// <summary>
    /// Token count from which the row-interleaved kernels run (where the type has them): a tile
    /// decode costs about what two tokens of per-row products do, and each token after that
    /// costs about a third of a per-row product.
    /// </summary>
    internal const int InterleavedMinTokens = 4;

    /// <summary>One chunk = 16 weight rows decoded into this worker's tile, then every token over it.</summary>
    struct InterleavedJob : IChunkJob
    {
        public WeightMatrix* W;
        public ActivationRows Acts;
        public DotKernels K;
        public float* Y;   // [n, rows]
        public int N;
        public byte** Tiles; // [threads] each worker's tile buffer

        public readonly void Execute(int chunk, int worker)
        {
            int r0 = chunk * Interleaved.Rows;
            int rows = Math.Min(Interleaved.Rows, W->Rows - r0);
            byte* tile = Tiles[worker];
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
    static void ThrowNegative(int n) => throw new ArgumentOutOfRangeException(nameof(n), n, "CpuMatMul: n (activation rows) must not be negative");

    [DoesNotReturn]
    static void ThrowShort(string name, int length, long needed, string shape) => throw new ArgumentException(
        $"CpuMatMul: {name} has {length} elements but the product needs {needed} ({shape})", name);
}
