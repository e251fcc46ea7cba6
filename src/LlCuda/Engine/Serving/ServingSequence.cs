using System.Diagnostics;
using System.Threading.Channels;
using LlCuda.Engine.Kv;
using LlCuda.Tokenizers;

namespace LlCuda.Engine;

/// <summary>
/// One request inside the scheduler: its tokens (prompt, then each generated token), how many
/// of them have keys and values in the KV cache, its sampler and text, and the channel its
/// chunks go out on. Owned by the scheduler's loop; other threads only set the cancel flag.
/// </summary>
internal sealed class ServingSequence
{
    readonly Channel<InferChunk> _chunks = Channel.CreateUnbounded<InferChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    readonly List<int> _pendingIds = [];
    string _pendingText = "";

    public ServingSequence(string id, InferRequest request, GenerationRequest generation, int[] prompt, Tokenizer tokenizer,
        int contextLength, TimeSpan? timeout, long order)
    {
        Id = id;
        Request = request;
        Generation = generation;
        Prompt = prompt;
        Tokens = [.. prompt];
        Order = order;
        Sampler = new Sampler(generation.Sampling);
        foreach (int token in prompt) Sampler.Accept(token);
        Text = new GeneratedText(tokenizer, generation, piece => _pendingText += piece);
        Limit = generation.MaxTokens < 0 ? contextLength - prompt.Length : Math.Min(generation.MaxTokens, contextLength - prompt.Length);
        Deadline = timeout is { } t ? Clock.Elapsed + t : null;
    }

    public string Id { get; }
    public InferRequest Request { get; }
    public GenerationRequest Generation { get; }
    public int[] Prompt { get; }
    /// <summary>Prompt then generated tokens: what the KV cache must hold (all but the newest token once it decodes).</summary>
    public List<int> Tokens { get; }
    /// <summary>Submission order: FIFO admission, newest preempted first.</summary>
    public long Order { get; }
    public Sampler Sampler { get; }
    public GeneratedText Text { get; }
    /// <summary>Tokens to generate at most (MaxTokens, capped by the context).</summary>
    public int Limit { get; }
    public int Generated => Tokens.Count - Prompt.Length;
    public Stopwatch Clock { get; } = Stopwatch.StartNew();
    public TimeSpan? Deadline { get; }

    /// <summary>Leading tokens whose keys and values are in the cache.</summary>
    public int Computed { get; set; }
    /// <summary>Sequence id in forward batches (a slot below the runner's MaxSequences), -1 while waiting.</summary>
    public int Slot { get; set; } = -1;
    /// <summary>Block table (paged runners).</summary>
    public KvSequence Kv { get; } = new();
    /// <summary>Prompt tokens taken from the prefix cache when first admitted.</summary>
    public int CachedPromptTokens { get; set; }
    public double QueueMs { get; set; } = -1;
    public double FirstTokenMs { get; set; } = -1;
    /// <summary>Times it was preempted (its cache freed, recomputed later).</summary>
    public int Preemptions { get; set; }

    volatile bool _cancelled;
    public bool Cancelled => _cancelled;
    public void Cancel() => _cancelled = true;

    public ChannelReader<InferChunk> Reader => _chunks.Reader;

    /// <summary>Queues a chunk with the text and ids generated since the last one.</summary>
    public void Emit(int token)
    {
        _pendingIds.Add(token);
        if (_pendingText.Length == 0) return; // held back (partial character or stop-string prefix): goes out with a later token
        Flush(null);
    }

    /// <summary>Ends the stream with the final chunk (usage and timings).</summary>
    public void Complete(string finishReason)
    {
        double now = Clock.Elapsed.TotalMilliseconds;
        var final = new InferResponse(Id, Text.Text, [.. Tokens.Skip(Prompt.Length)], Prompt.Length, CachedPromptTokens, finishReason,
            Math.Max(0, QueueMs), FirstTokenMs < 0 ? now : FirstTokenMs, now);
        Flush(final);
        _chunks.Writer.TryComplete();
    }

    /// <summary>Ends the stream with an error (cancellation, timeout, a failed forward pass).</summary>
    public void Fail(Exception error) => _chunks.Writer.TryComplete(error);

    void Flush(InferResponse? final)
    {
        _chunks.Writer.TryWrite(new InferChunk(_pendingText, [.. _pendingIds], Clock.Elapsed.TotalMilliseconds, final));
        _pendingText = "";
        _pendingIds.Clear();
    }
}
