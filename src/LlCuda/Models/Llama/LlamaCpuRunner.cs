using LlCuda.Cpu;
using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Tensors;

namespace LlCuda.Models.Llama;

/// <summary>
/// The Llama forward pass on the CPU, in the spirit of llama2.c's forward(): weights straight
/// from the memory-mapped GGUF file, activations in float32, KV cache in float16 (llama.cpp's
/// default) or float32. A batch of n tokens runs every projection as one matrix-matrix product
/// over the n rows, so prompt processing is matrix-matrix work, not n matrix-vector products.
/// Not thread-safe: one caller at a time (the engine's scheduler); the kernels use the pool.
/// </summary>
public sealed class LlamaCpuRunner : IPagedKvRunner
{
    readonly GgufFile _file;
    readonly bool _ownsFile;
    readonly LlamaTensors _t;
    readonly ModelHyperparameters _hp;
    readonly CpuThreadPool _pool;
    readonly MatMulScratch _scratch = new();
    readonly Layer[] _layers;
    readonly WeightMatrix _output;
    readonly float[] _outputNorm;          // [dim]
    readonly KvCache _cache;
    readonly KvBlockTables _tables;        // each batch sequence's block table (given, or the fixed layout)
    readonly ResidentWeights? _resident;   // null: weights used in place from the memory map
    readonly int _dim, _qDim, _kvDim, _ffn, _headDim, _vocab;
    readonly float[] _ropeFreqs;           // [n_rot / 2] theta multipliers per rotated pair
    Buffers _buf = new(0, 0, 0, 0, 0, 0);

    sealed record Layer(float[] AttnNorm, WeightMatrix Wq, WeightMatrix Wk, WeightMatrix Wv, WeightMatrix Wo,
        float[] FfnNorm, WeightMatrix Gate, WeightMatrix Up, WeightMatrix Down);

    /// <param name="file">An open model; the runner keeps using its memory map.</param>
    /// <param name="options">Context length, sequences, threads, KV cache type.</param>
    /// <param name="ownsFile">Dispose <paramref name="file"/> with the runner.</param>
    public LlamaCpuRunner(GgufFile file, RunnerOptions options, bool ownsFile = false)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(options);
        _file = file;
        _ownsFile = ownsFile;
        _t = LlamaTensors.From(file);
        _hp = _t.Hyperparameters;
        _ropeFreqs = _hp.RopeFrequencies(file.Source);
        _dim = _hp.EmbeddingLength;
        _headDim = _hp.KeyLength;
        _qDim = _hp.HeadCount * _headDim;
        _kvDim = _hp.HeadCountKv * _headDim;
        _ffn = _hp.FeedForwardLength;
        _vocab = (int)_t.TokenEmbedding.Dimensions[1];
        ContextLength = options.ResolveContextLength(_hp.ContextLength);
        MaxSequences = Math.Max(1, options.MaxSequences);

        // Unsupported tensor types surface while binding; nothing allocated so far may leak then.
        try
        {
            if (!options.MapWeights)
                _resident = ResidentWeights.Load(file, _t.Blocks.SelectMany(b => new[] { b.Wq, b.Wk, b.Wv, b.Wo, b.FfnGate, b.FfnUp, b.FfnDown })
                    .Append(_t.Output));
            _pool = new CpuThreadPool(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
            _layers = _t.Blocks.Select(b => new Layer(
                Floats(b.AttnNorm), Bind(b.Wq), Bind(b.Wk), Bind(b.Wv), Bind(b.Wo),
                Floats(b.FfnNorm), Bind(b.FfnGate), Bind(b.FfnUp), Bind(b.FfnDown))).ToArray();
            _output = Bind(_t.Output);
            _outputNorm = Floats(_t.OutputNorm);
            int blocks = options.ResolveKvBlocks(ContextLength), perSeq = options.BlocksPerSequence(ContextLength);
            _cache = new KvCache(_hp.BlockCount, blocks, options.KvBlockSize, _kvDim, options.KvCacheType);
            _tables = new KvBlockTables(MaxSequences, perSeq, blocks);
        }
        catch
        {
            _pool?.Dispose();
            _resident?.Dispose();
            throw;
        }

    }

