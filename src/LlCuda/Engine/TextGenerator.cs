using System.Diagnostics;
using LlCuda.Tokenizers;

namespace LlCuda.Engine;

/// <summary>
/// Runs one prompt to completion on one sequence of a model runner: prompt processing in
/// chunks (matrix-matrix work), then one decode step per token, sampling, stop strings,
/// end-of-generation tokens and streaming text that never splits a UTF-8 character or shows
/// the start of a stop string before it is known not to be one.
/// </summary>
public sealed class TextGenerator
{
    /// <summary>Prompt tokens evaluated per forward pass (llama.cpp's default n_ubatch is 512).</summary>
    public const int PrefillChunk = 512;

    readonly IModelRunner _runner;
    readonly Tokenizer _tokenizer;

    public TextGenerator(IModelRunner runner, Tokenizer tokenizer)
    {
        _runner = runner ?? throw new ArgumentNullException(nameof(runner));
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        if (tokenizer.Count != runner.VocabSize)
            throw new ArgumentException($"the tokenizer has {tokenizer.Count} tokens but the model's output has {runner.VocabSize}", nameof(tokenizer));
    }

    /// <summary>Tokenizes the prompt as the model's vocabulary says (BOS added where it asks for one; "" gives BOS only).</summary>
    public int[] TokenizePrompt(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PromptLogits.Tokenize(_tokenizer, request.Prompt, request.ParseSpecial);
    }

    /// <summary>Generates on sequence <paramref name="sequence"/> (cleared first); <paramref name="onText"/> receives text as it is final.</summary>
    public GenerationResult Generate(GenerationRequest request, Action<string>? onText = null, int sequence = 0, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        int[] prompt = TokenizePrompt(request);
        int ctx = _runner.ContextLength;
        if (prompt.Length >= ctx)
            throw new ArgumentException($"the prompt has {prompt.Length} tokens but the context holds {ctx} (use a larger --ctx, at most the model's training context, or a shorter prompt)");

        _runner.TruncateSequence(sequence, 0);
        var sampler = new Sampler(request.Sampling);
        foreach (int t in prompt) sampler.Accept(t);
        var logits = new float[_runner.VocabSize];
        var batch = new ForwardBatch();
        // Greedy without penalties needs only the argmax: a runner that can take it where the
        // logits are (the GPU) sends back one id per step instead of the vocabulary.
        var s = request.Sampling;
        var greedyRunner = s.IsGreedy && s.RepeatPenalty == 1 && s.FrequencyPenalty == 0 && s.PresencePenalty == 0 ? _runner as IGreedyRunner : null;
        var next = new int[1];
        void Step()
        {
            if (greedyRunner is not null) greedyRunner.ForwardGreedy(batch, next);
            else _runner.Forward(batch, logits);
        }
        var clock = Stopwatch.StartNew();

        for (int start = 0; start < prompt.Length; start += PrefillChunk)
        {
            batch.Clear();
            int end = Math.Min(prompt.Length, start + PrefillChunk);
            for (int i = start; i < end; i++) batch.Add(prompt[i], i, sequence, wantLogits: i == prompt.Length - 1);
            Step();
            cancellation.ThrowIfCancellationRequested();
        }
        double promptMs = clock.Elapsed.TotalMilliseconds;

        var text = new GeneratedText(_tokenizer, request, onText);
        var tokens = new List<int>();
        int limit = request.MaxTokens < 0 ? ctx - prompt.Length : Math.Min(request.MaxTokens, ctx - prompt.Length);
        string finish = FinishReasons.Length;
        double ttftMs = 0, firstTokenAt = 0;
        int pos = prompt.Length;
        while (tokens.Count < limit)
        {
            if (cancellation.IsCancellationRequested) { finish = FinishReasons.Cancelled; break; }
            int token = greedyRunner is not null ? next[0] : sampler.Sample(logits);
            if (tokens.Count == 0) { ttftMs = clock.Elapsed.TotalMilliseconds; firstTokenAt = ttftMs; }
            if (request.StopAtEndOfGeneration && _tokenizer.IsEndOfGeneration(token)) { finish = FinishReasons.Stop; break; }
            tokens.Add(token);
            sampler.Accept(token);
            if (text.Add(token)) { finish = FinishReasons.Stop; break; }
            if (tokens.Count == limit) break;
            batch.Clear();
            batch.Add(token, pos++, sequence, wantLogits: true);
            Step();
        }
        text.Finish(finish == FinishReasons.Stop);
        double endMs = clock.Elapsed.TotalMilliseconds;
        // Decode speed counts the steps after the first token, as llama.cpp's eval time does.
        var timings = new GenerationTimings(promptMs, ttftMs, tokens.Count > 1 ? endMs - firstTokenAt : 0, prompt.Length, Math.Max(0, tokens.Count - 1));
        return new GenerationResult(prompt, [.. tokens], text.Text, finish, timings);
    }
}
