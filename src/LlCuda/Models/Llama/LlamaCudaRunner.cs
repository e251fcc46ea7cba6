using LlCuda.Cuda;
using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Models.Llama;

/// <summary>
/// The Llama forward pass on one NVIDIA GPU: weights uploaded once (DeviceWeights layouts),
/// activations in fp32 with Q8_1 / fp32 / fp16 copies made by the kernel that produces them,
/// a paged F16 KV cache on the device (a pool of blocks addressed through each sequence's block
/// table, <see cref="IPagedKvRunner"/>, laid out as <see cref="LlamaCpuRunner"/> does). Per
/// layer: residual + RMSNorm (+ Q8_1), one QKV projection, RoPE + KV write, split-K attention +
/// combine (+ Q8_1), O projection, residual + RMSNorm, one gate/up projection, SwiGLU (+ Q8_1),
/// down projection; the residual add of each block's output is folded into the next norm. A decode step of up to
/// MaxGraphTokens tokens (one per sequence of a continuous batch) is captured once as a CUDA graph (per token count and output kind) and replayed: the host copies the embedding
/// rows, positions and block tables into pinned memory, launches the graph and reads back the
/// logits or, for greedy sampling, the argmax ids. Prefill (more than GemmThreshold tokens) dequantizes
/// each weight matrix to fp16 and multiplies on the tensor cores through cuBLAS.
/// Not thread-safe: one caller at a time (the engine's scheduler).
/// </summary>
public sealed class LlamaCudaRunner : IPagedKvRunner, IGreedyRunner
{
    /// <summary>
    /// Batches of more tokens than this run their projections as cuBLAS GEMMs. Below it the
    /// matvec kernels stream the weights once per 8 tokens: for n tokens n / 8 passes over the
    /// weights, against the GEMM path's dequantization (read the weights, write 2 bytes per
    /// weight) and GEMM (read those again), about 8 weight passes for Q4 types: the two meet
    /// near 64, so batched decode up to 64 sequences stays on the matvec kernels and graphs.
    /// </summary>
    public const int GemmThreshold = 64;

    /// <summary>Largest batch captured as a CUDA graph (decode).</summary>
    public const int MaxGraphTokens = 64;

    readonly GgufFile _file;
    readonly bool _ownsFile;
    readonly LlamaTensors _t;
    readonly ModelHyperparameters _hp;
    readonly CudaContext _context;
    readonly CudaStream _stream;
    readonly KernelCompiler _compiler;
    readonly ForwardKernels _k;
    readonly Dictionary<GgmlType, MatVecKernels> _matvec = [];
    readonly CublasHandle? _cublas;
    readonly Layer[] _layers;
    readonly DeviceProjection _output;
    readonly DeviceBuffer _outputNorm;      // [dim] fp32
    readonly DeviceBuffer _ropeFreqs;       // [n_rot / 2] fp32
    readonly DeviceBuffer _kCache, _vCache; // [layers, blocks, block_size, kv_dim] fp16
    readonly int _blockSize, _blockCount;   // positions per KV block; blocks in the pool
    readonly int _tableStride;              // ceil(ctx / block_size): a block table row as staged for the kernels
    readonly KvBlockTables _tables;         // each batch sequence's block table (given, or the fixed layout)
    readonly int _dim, _qDim, _kvDim, _ffn, _headDim, _vocab, _chunks, _qkvRows, _maxCols;
    readonly Dictionary<(int Tokens, bool Greedy), CudaGraph> _graphs = [];
    readonly List<IDisposable> _owned = [];
    Buffers? _buf;
    DeviceBuffer? _scratch;                 // fp16 dequantized weights for the GEMM path

    sealed record Layer(DeviceBuffer AttnNorm, DeviceProjection Qkv, DeviceProjection O, DeviceBuffer FfnNorm,
        DeviceProjection GateUp, DeviceProjection Down);

