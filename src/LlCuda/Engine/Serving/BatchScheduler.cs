using LlCuda.Engine.Kv;
using LlCuda.Tokenizers;

namespace LlCuda.Engine;

/// <summary>
/// Iteration-level (continuous) batching over one model runner, on a thread of its own: each
/// step packs every running sequence's next token, then prompt chunks of the sequences still
/// prefilling, up to the step's token budget, into one forward pass; requests join at the next
/// step and leave the moment they finish. With a paged runner the KV cache is shared through
/// block tables (<see cref="KvBlockManager"/>): a request takes blocks as it grows, reuses
/// cached prompt prefixes, and when the pool runs dry the newest sequence is preempted (its
/// blocks freed, its tokens recomputed when it is readmitted) rather than any request failing.
/// Runners without paging (llama.cpp) get one whole-context sequence slot per request.
/// </summary>
/// <remarks>
/// Only the loop thread touches the scheduling state; callers hand requests over through a
/// concurrent queue and read their tokens from a channel, so tokenization, HTTP and streaming
/// stay off the decode loop (vLLM's lesson).
/// </remarks>
internal sealed class BatchScheduler : IDisposable
{
    readonly IModelRunner _runner;
    readonly IGreedyRunner? _greedy;
    readonly KvBlockManager? _blocks;
    readonly Tokenizer _tokenizer;
    readonly EngineOptions _options;
    readonly System.Collections.Concurrent.ConcurrentQueue<ServingSequence> _incoming = new();
    readonly List<ServingSequence> _waiting = [];   // by Order: FIFO, preempted sequences back in their place
    readonly List<ServingSequence> _running = [];   // by Order
    readonly Stack<int> _freeSlots = new();
    readonly SemaphoreSlim _signal = new(0);
    readonly Thread _thread;
    readonly ForwardBatch _batch = new();
    readonly List<(ServingSequence Seq, int Take)> _plan = [];
    float[] _logits = [];
    int[] _ids = [];
    volatile bool _stopping;
    int _queued, _runningCount;             // read by Submit and Stats on other threads
    long _steps, _promptTokensComputed, _generatedTokens, _preemptions, _stepTokens;

    public BatchScheduler(IModelRunner runner, Tokenizer tokenizer, EngineOptions options)
    {
        _runner = runner;
        _tokenizer = tokenizer;
        _options = options;
        _greedy = runner as IGreedyRunner;
        if (runner is IPagedKvRunner paged) _blocks = new KvBlockManager(paged.KvBlockCount, paged.KvBlockSize, options.PrefixCaching);
        int slots = Math.Min(options.MaxSequences, runner.MaxSequences);
        for (int s = slots - 1; s >= 0; s--) _freeSlots.Push(s);
        MaxSequences = slots;
        _thread = new Thread(Loop) { IsBackground = true, Name = "llcuda-scheduler" };
        _thread.Start();
    }

    public int MaxSequences { get; }

    /// <summary>The KV block accounting (paged runners), for statistics.</summary>
    public KvBlockManager? Blocks => _blocks;

    /// <summary>Hands a request to the loop; refuses it at once when the queue is full.</summary>
    public void Submit(ServingSequence s)
    {
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (Interlocked.Increment(ref _queued) > _options.MaxQueuedRequests + MaxSequences - Volatile.Read(ref _runningCount))
        {
            Interlocked.Decrement(ref _queued);
            throw new EngineBusyException($"the engine is busy: {_options.MaxQueuedRequests} requests are already waiting (max queued requests); retry later");
        }
        _incoming.Enqueue(s);
        _signal.Release();
    }

    /// <summary>Wakes the loop (a cancellation, say).</summary>
    public void Wake() => _signal.Release();

    public EngineStats Stats => new(
        Volatile.Read(ref _runningCount), Math.Max(0, Volatile.Read(ref _queued)),
        _blocks?.BlockCount ?? 0, _blocks?.UsedBlocks ?? 0, _blocks?.CachedBlocks ?? 0, _blocks?.ReusedTokens ?? 0,
        Interlocked.Read(ref _promptTokensComputed), Interlocked.Read(ref _generatedTokens), Interlocked.Read(ref _steps),
        Interlocked.Read(ref _preemptions), Interlocked.Read(ref _stepTokens));

