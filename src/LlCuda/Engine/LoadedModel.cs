using System.Diagnostics;
using LlCuda.Gguf;
using LlCuda.Models.Llama;
using LlCuda.Tokenizers;

namespace LlCuda.Engine;

/// <summary>Which implementation evaluates the model.</summary>
public enum EngineKind
{
    /// <summary>llcuda's own forward pass and kernels.</summary>
    Native,
    /// <summary>llama.cpp through LLamaSharp.</summary>
    LlamaCpp,
}

/// <summary>A model ready to generate: its runner, its tokenizer, and how long loading took.</summary>
public sealed class LoadedModel : IDisposable
{
    LoadedModel(IModelRunner runner, Tokenizer tokenizer, GgufFile file, double loadMs)
    {
        Runner = runner;
        Tokenizer = tokenizer;
        File = file;
        LoadMilliseconds = loadMs;
    }

    public IModelRunner Runner { get; }
    public Tokenizer Tokenizer { get; }
    /// <summary>The open model file (metadata, tensors).</summary>
    public GgufFile File { get; }
    public double LoadMilliseconds { get; }

    /// <summary>Opens <paramref name="path"/> with llcuda's own CPU engine.</summary>
    public static LoadedModel LoadNative(string path, RunnerOptions options)
    {
        var clock = Stopwatch.StartNew();
        var file = GgufFile.Open(path);
        try
        {
            var tokenizer = Tokenizer.FromGguf(file);
            var runner = new LlamaCpuRunner(file, options);
            return new LoadedModel(runner, tokenizer, file, clock.Elapsed.TotalMilliseconds);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Runner.Dispose();
        File.Dispose();
    }
}