    public int VocabSize => _vocab;
    public int ContextLength { get; }
    public int MaxSequences { get; }
    public string BackendName => "CPU";
    public ModelHyperparameters Hyperparameters => _hp;
    public int KvBlockSize => _cache.BlockSize;
    public int KvBlockCount => _cache.BlockCount;
    public long KvBlockBytes => _cache.BlockBytes;

    /// <summary>Threads the kernels run on.</summary>
    public int Threads => _pool.Threads;

    WeightMatrix Bind(GgufTensorInfo t) => _resident?.Bind(t) ?? WeightMatrixBinding.FromTensor(_file, t);

    float[] Floats(GgufTensorInfo t)
    {
        var result = new float[t.ElementCount];
        Dequantize.Row(t.Type, _file.GetTensorData(t), result);
        return result;
    }

    public void TruncateSequence(int sequence, int fromPosition)
    {
        // Attention reads positions 0..pos of a token's own sequence, so positions past a
        // truncation are simply overwritten by the next tokens: nothing to clear.
        if ((uint)sequence >= (uint)MaxSequences) throw new ArgumentOutOfRangeException(nameof(sequence), $"sequence {sequence} is past the {MaxSequences} sequences the KV cache holds");
    }


    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int n = batch.Count;
        if (n == 0) return;
        batch.Validate(logits.Length, _vocab, ContextLength, MaxSequences, _cache.BlockSize, _cache.BlockCount);
        var b = EnsureBuffers(n);
        var tables = b.Tables;
        for (int i = 0; i < n; i++) tables[i] = _tables.TableOf(batch, batch.SequenceIds[i]);

        // x[n, dim]: token embeddings.
        for (int i = 0; i < n; i++)
            Dequantize.Row(_t.TokenEmbedding.Type, _file.GetTensorRows(_t.TokenEmbedding, batch.Tokens[i], 1), b.X.AsSpan(i * _dim, _dim));

        for (int li = 0; li < _layers.Length; li++)
        {
            var layer = _layers[li];
            for (int i = 0; i < n; i++) CpuOps.RmsNorm(b.X.AsSpan(i * _dim, _dim), layer.AttnNorm, b.Xn.AsSpan(i * _dim, _dim), _hp.RmsEpsilon);
            // Q, K and V in one dispatch over the same quantized activations.
            CpuMatMul.MatMul(layer.Wq, layer.Wk, layer.Wv, b.Xn.AsSpan(0, n * _dim), n,
                b.Q.AsSpan(0, n * _qDim), b.K.AsSpan(0, n * _kvDim), b.V.AsSpan(0, n * _kvDim), _scratch, _pool);
            for (int i = 0; i < n; i++)
            {
                int pos = batch.Positions[i];
                Rope(b.Q.AsSpan(i * _qDim, _qDim), _hp.HeadCount, pos);
                Rope(b.K.AsSpan(i * _kvDim, _kvDim), _hp.HeadCountKv, pos);
                _cache.Write(li, _cache.RowOf(tables[i], pos), b.K.AsSpan(i * _kvDim, _kvDim), b.V.AsSpan(i * _kvDim, _kvDim));
            }
            for (int i = 0; i < n; i++)
                Attention(li, tables[i], batch.Positions[i], b.Q.AsSpan(i * _qDim, _qDim), b.Att.AsSpan(i * _qDim, _qDim), b.Scores, b.Rows);
            CpuMatMul.MatMul(layer.Wo, b.Att.AsSpan(0, n * _qDim), n, b.Xn.AsSpan(0, n * _dim), _scratch, _pool);
            CpuOps.Add(b.X.AsSpan(0, n * _dim), b.Xn.AsSpan(0, n * _dim));

            for (int i = 0; i < n; i++) CpuOps.RmsNorm(b.X.AsSpan(i * _dim, _dim), layer.FfnNorm, b.Xn.AsSpan(i * _dim, _dim), _hp.RmsEpsilon);
            CpuMatMul.MatMul(layer.Gate, layer.Up, b.Xn.AsSpan(0, n * _dim), n, b.Gate.AsSpan(0, n * _ffn), b.Up.AsSpan(0, n * _ffn), _scratch, _pool);
            CpuOps.SiluMul(b.Gate.AsSpan(0, n * _ffn), b.Up.AsSpan(0, n * _ffn));
            CpuMatMul.MatMul(layer.Down, b.Gate.AsSpan(0, n * _ffn), n, b.Xn.AsSpan(0, n * _dim), _scratch, _pool);
            CpuOps.Add(b.X.AsSpan(0, n * _dim), b.Xn.AsSpan(0, n * _dim));
        }