    void Loop()
    {
        while (!_stopping)
        {
            while (_incoming.TryDequeue(out var s)) InsertByOrder(_waiting, s);
            DropEnded(_waiting);
            DropEnded(_running);
            Admit();
            if (_running.Count == 0)
            {
                _signal.Wait();
                continue;
            }
            Step();
        }
        var error = new ObjectDisposedException(nameof(InferenceEngine), "the engine was disposed before the request finished");
        while (_incoming.TryDequeue(out var s)) s.Fail(error);
        foreach (var s in _waiting.Concat(_running)) s.Fail(error);
    }

    static void InsertByOrder(List<ServingSequence> list, ServingSequence s)
    {
        int i = list.Count;
        while (i > 0 && list[i - 1].Order > s.Order) i--;
        list.Insert(i, s);
    }

    // Cancelled and timed-out requests leave here, their blocks freed before the next step.
    void DropEnded(List<ServingSequence> list)
    {
        for (int i = list.Count - 1; i >= 0; i--)
        {
            var s = list[i];
            Exception? error = s.Cancelled ? new OperationCanceledException($"request {s.Id} was cancelled")
                : s.Deadline is { } d && s.Clock.Elapsed > d ? new TimeoutException($"request {s.Id} timed out after {s.Clock.Elapsed.TotalSeconds:F1} s with {s.Generated} tokens generated (raise the timeout or lower max tokens)")
                : null;
            if (error is null) continue;
            Remove(s, list);
            s.Fail(error);
        }
    }

    void Remove(ServingSequence s, List<ServingSequence> from)
    {
        from.Remove(s);
        if (from == _waiting) Interlocked.Decrement(ref _queued);
        if (s.Slot >= 0)
        {
            _blocks?.Release(s.Kv);
            _freeSlots.Push(s.Slot);
            s.Slot = -1;
            Interlocked.Decrement(ref _runningCount);
        }
    }