    /// <param name="file">An open model; the runner reads the token embeddings from its memory map.</param>
    /// <param name="options">Context length, sequences and KV blocks (the KV cache is F16 on the GPU).</param>
    /// <param name="deviceOrdinal">The GPU.</param>
    /// <param name="ownsFile">Dispose <paramref name="file"/> with the runner.</param>
    public LlamaCudaRunner(GgufFile file, RunnerOptions options, int deviceOrdinal = 0, bool ownsFile = false)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        _file = file;
        _ownsFile = ownsFile;
        _t = LlamaTensors.From(file);
        _hp = _t.Hyperparameters;
        var freqs = _hp.RopeFrequencies(file.Source); // [n_rot / 2]; refuses unsupported RoPE scaling before any GPU work
        if (options.KvCacheType != KvCacheType.F16)
            throw new NotSupportedException("the CUDA backend keeps its KV cache in f16; drop --cache-type f32 or use --device cpu");
        _dim = _hp.EmbeddingLength;
        _headDim = _hp.KeyLength;
        _qDim = _hp.HeadCount * _headDim;
        _kvDim = _hp.HeadCountKv * _headDim;
        _ffn = _hp.FeedForwardLength;
        _vocab = (int)_t.TokenEmbedding.Dimensions[1];
        _qkvRows = _qDim + 2 * _kvDim;
        _maxCols = Math.Max(Math.Max(_dim, _qDim), _ffn);
        if (_headDim % 8 != 0 || _headDim > ForwardKernels.MaxHeadDim)
            throw new NotSupportedException($"{file.Source}: head dimension {_headDim} is not supported by the CUDA attention kernel (multiples of 8 up to {ForwardKernels.MaxHeadDim}); use --device cpu");
        if (_dim % 32 != 0 || _qDim % 32 != 0)
            throw new NotSupportedException($"{file.Source}: width {_dim} / query width {_qDim} is not a multiple of 32, which the CUDA kernels need; use --device cpu");
        ContextLength = options.ResolveContextLength(_hp.ContextLength);
        MaxSequences = Math.Max(1, options.MaxSequences);
        _chunks = (ContextLength + ForwardKernels.AttentionChunk - 1) / ForwardKernels.AttentionChunk;
        _blockCount = options.ResolveKvBlocks(ContextLength); // checks the block size and count
        _blockSize = options.KvBlockSize;
        _tableStride = options.BlocksPerSequence(ContextLength);
        // The kernels compute cache rows (block * block_size + row) in 32-bit ints.
        if ((long)_blockCount * _blockSize > int.MaxValue)
            throw new NotSupportedException($"a KV cache of {_blockCount} blocks x {_blockSize} positions has more than 2^31 rows, which the CUDA kernels cannot address; use fewer KV blocks or a smaller --ctx");
        _tables = new KvBlockTables(MaxSequences, _tableStride, _blockCount);

