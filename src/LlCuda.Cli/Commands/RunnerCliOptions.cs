using System.CommandLine;
using LlCuda.Cli.Hosting;
using LlCuda.Cuda;
using LlCuda.Models.Llama;
using LlCuda.Engine;
using LlCuda.Gguf;
using LlCuda.Storage;
using LlCuda.LlamaCpp;

namespace LlCuda.Cli.Commands;

/// <summary>Where llcuda's own engine runs.</summary>
internal enum ComputeDevice
{
    Cpu,
    Cuda,
}

/// <summary>How a model is run: engine, threads, context, KV cache type (shared by infer, logits, bench).</summary>
internal sealed class RunnerCliOptions
{
    Option<int> _threads = null!, _ctx = null!;
    Option<int?> _gpuLayers = null!;
    Option<bool> _mmap = null!;
    Option<string> _engine = null!, _cacheType = null!, _device = null!;
    Option<int> _gpu = null!;
    Option<string?> _llamaLib = null!;

    public static RunnerCliOptions Create() => new()
    {
        _threads = new("--threads", "-t") { Description = "CPU threads (0 = one per core)" },
        _ctx = new("--ctx", "-c") { Description = "Context length in tokens (0 = the model's, capped at 4096)" },
        _device = new Option<string>("--device") { Description = "Where llcuda's engine runs: cuda (an NVIDIA GPU), cpu, or auto (default: cuda when a GPU is found, else cpu)", DefaultValueFactory = _ => "auto" }
            .AcceptOnlyFromAmong("auto", "cuda", "cpu"),
        _gpu = new("--gpu") { Description = "GPU ordinal for --device cuda (as nvidia-smi numbers them, after CUDA_VISIBLE_DEVICES)" },
        _engine = new Option<string>("--engine") { Description = "native (llcuda's engine) or llamacpp (llama.cpp through LLamaSharp)", DefaultValueFactory = _ => "native" }
            .AcceptOnlyFromAmong("native", "llamacpp"),
        _cacheType = new Option<string>("--cache-type") { Description = "KV cache element type: f16 (default) or f32", DefaultValueFactory = _ => "f16" }
            .AcceptOnlyFromAmong("f16", "f32"),
        _llamaLib = new("--llamacpp-lib") { Description = $"libllama.so to run --engine llamacpp on, e.g. a CUDA build (default: ${LlamaCppOptions.LibraryEnvironmentVariable}, else the bundled CPU build)" },
        _mmap = new("--mmap") { Description = "Run the weights in place from the file's memory map (instant load, pages shared between processes; decodes slower than the default copy into huge pages; llama.cpp maps its weights either way)" },
        _gpuLayers = new("--gpu-layers") { Description = "Layers llama.cpp offloads to a GPU (-1 = all; default: all when the libllama has a GPU, else 0)" },
    };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { _threads, _ctx, _device, _gpu, _engine, _cacheType, _mmap, _llamaLib, _gpuLayers }) command.Options.Add(o);
    }

    /// <summary>Default context when none is given: the model's, capped so a 32k-context model does not reserve gigabytes of KV cache.</summary>
    public const int DefaultContextCap = 4096;

    public RunnerOptions Read(ParseResult r)
    {
        int threads = r.GetValue(_threads), ctx = r.GetValue(_ctx);
        if (threads < 0) throw new UsageException($"--threads {threads} is out of range: expected 0 (one per core) or a positive count");
        if (ctx < 0) throw new UsageException($"--ctx {ctx} is out of range: expected 0 (the model's) or a positive token count");
        return new RunnerOptions
        {
            Threads = threads,
            ContextLength = ctx == 0 ? -DefaultContextCap : ctx,
            KvCacheType = r.GetValue(_cacheType) == "f32" ? KvCacheType.F32 : KvCacheType.F16,
            MapWeights = r.GetValue(_mmap),
        };
    }

    /// <summary>
    /// --device: cuda or cpu as given; auto picks cuda when the driver loads and sees a GPU (a
    /// machine without one, or without the NVIDIA driver, runs on the CPU without complaint).
    /// </summary>
    public ComputeDevice Device(ParseResult r) => r.GetValue(_device) switch
    {
        "cuda" => ComputeDevice.Cuda,
        "cpu" => ComputeDevice.Cpu,
        _ => CudaDriver.TryInitialize(out _) && CudaDriver.DeviceCount > 0 ? ComputeDevice.Cuda : ComputeDevice.Cpu,
    };

    public EngineKind Engine(ParseResult r) => r.GetValue(_engine) == "llamacpp" ? EngineKind.LlamaCpp : EngineKind.Native;

    /// <summary>llama.cpp's own settings: --llamacpp-lib (else LLCUDA_LLAMACPP_LIB), --gpu-layers.</summary>
    public LlamaCppOptions ReadLlamaCpp(ParseResult r)
    {
        var options = LlamaCppOptions.FromEnvironment();
        if (r.GetValue(_llamaLib) is { } lib) options = options with { LibraryPath = lib, LibraryOrigin = "--llamacpp-lib" };
        options = options with { GpuLayerCount = r.GetValue(_gpuLayers) };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new UsageException(e.Message); }
        return options;
    }

    /// <summary>
    /// Loads the -m model: a GGUF path, or a name:tag in the model store (resolved to its blob,
    /// last use recorded). A stored model that fails to parse says to verify and re-put it.
    /// </summary>
    public LoadedModel Load(ParseResult r, string model, RunnerOptions options)
    {
        var located = ModelLocator.Locate(model);
        try { return LoadPath(r, located.Path, options); }
        catch (GgufFormatException e) when (located.Stored is not null)
        {
            throw new GgufFormatException(located.Explain(e.Message));
        }
    }

    LoadedModel LoadPath(ParseResult r, string path, RunnerOptions options)
    {
        var engine = Engine(r);
        if (engine != EngineKind.LlamaCpp)
        {
            foreach (var (option, given) in new (Option, bool)[] { (_llamaLib, r.GetValue(_llamaLib) is not null), (_gpuLayers, r.GetValue(_gpuLayers) is not null) })
                if (given) throw new UsageException($"{option.Name} applies to --engine llamacpp only");
            int gpu = r.GetValue(_gpu);
            if (gpu < 0) throw new UsageException($"--gpu {gpu} is out of range: expected a GPU ordinal, 0 or more");
            return Device(r) == ComputeDevice.Cuda
                ? LoadedModel.Load(path, file => new LlamaCudaRunner(file, options, gpu)
                {
                    // LLCUDA_CUDA_GRAPHS=0 launches every kernel from the host: the A/B measure of what the graphs save.
                    UseGraphs = Environment.GetEnvironmentVariable("LLCUDA_CUDA_GRAPHS") != "0",
                })
                : LoadedModel.LoadNative(path, options);
        }
        if (r.GetValue(_device) == "cuda")
            throw new UsageException("--device cuda runs llcuda's own engine; for llama.cpp on a GPU give --llamacpp-lib a CUDA build of libllama and --gpu-layers");
        var llama = ReadLlamaCpp(r);
        // The tokenizer stays ours (exact to llama.cpp's); llama.cpp evaluates the model.
        return LoadedModel.Load(path, _ => LlamaCppRunner.Load(path, options, llama));
    }
}
