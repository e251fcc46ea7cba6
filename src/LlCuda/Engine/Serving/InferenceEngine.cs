using System.Runtime.CompilerServices;
using LlCuda.Cuda;
using LlCuda.Gguf;
using LlCuda.Models.Llama;

namespace LlCuda.Engine;

/// <summary>
/// The in-process serving engine: load a model once, then send any number of requests from any
/// number of threads; they are batched together step by step (continuous batching over a paged
/// KV cache with prefix reuse, see <see cref="BatchScheduler"/>).
/// <code>
/// using var engine = new InferenceEngine(new EngineOptions { Device = Device.Auto });
/// engine.LoadModel("model.gguf");
/// var r = await engine.InferAsync(new InferRequest { Prompt = "What is AI?", MaxTokens = 100, Temperature = 0.7f });
/// await foreach (var chunk in engine.StreamAsync(request, ct)) Console.Write(chunk.Text);
/// </code>
/// Cancelling a request's token ends it and frees its KV blocks at the next step.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    readonly EngineOptions _options;
    readonly Lock _gate = new();
    LoadedModel? _model;
    BatchScheduler? _scheduler;
    long _order, _ids;
    bool _disposed;

    public InferenceEngine(EngineOptions? options = null)
    {
        _options = options ?? new EngineOptions();
        _options.Validate();
    }

    public EngineOptions Options => _options;

    /// <summary>The loaded model (runner and tokenizer); null before <see cref="LoadModel(string)"/>.</summary>
    public LoadedModel? Model => _model;

    /// <summary>Sequences decoded together at most (the options' limit, capped by the runner's).</summary>
    public int MaxSequences => Scheduler.MaxSequences;

    /// <summary>Counters and queue depths since the model was loaded.</summary>
    public EngineStats Stats => Scheduler.Stats;

    /// <summary>
    /// Loads a GGUF model on llcuda's own engine, on the device the options name (Auto: CUDA when
    /// a GPU is found), with a KV pool sized by the options.
    /// </summary>
    public void LoadModel(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        bool cuda = _options.Device switch
        {
            Device.Cuda => true,
            Device.Cpu => false,
            _ => CudaDriver.TryInitialize(out _) && CudaDriver.DeviceCount > 0,
        };
        Attach(LoadedModel.Load(path, file =>
        {
            var runnerOptions = RunnerOptionsFor(file);
            return cuda ? new LlamaCudaRunner(file, runnerOptions, _options.Gpu) : new LlamaCpuRunner(file, runnerOptions);
        }));
    }

    /// <summary>
    /// Serves a model loaded elsewhere (llama.cpp's runner, say); the engine owns and disposes
    /// it. A runner without paging gets one whole-context sequence per request, no prefix reuse.
    /// </summary>
    public void LoadModel(LoadedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Attach(model);
    }

    /// <summary>The runner settings the options ask for: context, sequences, and a KV pool of KvCacheBytes (at least one whole context).</summary>
    public RunnerOptions RunnerOptionsFor(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var hp = LlamaTensors.From(file).Hyperparameters;
        var options = new RunnerOptions
        {
            ContextLength = _options.ContextLength,
            MaxSequences = _options.MaxSequences,
            Threads = _options.Threads,
            KvBlockSize = _options.KvBlockSize,
        };
        int ctx = options.ResolveContextLength(hp.ContextLength);
        int perSeq = options.BlocksPerSequence(ctx);
        long blocks = (long)_options.MaxSequences * perSeq;
        if (_options.KvCacheBytes > 0)
        {
            long blockBytes = 2L * hp.BlockCount * _options.KvBlockSize * hp.HeadCountKv * hp.KeyLength * 2; // f16 keys and values
            blocks = Math.Max(perSeq, _options.KvCacheBytes / blockBytes);
        }
        return options with { ContextLength = ctx, KvBlocks = (int)Math.Min(blocks, int.MaxValue / 2) };
    }

    void Attach(LoadedModel model)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_model is not null)
            {
                model.Dispose();
                throw new InvalidOperationException("this engine already has a model loaded; create another InferenceEngine for a second model");
            }
            _model = model;
            _scheduler = new BatchScheduler(model.Runner, model.Tokenizer, _options);
        }
    }

    BatchScheduler Scheduler => _scheduler ?? throw new InvalidOperationException("no model is loaded: call LoadModel first");

    /// <summary>Runs a request to completion.</summary>
    /// <exception cref="EngineBusyException">The queue is full.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="TimeoutException">The request's timeout passed.</exception>
    public async Task<InferResponse> InferAsync(InferRequest request, CancellationToken cancellation = default)
    {
        await foreach (var chunk in StreamAsync(request, cancellation).ConfigureAwait(false))
            if (chunk.Final is { } final) return final;
        throw new InvalidOperationException("the request ended without a final response");
    }

    /// <summary>
    /// Runs a request, yielding its text as it becomes final; the last chunk carries the whole
    /// response. The request is queued when this is called, before the first MoveNextAsync.
    /// </summary>
    public IAsyncEnumerable<InferChunk> StreamAsync(InferRequest request, CancellationToken cancellation = default)
    {
        var s = Submit(request, cancellation);
        return Read(s, cancellation);
    }

    async IAsyncEnumerable<InferChunk> Read(ServingSequence s, [EnumeratorCancellation] CancellationToken cancellation)
    {
        using var registration = cancellation.Register(() =>
        {
            s.Cancel();
            _scheduler?.Wake();
        });
        try
        {
            await foreach (var chunk in s.Reader.ReadAllAsync(cancellation).ConfigureAwait(false)) yield return chunk;
        }
        finally
        {
            // A reader that stops early (break, dispose) cancels the generation too.
            s.Cancel();
            _scheduler?.Wake();
        }
    }

    ServingSequence Submit(InferRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellation.ThrowIfCancellationRequested();
        var scheduler = Scheduler;
        var model = _model!;
        var generation = request.ToGeneration();
        int[] prompt = request.PromptTokens is { } given ? [.. given] : PromptLogits.Tokenize(model.Tokenizer, generation.Prompt, generation.ParseSpecial);
        if (prompt.Length == 0) throw new ArgumentException("the prompt has no tokens (and the model has no BOS token to start from); give a prompt");
        int vocab = model.Runner.VocabSize, ctx = model.Runner.ContextLength;
        foreach (int t in prompt)
            if ((uint)t >= (uint)vocab) throw new ArgumentException($"prompt token id {t} is outside the vocabulary of {vocab} tokens");
        if (prompt.Length >= ctx)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens but the context holds {ctx} (use a larger context, at most the model's training context, or a shorter prompt)");
        string id = request.Id ?? $"req-{Interlocked.Increment(ref _ids)}";
        var s = new ServingSequence(id, request, generation, prompt, model.Tokenizer, ctx, request.Timeout ?? _options.RequestTimeout, Interlocked.Increment(ref _order));
        scheduler.Submit(s);
        return s;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _scheduler?.Dispose();
        _model?.Dispose();
    }
}
