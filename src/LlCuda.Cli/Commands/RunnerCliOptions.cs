using System.CommandLine;
using LlCuda.Cli.Hosting;
using LlCuda.Engine;

namespace LlCuda.Cli.Commands;

/// <summary>How a model is run: engine, threads, context, KV cache type (shared by infer, logits, bench).</summary>
internal sealed class RunnerCliOptions
{
    Option<int> _threads = null!, _ctx = null!;
    Option<string> _engine = null!, _cacheType = null!;

    public static RunnerCliOptions Create() => new()
    {
        _threads = new("--threads", "-t") { Description = "CPU threads (0 = one per core)" },
        _ctx = new("--ctx", "-c") { Description = "Context length in tokens (0 = the model's, capped at 4096)" },
        _engine = new Option<string>("--engine") { Description = "native (llcuda's engine) or llamacpp (llama.cpp through LLamaSharp)", DefaultValueFactory = _ => "native" }
            .AcceptOnlyFromAmong("native", "llamacpp"),
        _cacheType = new Option<string>("--cache-type") { Description = "KV cache element type: f16 (default) or f32", DefaultValueFactory = _ => "f16" }
            .AcceptOnlyFromAmong("f16", "f32"),
    };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { _threads, _ctx, _engine, _cacheType }) command.Options.Add(o);
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
        };
    }

    public EngineKind Engine(ParseResult r) => r.GetValue(_engine) == "llamacpp" ? EngineKind.LlamaCpp : EngineKind.Native;

    public LoadedModel Load(ParseResult r, string path, RunnerOptions options) => Engine(r) switch
    {
        EngineKind.Native => LoadedModel.LoadNative(path, options),
        _ => throw new NotSupportedException("--engine llamacpp is not available in this build yet"),
    };
}