    // Admits waiting requests in order while a slot and (paged) blocks for all their tokens are free.
    void Admit()
    {
        while (_waiting.Count > 0 && _freeSlots.Count > 0)
        {
            var s = _waiting[0];
            if (s.Limit <= 0 && s.Generated == 0)
            {
                _waiting.RemoveAt(0);
                Interlocked.Decrement(ref _queued);
                s.Text.Finish(false);
                s.Complete(FinishReasons.Length);
                continue;
            }
            int computed = 0;
            if (_blocks is not null)
            {
                computed = _blocks.MatchPrefix(s.Kv, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Tokens));
                if (!_blocks.Reserve(s.Kv, s.Tokens.Count))
                {
                    _blocks.Release(s.Kv);
                    return; // FIFO: later requests wait behind this one
                }
            }
            _waiting.RemoveAt(0);
            Interlocked.Decrement(ref _queued);
            s.Slot = _freeSlots.Pop();
            if (_blocks is null) _runner.TruncateSequence(s.Slot, 0);
            s.Computed = computed;
            if (s.QueueMs < 0)
            {
                s.QueueMs = s.Clock.Elapsed.TotalMilliseconds;
                s.CachedPromptTokens = computed;
            }
            InsertByOrder(_running, s);
            Interlocked.Increment(ref _runningCount);
        }
    }

    void Step()
    {
        Plan();
        if (_plan.Count == 0) return;
        _batch.Clear();
        int outputs = 0;
        bool greedy = _greedy is not null;
        foreach (var (s, take) in _plan)
        {
            for (int i = s.Computed; i < s.Computed + take; i++)
                _batch.Add(s.Tokens[i], i, s.Slot, wantLogits: i == s.Tokens.Count - 1);
            if (_blocks is not null) _batch.SetBlocks(s.Slot, s.Kv.ToArray());
            if (s.Computed + take == s.Tokens.Count)
            {
                outputs++;
                var sm = s.Generation.Sampling;
                greedy &= sm.IsGreedy && sm.RepeatPenalty == 1 && sm.FrequencyPenalty == 0 && sm.PresencePenalty == 0;
            }
        }

        try
        {
            if (outputs > 0 && greedy)
            {
                if (_ids.Length < outputs) _ids = new int[Math.Max(outputs, MaxSequences)];
                _greedy!.ForwardGreedy(_batch, _ids);
            }
            else
            {
                long need = (long)outputs * _runner.VocabSize;
                if (_logits.Length < need) _logits = new float[Math.Max(need, (long)MaxSequences * _runner.VocabSize)];
                _runner.Forward(_batch, _logits);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failed pass (a CUDA error, say) fails the requests in it; the engine goes on.
            foreach (var (s, _) in _plan)
            {
                Remove(s, _running);
                s.Fail(new InvalidOperationException($"request {s.Id} failed in a forward pass: {e.Message}", e));
            }
            return;
        }

        Interlocked.Increment(ref _steps);
        Interlocked.Add(ref _stepTokens, _batch.Count);
        int row = 0;
        foreach (var (s, take) in _plan)
        {
            bool output = s.Computed + take == s.Tokens.Count;
            if (s.Computed < s.Prompt.Length) Interlocked.Add(ref _promptTokensComputed, Math.Min(take, s.Prompt.Length - s.Computed));
            s.Computed += take;
            _blocks?.Commit(s.Kv, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(s.Tokens), s.Computed);
            if (!output) continue;
            int token = greedy ? _ids[row] : s.Sampler.Sample(_logits.AsSpan(row * _runner.VocabSize, _runner.VocabSize));
            row++;
            Accept(s, token);
        }
    }

    // Decides each running sequence's tokens this step: one for every decoding sequence, then
    // prompt chunks in arrival order within the budget; reserves their blocks, preempting the
    // newest sequences when the pool runs dry.
    void Plan()
    {
        _plan.Clear();
        int budget = _options.MaxTokensPerStep;
        foreach (var s in _running)
            if (s.Tokens.Count - s.Computed == 1) { _plan.Add((s, 1)); budget--; }
        foreach (var s in _running)
        {
            int pending = s.Tokens.Count - s.Computed;
            if (pending <= 1 || budget <= 0) continue;
            int take = Math.Min(pending, budget);
            _plan.Add((s, take));
            budget -= take;
        }
        if (_blocks is null) return;
        // Oldest first: when blocks run out, the newest running sequence gives its back.
        _plan.Sort((a, b) => a.Seq.Order.CompareTo(b.Seq.Order));
        for (int i = 0; i < _plan.Count; i++)
        {
            var (s, take) = _plan[i];
            while (!_blocks.Reserve(s.Kv, s.Computed + take))
            {
                var victim = _running[^1];
                Preempt(victim);
                int at = _plan.FindIndex(p => p.Seq == victim);
                if (at >= 0) _plan.RemoveAt(at);
                if (victim == s) { i--; break; }
            }
        }
    }

    void Preempt(ServingSequence s)
    {
        Remove(s, _running);
        s.Computed = 0;
        s.Preemptions++;
        Interlocked.Increment(ref _preemptions);
        InsertByOrder(_waiting, s);
        Interlocked.Increment(ref _queued);
    }

    void Accept(ServingSequence s, int token)
    {
        if (s.FirstTokenMs < 0) s.FirstTokenMs = s.Clock.Elapsed.TotalMilliseconds;
        if (s.Generation.StopAtEndOfGeneration && _tokenizer.IsEndOfGeneration(token))
        {
            Finish(s, FinishReasons.Stop);
            return;
        }
        s.Tokens.Add(token);
        s.Sampler.Accept(token);
        Interlocked.Increment(ref _generatedTokens);
        bool stopped = s.Text.Add(token);
        s.Emit(token);
        if (stopped) Finish(s, FinishReasons.Stop);
        else if (s.Generated >= s.Limit) Finish(s, FinishReasons.Length);
    }

    void Finish(ServingSequence s, string reason)
    {
        Remove(s, _running);
        s.Text.Finish(reason == FinishReasons.Stop);
        s.Complete(reason);
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _signal.Release();
        _thread.Join();
        _signal.Dispose();
    }
}

/// <summary>A snapshot of the engine's state and counters since it started.</summary>
/// <param name="Running">Sequences in the running batch.</param>
/// <param name="Waiting">Requests queued for a slot.</param>
/// <param name="KvBlocks">Blocks in the KV pool (0 for runners without paging).</param>
/// <param name="KvBlocksUsed">Blocks held by running sequences.</param>
/// <param name="KvBlocksCached">Free blocks that still hold a reusable prefix.</param>
/// <param name="ReusedPromptTokens">Prompt tokens taken from the prefix cache instead of computed.</param>
/// <param name="PromptTokensComputed">Prompt tokens evaluated.</param>
/// <param name="GeneratedTokens">Tokens generated.</param>
/// <param name="Steps">Forward passes.</param>
/// <param name="Preemptions">Sequences preempted for KV blocks.</param>
/// <param name="StepTokens">Tokens evaluated over all steps (prompt, recomputed and decoded).</param>
public sealed record EngineStats(int Running, int Waiting, int KvBlocks, int KvBlocksUsed, int KvBlocksCached, long ReusedPromptTokens,
    long PromptTokensComputed, long GeneratedTokens, long Steps, long Preemptions, long StepTokens);
