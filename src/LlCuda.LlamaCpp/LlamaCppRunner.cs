using LlCuda.Engine;
using LLama.Exceptions;
using LLama.Native;

namespace LlCuda.LlamaCpp;

/// <summary>
/// llama.cpp (through LLamaSharp) behind the engine's <see cref="IModelRunner"/>: the same
/// batches, positions and sequence ids as our own runners, mapped one to one onto a
/// llama_batch, and the same logits layout out. It is a supported engine
/// (<c>--engine llamacpp</c>) and the reference our runners are tested against.
/// </summary>
/// <remarks>
/// Not thread-safe, like our runners: one caller at a time (the engine's scheduler). LLamaSharp's
/// native calls are not safe to make concurrently on one context, and LLamaSharp additionally
/// serializes every llama_decode in the process behind one global lock, so two runners in one
/// process take turns. llama.cpp runs its own thread pool inside each decode.
/// </remarks>
public sealed class LlamaCppRunner : IModelRunner
{
    readonly SafeLlamaModelHandle _model;
    readonly SafeLLamaContextHandle _context;
    readonly LLamaBatch _batch = new();
    readonly int _vocab;
    readonly int _batchCapacity;     // n_batch as llama.cpp settled it: most tokens per llama_decode
    readonly string _path;

    LlamaCppRunner(string path, SafeLlamaModelHandle model, SafeLLamaContextHandle context, int contextLength, int maxSequences,
        LlamaCppLibraryInfo library, int gpuLayers, int threads)
    {
        _path = path;
        _model = model;
        _context = context;
        _vocab = model.Vocab.Count;
        _batchCapacity = checked((int)context.BatchSize);
        ContextLength = contextLength;
        MaxSequences = maxSequences;
        Library = library;
        GpuLayers = gpuLayers;
        Threads = threads;
        // "llama.cpp CPU" or "llama.cpp CUDA0" (the GPU is named only when layers are on it),
        // and which libllama that is, so a CUDA build that silently did not load shows up here.
        string devices = gpuLayers != 0 && library.Devices.FirstOrDefault(d => d != "CPU") is { } gpu ? gpu : "CPU";
        BackendName = $"llama.cpp {devices} ({library.Describe()})";
    }

    public int VocabSize => _vocab;
    public int ContextLength { get; }
    public int MaxSequences { get; }
    public string BackendName { get; }

    /// <summary>The libllama this runner runs on.</summary>
    public LlamaCppLibraryInfo Library { get; }

    /// <summary>Layers llama.cpp was asked to offload to a GPU (0 = CPU only, -1 = all).</summary>
    public int GpuLayers { get; }

    /// <summary>Threads llama.cpp computes with.</summary>
    public int Threads { get; }

