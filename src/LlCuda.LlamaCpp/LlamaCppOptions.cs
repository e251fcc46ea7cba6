namespace LlCuda.LlamaCpp;

/// <summary>
/// llama.cpp-specific settings of a <see cref="LlamaCppRunner"/>; context length, sequences,
/// threads and KV cache type come from the engine's <c>RunnerOptions</c>, shared with our own
/// engine. Validated in one place (<see cref="Validate"/>), with messages that name the option.
/// </summary>
public sealed record LlamaCppOptions
{
    /// <summary>Environment variable naming a libllama.so to use instead of the bundled CPU build.</summary>
    public const string LibraryEnvironmentVariable = "LLCUDA_LLAMACPP_LIB";

    /// <summary>
    /// Path of a libllama.so (for example a CUDA build: its libggml*.so must sit beside it);
    /// null = the CPU build bundled from LLamaSharp.Backend.Cpu, best AVX level for this CPU.
    /// </summary>
    public string? LibraryPath { get; init; }

    /// <summary>Where <see cref="LibraryPath"/> came from, for error messages ("--llamacpp-lib", "LLCUDA_LLAMACPP_LIB").</summary>
    public string LibraryOrigin { get; init; } = LibraryEnvironmentVariable;

    /// <summary>
    /// Layers offloaded to a GPU: null = all of them when the loaded libllama has a GPU device,
    /// none otherwise (the bundled CPU build); 0 = none; -1 = all.
    /// </summary>
    public int? GpuLayerCount { get; init; }

    /// <summary>n_batch: most tokens one llama_decode call takes (longer batches are split).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>n_ubatch: tokens per compute step inside one llama_decode (at most <see cref="BatchSize"/>).</summary>
    public int MicroBatchSize { get; init; } = 512;

    /// <summary>Flash attention: null = llama.cpp decides (auto), true/false forces it.</summary>
    public bool? FlashAttention { get; init; }

    /// <summary>The defaults, with <see cref="LibraryPath"/> from LLCUDA_LLAMACPP_LIB when it is set.</summary>
    public static LlamaCppOptions FromEnvironment() =>
        Environment.GetEnvironmentVariable(LibraryEnvironmentVariable) is { Length: > 0 } path
            ? new LlamaCppOptions { LibraryPath = path }
            : new LlamaCppOptions();

    /// <summary>Throws an ArgumentException naming the first invalid value and its valid range.</summary>
    public void Validate()
    {
        if (GpuLayerCount < -1)
            throw new ArgumentException($"--gpu-layers {GpuLayerCount} is out of range: expected -1 (all), 0 (none) or a layer count");
        if (BatchSize < 1)
            throw new ArgumentException($"llama.cpp batch size {BatchSize} is out of range: expected a token count >= 1");
        if (MicroBatchSize < 1 || MicroBatchSize > BatchSize)
            throw new ArgumentException($"llama.cpp micro-batch size {MicroBatchSize} is out of range: expected 1..{BatchSize} (the batch size)");
        if (LibraryPath is { Length: 0 })
            throw new ArgumentException($"{LibraryOrigin} is empty: expected the path of a libllama.so");
    }
}
