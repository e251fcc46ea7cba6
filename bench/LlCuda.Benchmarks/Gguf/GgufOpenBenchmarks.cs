using BenchmarkDotNet.Attributes;
using LlCuda.Gguf;
using LlCuda.Models;
using LlCuda.Tokenizers;

namespace LlCuda.Benchmarks.Gguf;

/// <summary>
/// Opening a ~4 GB model: map the file, parse and validate the header (32,000-token
/// vocabulary, 291 tensor infos), then read hyperparameters and the vocabulary.
/// Target (issue 2): under 50 ms.
/// </summary>
[MemoryDiagnoser]
// In-process: building a separate benchmark project takes minutes on a loaded 2-core box.
[InProcess]
[WarmupCount(3)]
[IterationCount(15)]
public class GgufOpenBenchmarks
{
    string _path = "";

    [GlobalSetup]
    public void Setup() => _path = BenchFiles.Llama7BShapeQ4_0();

    [Benchmark(Description = "open 7B Q4_0 (3.8 GB) + parse header")]
    public int Open()
    {
        using var f = GgufFile.Open(_path);
        return f.Tensors.Count;
    }

    [Benchmark(Description = "open + hyperparameters + vocabulary")]
    public int OpenAndReadModelMetadata()
    {
        using var f = GgufFile.Open(_path);
        var hp = ModelHyperparameters.FromGguf(f);
        var vocab = Vocabulary.FromGguf(f);
        return hp.BlockCount + vocab.Count;
    }
}
