namespace LlCuda.Engine;

/// <summary>
/// A runner that can pick greedy tokens where the logits are (the CUDA backend: an argmax kernel
/// on the GPU), so a greedy decode step moves one int per token back to the host instead of a
/// vocabulary of floats. Same semantics as <see cref="IModelRunner.Forward"/> followed by
/// <see cref="Sampler.ArgMax"/> on each row of logits (lowest index wins ties).
/// </summary>
public interface IGreedyRunner
{
    /// <summary>
    /// Evaluates <paramref name="batch"/> like <see cref="IModelRunner.Forward"/> and writes, for
    /// each token that wants logits (in batch order), the index of its largest logit.
    /// </summary>
    void ForwardGreedy(ForwardBatch batch, Span<int> tokens);
}