    /// <summary>Loads <paramref name="path"/> into llama.cpp.</summary>
    /// <param name="path">A GGUF model file.</param>
    /// <param name="options">Context length (per sequence), sequences, threads, KV cache type.</param>
    /// <param name="llamaOptions">Library, GPU layers, batch sizes; null = defaults with LLCUDA_LLAMACPP_LIB.</param>
    /// <exception cref="FileNotFoundException">The model file does not exist.</exception>
    /// <exception cref="ArgumentException">An option is out of range (the message names it).</exception>
    /// <exception cref="LlamaCppException">The library, the model or the context could not be loaded.</exception>
    public static LlamaCppRunner Load(string path, RunnerOptions options, LlamaCppOptions? llamaOptions = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        llamaOptions ??= LlamaCppOptions.FromEnvironment();
        llamaOptions.Validate();
        if (options.MaxSequences < 1)
            throw new ArgumentException($"{options.MaxSequences} sequences is out of range: expected at least 1");
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no such model file", path);

        var library = LlamaCppLibrary.Load(llamaOptions.LibraryPath, llamaOptions.LibraryOrigin);
        int gpuLayers = llamaOptions.GpuLayerCount ?? (library.SupportsGpuOffload ? -1 : 0);

        long mark = LlamaCppLog.Mark();
        var modelParams = LLamaModelParams.Default();
        modelParams.n_gpu_layers = gpuLayers < 0 ? int.MaxValue : gpuLayers;
        SafeLlamaModelHandle model;
        try
        {
            model = SafeLlamaModelHandle.LoadFromFile(path, modelParams);
        }
        catch (LoadWeightsFailedException e)
        {
            throw new LlamaCppException(LlamaCppFailure.Model,
                $"{path}: llama.cpp could not load the model{Said(mark)}; check that it is a complete GGUF file of an architecture and tensor types this libllama ({library.Describe()}) supports", e);
        }

        try
        {
            int contextLength = options.ResolveContextLength(model.ContextSize);
            int sequences = options.MaxSequences;
            long maxParallel = NativeApi.llama_max_parallel_sequences();
            if (sequences > maxParallel)
                throw new ArgumentException($"{sequences} sequences exceeds llama.cpp's limit of {maxParallel}");
            int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;

            var contextParams = LLamaContextParams.Default();
            // One KV cache shared by all sequences (kv_unified), sized so each can reach
            // ContextLength positions: llama.cpp's per-sequence split (kv_unified = false) needs
            // batches whose sequence ids are consecutive, which continuous batching cannot promise.
            contextParams.n_ctx = checked((uint)(contextLength * sequences));
            contextParams.kv_unified = true;
            contextParams.n_seq_max = (uint)sequences;
            contextParams.n_batch = (uint)llamaOptions.BatchSize;
            contextParams.n_ubatch = (uint)llamaOptions.MicroBatchSize;
            contextParams.n_threads = threads;
            contextParams.n_threads_batch = threads;
            contextParams.type_k = contextParams.type_v = options.KvCacheType == KvCacheType.F32 ? GGMLType.GGML_TYPE_F32 : GGMLType.GGML_TYPE_F16;
            contextParams.llama_flash_attn_type = llamaOptions.FlashAttention switch
            {
                null => LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_AUTO,
                true => LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_ENABLED,
                false => LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED,
            };
            // Timings are ours (TextGenerator); llama.cpp's perf counters only cost a clock read.
            contextParams.no_perf = true;

            mark = LlamaCppLog.Mark();
            SafeLLamaContextHandle context;
            try
            {
                context = SafeLLamaContextHandle.Create(model, contextParams);
            }
            catch (RuntimeError e)
            {
                throw ContextFailed(path, contextLength, sequences, mark, e);
            }
            // llama_init_from_model returns NULL on failure, which LLamaSharp wraps as an invalid handle.
            if (context.IsInvalid)
            {
                context.Dispose();
                throw ContextFailed(path, contextLength, sequences, mark, null);
            }
            return new LlamaCppRunner(path, model, context, contextLength, sequences, library, gpuLayers, threads);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static LlamaCppException ContextFailed(string path, int contextLength, int sequences, long mark, Exception? inner) =>
        new(LlamaCppFailure.Context,
            $"{path}: llama.cpp could not create a context of {contextLength} positions x {sequences} sequences{Said(mark)}; use a smaller --ctx (or fewer sequences), or free memory", inner);

    static string Said(long mark) => LlamaCppLog.ReasonSince(mark) is { } reason ? $" (llama.cpp: {reason})" : "";

    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ObjectDisposedException.ThrowIf(_context.IsClosed, this);
        int n = batch.Count;
        if (n == 0) return;
        batch.Validate(logits.Length, _vocab, ContextLength, MaxSequences);

        // llama_decode takes at most n_batch tokens; longer batches go in order-preserving
        // chunks, so each sequence still sees its positions in order.
        int row = 0;
        for (int start = 0; start < n; start += _batchCapacity)
        {
            int end = Math.Min(n, start + _batchCapacity);
            _batch.Clear();
            for (int i = start; i < end; i++)
                _batch.Add(batch.Tokens[i], batch.Positions[i], (LLamaSeqId)batch.SequenceIds[i], batch.WantLogits[i]);
            long mark = LlamaCppLog.Mark();
            var result = _context.Decode(_batch);
            if (result != DecodeResult.Ok) ThrowDecodeFailed(result, end - start, mark);
            for (int i = start; i < end; i++)
            {
                if (!batch.WantLogits[i]) continue;
                // llama_get_logits_ith: [n_vocab] floats of the i-th token of this llama_batch.
                _context.GetLogitsIth(i - start).CopyTo(logits.Slice(row * _vocab, _vocab));
                row++;
            }
        }
    }

    void ThrowDecodeFailed(DecodeResult result, int tokens, long mark)
    {
        string said = Said(mark);
        throw result switch
        {
            DecodeResult.NoKvSlot => new InvalidOperationException(
                $"llama.cpp found no free KV-cache slot for {tokens} tokens (the cache holds {ContextLength} x {MaxSequences} positions){said}; truncate finished sequences or use a larger --ctx"),
            DecodeResult.InvalidInputBatch => new ArgumentException($"llama.cpp rejected the batch{said}"),
            _ => new LlamaCppException(LlamaCppFailure.Decode, $"{_path}: llama_decode failed with {result} ({(int)result}){said}"),
        };
    }

    /// <summary>llama_memory_seq_rm(seq, fromPosition, -1): forgets positions >= fromPosition of the sequence.</summary>
    public void TruncateSequence(int sequence, int fromPosition)
    {
        ObjectDisposedException.ThrowIf(_context.IsClosed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(sequence);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sequence, MaxSequences);
        ArgumentOutOfRangeException.ThrowIfNegative(fromPosition);
        _context.MemorySequenceRemove((LLamaSeqId)sequence, fromPosition, -1);
    }

    public void Dispose()
    {
        // The context holds a reference on the model handle; both are released in order.
        _context.Dispose();
        _model.Dispose();
    }
}
