using LLama;
using LLama.Common;
using LLama.Native;

namespace LlCuda.Tests.Support;

/// <summary>
/// llama.cpp (through LLamaSharp 0.30.0 and its CPU backend) as the reference implementation.
/// llama.cpp's native state is not safe to drive from several test threads at once, so every
/// call goes through one lock.
/// </summary>
internal static class LlamaCppReference
{
    public static readonly Lock Gate = new();

    static LlamaCppReference()
    {
        // Silence llama.cpp's load logging in test output.
        NativeLibraryConfig.All.WithLogCallback((level, message) => { });
    }

    /// <summary>Token ids llama.cpp gives for <paramref name="text"/> with a vocab-only load of <paramref name="ggufPath"/>.</summary>
    public static int[] Tokenize(string ggufPath, string text, bool addSpecial, bool parseSpecial)
    {
        lock (Gate)
        {
            using var w = LLamaWeights.LoadFromFile(new ModelParams(ggufPath) { VocabOnly = true });
            return w.NativeHandle.Tokenize(text, addSpecial, parseSpecial, System.Text.Encoding.UTF8).Select(t => (int)t).ToArray();
        }
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/> by llama.cpp, <paramref name="count"/> tokens.</summary>
    public static int[] GreedyTokens(string ggufPath, int[] prompt, int count)
    {
        lock (Gate)
        {
            var p = new ModelParams(ggufPath) { ContextSize = (uint)(prompt.Length + count + 8), GpuLayerCount = 0, BatchSize = 64 };
            using var weights = LLamaWeights.LoadFromFile(p);
            using var ctx = weights.CreateContext(p);
            int nVocab = weights.Vocab.Count;
            var batch = new LLamaBatch();
            for (int i = 0; i < prompt.Length; i++) batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
            var output = new List<int>();
            int pos = prompt.Length;
            for (int step = 0; step < count; step++)
            {
                var result = ctx.NativeHandle.Decode(batch);
                if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}");
                var logits = ctx.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
                int best = 0;
                for (int v = 1; v < nVocab; v++) if (logits[v] > logits[best]) best = v;
                output.Add(best);
                batch.Clear();
                batch.Add((LLamaToken)best, pos++, LLamaSeqId.Zero, true);
            }
            return output.ToArray();
        }
    }

    /// <summary>llama.cpp's logits of every position of <paramref name="tokens"/>: [tokens.Length, n_vocab] row-major.</summary>
    public static float[] Logits(string ggufPath, int[] tokens, int threads = 2)
    {
        lock (Gate)
        {
            var p = new ModelParams(ggufPath)
            {
                ContextSize = (uint)Math.Max(64, tokens.Length + 8), GpuLayerCount = 0,
                BatchSize = (uint)Math.Max(64, tokens.Length), UBatchSize = (uint)Math.Max(64, tokens.Length), Threads = threads,
            };
            using var weights = LLamaWeights.LoadFromFile(p);
            using var ctx = weights.CreateContext(p);
            int nVocab = weights.Vocab.Count;
            var batch = new LLamaBatch();
            for (int i = 0; i < tokens.Length; i++) batch.Add((LLamaToken)tokens[i], i, LLamaSeqId.Zero, true);
            var result = ctx.NativeHandle.Decode(batch);
            if (result != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode returned {result}");
            var logits = new float[tokens.Length * nVocab];
            for (int i = 0; i < tokens.Length; i++) ctx.NativeHandle.GetLogitsIth(i).CopyTo(logits.AsSpan(i * nVocab, nVocab));
            return logits;
        }
    }
}
