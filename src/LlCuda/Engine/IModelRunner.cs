namespace LlCuda.Engine;

/// <summary>
/// A model evaluated by one backend (our CPU or CUDA forward pass, or llama.cpp): the small
/// interface the engine's generation loop, sampling and batching are written against.
/// Implementations own their KV cache.
/// </summary>
public interface IModelRunner : IDisposable
{
    /// <summary>Logits per output token.</summary>
    int VocabSize { get; }

    /// <summary>Most positions one sequence may hold (the KV cache's context length).</summary>
    int ContextLength { get; }

    /// <summary>Most sequences the KV cache holds at once (sequence ids 0..MaxSequences-1).</summary>
    int MaxSequences { get; }

    /// <summary>Backend name for reports ("CPU", "CUDA", "llama.cpp CPU").</summary>
    string BackendName { get; }

    /// <summary>
    /// Evaluates <paramref name="batch"/>, appending its keys and values to the KV cache, and
    /// writes logits [batch.OutputCount, VocabSize] row-major for the tokens that want them, in
    /// batch order.
    /// </summary>
    void Forward(ForwardBatch batch, Span<float> logits);

    /// <summary>Forgets positions >= <paramref name="fromPosition"/> of a sequence (0 clears it).</summary>
    void TruncateSequence(int sequence, int fromPosition);
}