        // Only the rows that want logits go through the final norm and the vocabulary projection.
        int m = 0;
        for (int i = 0; i < n; i++)
        {
            if (!batch.WantLogits[i]) continue;
            CpuOps.RmsNorm(b.X.AsSpan(i * _dim, _dim), _outputNorm, b.Xn.AsSpan(m * _dim, _dim), _hp.RmsEpsilon);
            m++;
        }
        if (m > 0) CpuMatMul.MatMul(_output, b.Xn.AsSpan(0, m * _dim), m, logits[..(m * _vocab)], _scratch, _pool);
    }

    // Llama GGUFs permute Q and K rows for llama.cpp's "normal" RoPE (pairs 2i, 2i + 1).
    void Rope(Span<float> x, int heads, int pos) => CpuOps.Rope(x, heads, _headDim, pos, _ropeFreqs, RopeOrdering.Normal);

    // out[h] = sum_p softmax_p(q_h . k_p / sqrt(head_dim)) v_p over cache positions 0..pos of the
    // sequence (found through its block table); query head h reads key/value head h / (n_head / n_head_kv).
    void Attention(int layer, int[] table, int pos, ReadOnlySpan<float> q, Span<float> output, float[] scores, int[] rows)
    {
        int group = _hp.HeadCount / _hp.HeadCountKv;
        float scale = 1.0f / MathF.Sqrt(_headDim);
        int len = pos + 1;
        for (int p = 0; p < len; p++) rows[p] = _cache.RowOf(table, p);
        for (int h = 0; h < _hp.HeadCount; h++)
        {
            var qh = q.Slice(h * _headDim, _headDim);
            int kvh = h / group;
            var s = scores.AsSpan(0, len);
            for (int p = 0; p < len; p++) s[p] = _cache.DotKey(layer, rows[p], kvh, _headDim, qh) * scale;
            CpuOps.Softmax(s);
            var oh = output.Slice(h * _headDim, _headDim);
            oh.Clear();
            for (int p = 0; p < len; p++) _cache.AccumulateValue(layer, rows[p], kvh, _headDim, s[p], oh);
        }
    }

    sealed record Buffers(int Capacity, float[] X, float[] Xn, float[] Q, float[] K, float[] V, float[] Att, float[] Gate, float[] Up,
        float[] Scores, int[] Rows, int[][] Tables)
    {
        public Buffers(int n, int dim, int qDim, int kvDim, int ffn, int ctx)
            : this(n, new float[n * dim], new float[n * Math.Max(dim, qDim)], new float[n * qDim], new float[n * kvDim], new float[n * kvDim],
                new float[n * qDim], new float[n * ffn], new float[n * ffn], new float[ctx], new int[ctx], new int[n][]) { }
    }

    Buffers EnsureBuffers(int n)
    {
        if (_buf.Capacity < n) _buf = new Buffers(Math.Max(n, 1), _dim, _qDim, _kvDim, _ffn, ContextLength);
        return _buf;
    }

    public void Dispose()
    {
        _pool.Dispose();
        _resident?.Dispose();
        if (_ownsFile) _file.Dispose();
    }
}
