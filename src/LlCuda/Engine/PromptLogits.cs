using LlCuda.Tokenizers;

namespace LlCuda.Engine;

/// <summary>Logits of every prompt position: how outputs are compared with llama.cpp.</summary>
public static class PromptLogits
{
    /// <summary>
    /// Evaluates <paramref name="tokens"/> on sequence 0 (cleared first) in chunks and returns
    /// logits [tokens.Length, VocabSize] row-major.
    /// </summary>
    public static float[] Evaluate(IModelRunner runner, IReadOnlyList<int> tokens, int chunk = TextGenerator.PrefillChunk)
    {
        ArgumentNullException.ThrowIfNull(runner);
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count > runner.ContextLength)
            throw new ArgumentException($"the prompt has {tokens.Count} tokens but the context holds {runner.ContextLength} (use a larger --ctx or a shorter prompt)");
        int vocab = runner.VocabSize;
        var logits = new float[(long)tokens.Count * vocab];
        runner.TruncateSequence(0, 0);
        var batch = new ForwardBatch();
        for (int start = 0; start < tokens.Count; start += chunk)
        {
            batch.Clear();
            int end = Math.Min(tokens.Count, start + chunk);
            for (int i = start; i < end; i++) batch.Add(tokens[i], i, 0, wantLogits: true);
            runner.Forward(batch, logits.AsSpan(start * vocab, (end - start) * vocab));
        }
        return logits;
    }

    /// <summary>
    /// The prompt's tokens with BOS as the model says ("" = BOS only): the one place prompts
    /// become tokens, for generation, logits and benchmarks alike.
    /// </summary>
    public static int[] Tokenize(Tokenizer tokenizer, string prompt, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var ids = tokenizer.Encode(prompt ?? "", addSpecial: true, parseSpecial: parseSpecial);
        if (ids.Length == 0 && tokenizer.Vocabulary.Bos >= 0) ids = [tokenizer.Vocabulary.Bos];
        if (ids.Length == 0) throw new ArgumentException("the prompt is empty and the vocabulary has no BOS token to start from");
        return ids;
    }

    /// <summary>||a - b|| / ||b||: the normalized RMS error used to compare logits with a reference.</summary>
    public static double NormalizedRmsError(ReadOnlySpan<float> actual, ReadOnlySpan<float> reference)
    {
        if (actual.Length != reference.Length) throw new ArgumentException($"lengths differ: {actual.Length} vs {reference.Length}");
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - reference[i];
            diff += d * d;
            norm += (double)reference[i] * reference[i];
        }
        return norm == 0 ? (diff == 0 ? 0 : double.PositiveInfinity) : Math.Sqrt(diff / norm);
    }
}