        _context = CudaContext.Open(deviceOrdinal);
        try
        {
            _stream = Own(CudaStream.Create(_context));
            _compiler = new KernelCompiler(_context);
            _k = Own(ForwardKernels.Load(_compiler));
            _cublas = TryCreateCublas();

            _layers = new Layer[_t.Blocks.Count];
            for (int i = 0; i < _layers.Length; i++)
            {
                var b = _t.Blocks[i];
                _layers[i] = new Layer(Own(Floats(b.AttnNorm, $"blk.{i}.attn_norm")), Own(Projection(_dim, b.Wq, b.Wk, b.Wv)),
                    Own(Projection(_qDim, b.Wo)), Own(Floats(b.FfnNorm, $"blk.{i}.ffn_norm")),
                    Own(Projection(_dim, b.FfnGate, b.FfnUp)), Own(Projection(_ffn, b.FfnDown)));
            }
            _output = Own(Projection(_dim, _t.Output));
            _outputNorm = Own(Floats(_t.OutputNorm, "output_norm"));

            // One unused float when nothing rotates (a buffer cannot be empty).
            _ropeFreqs = Own(Upload(freqs.Length > 0 ? freqs : [0f], "RoPE frequencies"));

            long cacheBytes = 2L * _layers.Length * _blockCount * _blockSize * _kvDim;
            _kCache = Own(DeviceBuffer.Allocate(_context, cacheBytes, $"KV cache (keys: {_layers.Length} layers x {_blockCount} blocks x {_blockSize} positions)"));
            _vCache = Own(DeviceBuffer.Allocate(_context, cacheBytes, "KV cache (values)"));
            _stream.Synchronize();
        }
        catch
        {
            DisposeOwned();
            throw;
        }
    }

    public int VocabSize => _vocab;
    public int ContextLength { get; }
    public int MaxSequences { get; }
    public string BackendName => "CUDA";
    public ModelHyperparameters Hyperparameters => _hp;
    public int KvBlockSize => _blockSize;
    public int KvBlockCount => _blockCount;
    public long KvBlockBytes => 2L * _layers.Length * _blockSize * _kvDim * 2;
    /// <summary>The GPU the model runs on.</summary>
    public CudaDevice Device => _context.Device;

    /// <summary>Bytes of device memory this runner holds (weights, KV cache, activations, scratch).</summary>
    public long DeviceBytes
    {
        get
        {
            long total = _layers.Sum(l => l.Qkv.ByteSize + l.O.ByteSize + l.GateUp.ByteSize + l.Down.ByteSize + l.AttnNorm.ByteLength + l.FfnNorm.ByteLength)
                + _output.ByteSize + _outputNorm.ByteLength + _ropeFreqs.ByteLength + _kCache.ByteLength + _vCache.ByteLength;
            if (_buf is not null) total += _buf.DeviceBytes;
            if (_scratch is not null) total += _scratch.ByteLength;
            return total;
        }
    }

    /// <summary>Bytes of weights on the device (what a decode step streams).</summary>
    public long WeightBytes => _layers.Sum(l => l.Qkv.ByteSize + l.O.ByteSize + l.GateUp.ByteSize + l.Down.ByteSize) + _output.ByteSize;

    /// <summary>Replay decode steps as CUDA graphs (default); false launches every kernel from the host (for comparison and debugging).</summary>
    public bool UseGraphs { get; set; } = true;

    T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    CublasHandle? TryCreateCublas()
    {
        try
        {
            var handle = CublasHandle.Create(_context);
            handle.SetStream(_stream);
            _owned.Add(handle);
            return handle;
        }
        catch (CudaException)
        {
            return null; // prefill then runs on the matvec kernels: slower, same results
        }
    }

    DeviceProjection Projection(int cols, params GgufTensorInfo[] tensors)
    {
        var sources = tensors.Select(t => new WeightSource(() => _file.GetTensorData(t), (int)t.Dimensions[1], t.Type)).ToArray();
        return DeviceProjection.Upload(_context, _stream, cols, sources, KernelsFor);
    }

    MatVecKernels KernelsFor(GgmlType type)
    {
        if (!_matvec.TryGetValue(type, out var kernels))
        {
            kernels = MatVecKernels.Load(_compiler, type);
            _matvec[type] = kernels;
            _owned.Add(kernels);
        }
        return kernels;
    }

    DeviceBuffer Floats(GgufTensorInfo t, string name)
    {
        var values = new float[t.ElementCount];
        Dequantize.Row(t.Type, _file.GetTensorData(t), values);
        return Upload(values, name);
    }

    DeviceBuffer Upload(float[] values, string purpose)
    {
        var buffer = DeviceBuffer.Allocate(_context, values.Length * 4L, purpose);
        buffer.CopyFromHost<float>(values, _stream);
        _stream.Synchronize(); // values is pageable and goes out of scope
        return buffer;
    }

    public void TruncateSequence(int sequence, int fromPosition)
    {
        // Attention reads positions 0..pos of the token's own sequence, so positions past a
        // truncation are simply overwritten by the next tokens: nothing to clear on the GPU.
        if ((uint)sequence >= (uint)MaxSequences) throw new ArgumentOutOfRangeException(nameof(sequence), $"sequence {sequence} is past the {MaxSequences} sequences the KV cache holds");
    }


    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return;
        batch.Validate(logits.Length, _vocab, ContextLength, MaxSequences, _blockSize, _blockCount);
        int m = Run(batch, greedy: false);
        if (m == 0) return;
        var dest = logits[..(m * _vocab)];
        if (m <= _buf!.PinnedLogitRows) _buf.HostLogits.AsSpan<float>()[..dest.Length].CopyTo(dest);
        else _buf.Logits.CopyToHost(dest, _stream);
    }

    public void ForwardGreedy(ForwardBatch batch, Span<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0) return;
        batch.Validate(batch.OutputCount * _vocab, _vocab, ContextLength, MaxSequences, _blockSize, _blockCount);
        if (tokens.Length < batch.OutputCount)
            throw new ArgumentException($"tokens has {tokens.Length} slots, the batch has {batch.OutputCount} tokens that want logits", nameof(tokens));
        int m = Run(batch, greedy: true);
        _buf!.HostIds.AsSpan<int>()[..m].CopyTo(tokens);
    }

    // Stages the batch's inputs in pinned memory, runs the step (graph replay or eager) and waits
    // for it; returns the number of output rows, whose logits or ids are then in pinned memory
    // (or, for more logits rows than the pinned buffer holds, in device memory).
    int Run(ForwardBatch batch, bool greedy)
    {
        int n = batch.Count, m = batch.OutputCount;
        // A sequence without a table needs the fixed layout: refused before any GPU work.
        for (int i = 0; i < n; i++) _tables.TableOf(batch, batch.SequenceIds[i]);
        var b = EnsureBuffers(n);
        var x = b.HostEmbeddings.AsSpan<float>();
        // ints: positions [n], output rows [n], block tables [n, table_stride] (see Record).
        var ints = b.HostInts.AsSpan<int>();
        int rows = 0, maxPos = 0;
        for (int i = 0; i < n; i++)
        {
            Dequantize.Row(_t.TokenEmbedding.Type, _file.GetTensorRows(_t.TokenEmbedding, batch.Tokens[i], 1), x.Slice(i * _dim, _dim));
            ints[i] = batch.Positions[i];
            if (batch.WantLogits[i]) ints[n + rows++] = i;
            maxPos = Math.Max(maxPos, batch.Positions[i]);
            // The sequence's table, cut or padded to the stride (Validate checked that it covers
            // the position; the kernels read no entry past it).
            var table = _tables.TableOf(batch, batch.SequenceIds[i]);
            var row = ints.Slice(2 * n + i * _tableStride, _tableStride);
            int k = Math.Min(table.Length, _tableStride);
            table.AsSpan(0, k).CopyTo(row);
            row[k..].Clear();
        }

        bool graph = UseGraphs && n <= MaxGraphTokens && m == n;
        if (graph)
        {
            if (!_graphs.TryGetValue((n, greedy), out var g))
            {
                g = CudaGraph.Capture(_stream, s => Record(s, n, m, _chunks, greedy));
                _graphs[(n, greedy)] = g;
            }
            g.Launch(_stream);
        }
        else
        {
            // Eager launches size the attention grid to the batch's own positions.
            int chunks = Math.Min(_chunks, maxPos / ForwardKernels.AttentionChunk + 1);
            Record(_stream, n, m, chunks, greedy);
        }
        _stream.Synchronize();
        return m;
    }

    // Queues one forward pass over n tokens (inputs in pinned memory: embeddings, and the ints:
    // positions [n], output rows [n], block tables [n, table_stride]) with m output rows;
    // everything in it may be captured. The copies' sizes and the ints' offsets depend on n
    // only, so a graph (one per n) copies no more than its batch and reads each replay's tables.
    void Record(CudaStream s, int n, int m, int chunks, bool greedy)
    {
        var b = _buf!;
        bool gemm = n > GemmThreshold && _cublas is not null;
        if (gemm) EnsureScratch();
        b.X.CopyFromHost(b.HostEmbeddings, (long)n * _dim * 4, s);
        b.Ints.CopyFromHost(b.HostInts, 4L * n * (2 + _tableStride), s);
        ulong pos = b.Ints.Address, rowmap = pos + 4UL * (ulong)n, tables = rowmap + 4UL * (ulong)n;
        long layerCache = (long)_blockCount * _blockSize * _kvDim * 2;
        float scale = 1.0f / MathF.Sqrt(_headDim);

        for (int li = 0; li < _layers.Length; li++)
        {
            var l = _layers[li];
            // x += previous FFN output; normed x for QKV.
            Norm(s, li == 0 ? 0 : b.FfnOut.Address, l.AttnNorm, 0, n, l.Qkv, gemm);
            Project(s, l.Qkv, b.Qkv.Address, n, _qkvRows, gemm);
            ulong kc = _kCache.Address + (ulong)(li * layerCache), vc = _vCache.Address + (ulong)(li * layerCache);
            int pairs = _qkvRows / 2;
            _k.RopeKv.Launch(s, new Dim3((uint)((pairs + 127) / 128), (uint)n, 1), 128u, 0,
                b.Qkv, _qkvRows, pos, tables, _tableStride, _blockSize, _ropeFreqs, _hp.RopeDimensionCount / 2, kc, vc, _qDim, _kvDim, _headDim);
            _k.AttentionPartial.Launch(s, new Dim3((uint)(n * _hp.HeadCount), (uint)chunks, 1), 128u, 0,
                b.Qkv, _qkvRows, pos, tables, _tableStride, _blockSize, kc, vc, b.PartO, b.PartMl, _hp.HeadCount, _hp.GqaRatio, _headDim, _kvDim, chunks, scale);
            var (aq, ads, af, ah) = Forms(l.O, gemm);
            _k.AttentionCombine.Launch(s, (uint)n, 256u, 0, b.PartO, b.PartMl, pos, af, ah, aq, ads, _hp.HeadCount, _headDim, chunks);
            Project(s, l.O, b.AttnOut.Address, n, _dim, gemm);
            // x += attention output; normed x for gate/up.
            Norm(s, b.AttnOut.Address, l.FfnNorm, 0, n, l.GateUp, gemm);
            Project(s, l.GateUp, b.GateUp.Address, n, 2 * _ffn, gemm);
            var (gq, gds, gf, gh) = Forms(l.Down, gemm);
            _k.SwiGlu.Launch(s, (uint)((n * _ffn + 127) / 128), 128u, 0, b.GateUp, gq, gds, gf, gh, n, _ffn);
            Project(s, l.Down, b.FfnOut.Address, n, _dim, gemm);
        }

        if (m == 0) return;
        // x += last FFN output for the rows that want logits only, gathered into rows 0..m-1.
        bool outGemm = m > GemmThreshold && _cublas is not null;
        Norm(s, b.FfnOut.Address, _outputNorm, m == n ? 0 : rowmap, m, _output, outGemm);
        Project(s, _output, b.Logits.Address, m, _vocab, outGemm);
        if (greedy)
        {
            _k.ArgMax.Launch(s, (uint)m, 1024u, 0, b.Logits, b.Ids, _vocab);
            b.Ids.CopyToHost(b.HostIds, m * 4L, s);
        }
        else if (m <= b.PinnedLogitRows) b.Logits.CopyToHost(b.HostLogits, (long)m * _vocab * 4, s);
    }

    // The activation forms a projection reads: Q8_1 codes and scales, fp32, fp16 (0 = not wanted).
    (ulong Q, ulong Ds, ulong F, ulong H) Forms(DeviceProjection p, bool gemm)
    {
        var b = _buf!;
        if (gemm && p.CanGemm) return (0, 0, 0, b.XH.Address);
        return (p.NeedsQ8_1 ? b.XQ.Address : 0, p.NeedsQ8_1 ? b.XDs.Address : 0, p.NeedsF32 ? b.XF.Address : 0, 0);
    }

    void Norm(CudaStream s, ulong add, DeviceBuffer weight, ulong rowmap, int rows, DeviceProjection next, bool gemm)
    {
        var (q, ds, f, h) = Forms(next, gemm);
        _k.RmsNorm.Launch(s, (uint)rows, 256u, 0, _buf!.X, add, weight, rowmap, q, ds, f, h, _dim, _hp.RmsEpsilon);
    }

    void Project(CudaStream s, DeviceProjection p, ulong y, int n, int ldy, bool gemm)
    {
        var b = _buf!;
        if (gemm && p.CanGemm) p.Gemm(_cublas!, s, b.XH.Address, _scratch?.Address ?? 0, y, n, ldy); // no scratch when every part is F16
        else p.MatVec(s, new MatVecInput(b.XQ.Address, b.XDs.Address, b.XF.Address), y, n, ldy);
    }

    void EnsureScratch()
    {
        if (_scratch is not null) return;
        long elements = _layers.Max(l => new[] { l.Qkv, l.O, l.GateUp, l.Down }.Max(p => p.ScratchElements));
        elements = Math.Max(elements, _output.ScratchElements);
        if (elements > 0) _scratch = DeviceBuffer.Allocate(_context, elements * 2, "fp16 weights scratch for prefill GEMMs");
    }

    Buffers EnsureBuffers(int n)
    {
        if (_buf is not null && _buf.Capacity >= n) return _buf;
        // Graphs captured the old buffers' addresses.
        foreach (var g in _graphs.Values) g.Dispose();
        _graphs.Clear();
        _buf?.Dispose();
        _buf = null;
        int cap = Math.Max(n, MaxGraphTokens);
        if (cap > MaxGraphTokens) cap = Math.Max(cap, Math.Min(TextGenerator.PrefillChunk, ContextLength));
        _buf = new Buffers(_context, cap, _dim, _maxCols, _qkvRows, _ffn, _hp.HeadCount, _chunks, _headDim, _vocab, _tableStride);
        return _buf;
    }

    /// <summary>Device and pinned buffers for batches of up to Capacity tokens.</summary>
    sealed class Buffers : IDisposable
    {
        readonly List<IDisposable> _all = [];

        public Buffers(CudaContext c, int cap, int dim, int maxCols, int qkvRows, int ffn, int heads, int chunks, int headDim, int vocab, int tableStride)
        {
            Capacity = cap;
            PinnedLogitRows = Math.Min(cap, MaxGraphTokens);
            try
            {
                X = D(c, cap * (long)dim * 4, "residual stream");                    // [cap, dim] fp32
                XQ = D(c, cap * (long)maxCols, "activations (Q8_1 codes)");          // [cap, maxCols] int8
                XDs = D(c, cap * (long)maxCols / 32 * 8 + 8, "activations (Q8_1 scales)"); // [cap, maxCols / 32] float2
                XF = D(c, cap * (long)maxCols * 4, "activations (fp32)");            // [cap, maxCols] fp32
                XH = D(c, cap * (long)maxCols * 2, "activations (fp16)");            // [cap, maxCols] fp16
                Qkv = D(c, cap * (long)qkvRows * 4, "q, k, v");                      // [cap, q + 2 kv] fp32
                AttnOut = D(c, cap * (long)dim * 4, "attention output");             // [cap, dim] fp32
                FfnOut = D(c, cap * (long)dim * 4, "feed-forward output");           // [cap, dim] fp32
                GateUp = D(c, cap * 2L * ffn * 4, "gate and up");                    // [cap, 2 ffn] fp32
                PartO = D(c, (long)cap * heads * chunks * headDim * 4, "attention partial outputs"); // [cap * heads, chunks, head_dim]
                PartMl = D(c, (long)cap * heads * chunks * 8, "attention partial maxima and sums"); // [cap * heads, chunks] float2
                Logits = D(c, cap * (long)vocab * 4, "logits");                      // [cap, vocab] fp32
                Ids = D(c, cap * 4L, "sampled ids");                                 // [cap] int32
                // Positions [n], output rows [n], block tables [n, table_stride] int32, packed for the batch's n.
                long ints = (2L + tableStride) * cap * 4;
                Ints = D(c, ints, "positions, output rows, block tables");
                HostEmbeddings = P(c, cap * (long)dim * 4);
                HostInts = P(c, ints);
                HostIds = P(c, cap * 4L);
                HostLogits = P(c, PinnedLogitRows * (long)vocab * 4);
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        DeviceBuffer D(CudaContext c, long bytes, string purpose)
        {
            var b = DeviceBuffer.Allocate(c, bytes, purpose);
            _all.Add(b);
            DeviceBytes += bytes;
            return b;
        }

        PinnedHostBuffer P(CudaContext c, long bytes)
        {
            var b = PinnedHostBuffer.Allocate(c, bytes);
            _all.Add(b);
            return b;
        }

        public int Capacity { get; }
        public int PinnedLogitRows { get; }
        public long DeviceBytes { get; private set; }
        public readonly DeviceBuffer X = null!, XQ = null!, XDs = null!, XF = null!, XH = null!;
        public readonly DeviceBuffer Qkv = null!, AttnOut = null!, FfnOut = null!, GateUp = null!;
        public readonly DeviceBuffer PartO = null!, PartMl = null!, Logits = null!, Ids = null!, Ints = null!;
        public readonly PinnedHostBuffer HostEmbeddings = null!, HostInts = null!, HostIds = null!, HostLogits = null!;

        public void Dispose()
        {
            foreach (var d in _all) d.Dispose();
            _all.Clear();
        }
    }

    void DisposeOwned()
    {
        foreach (var g in _graphs.Values) g.Dispose();
        _graphs.Clear();
        _buf?.Dispose();
        _scratch?.Dispose();
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        _context.Dispose();
    }

    public void Dispose()
    {
        DisposeOwned();
        if (_ownsFile) _file.Dispose();
    }
}
