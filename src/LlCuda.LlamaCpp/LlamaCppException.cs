namespace LlCuda.LlamaCpp;

/// <summary>What part of running llama.cpp failed; the CLI maps it to an exit code.</summary>
public enum LlamaCppFailure
{
    /// <summary>libllama (or one of its libggml dependencies) could not be loaded.</summary>
    Library,
    /// <summary>llama.cpp rejected the model file.</summary>
    Model,
    /// <summary>Creating the context (KV cache, compute buffers) failed, usually for memory.</summary>
    Context,
    /// <summary>llama_decode failed.</summary>
    Decode,
}

/// <summary>
/// A llama.cpp failure, as one line: what was loaded or run, what llama.cpp said, what to do.
/// </summary>
public sealed class LlamaCppException : Exception
{
    public LlamaCppException() { }
    public LlamaCppException(string message) : base(message) { }
    public LlamaCppException(string message, Exception inner) : base(message, inner) { }

    public LlamaCppException(LlamaCppFailure failure, string message, Exception? inner = null) : base(message, inner)
        => Failure = failure;

    public LlamaCppFailure Failure { get; }
}
