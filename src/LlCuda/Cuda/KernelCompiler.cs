using System.Diagnostics;

namespace LlCuda.Cuda;

/// <summary>One kernel file compiled for one GPU.</summary>
/// <param name="FileName">"vector_add.cu".</param>
/// <param name="Target">What it was compiled for (sm_90 CUBIN, or compute_XY PTX).</param>
/// <param name="Image">The CUBIN, or NUL-terminated PTX.</param>
/// <param name="CacheHit">True when it came from the disk cache rather than NVRTC.</param>
/// <param name="CacheKey">The sha256 naming its cache file.</param>
/// <param name="Elapsed">Time to get the image (NVRTC, or the cache read).</param>
public sealed record KernelCompilation(string FileName, KernelTarget Target, byte[] Image, bool CacheHit, string CacheKey, TimeSpan Elapsed);

/// <summary>
/// Compiles the embedded .cu files with NVRTC for the GPU of a context, at first use, through
/// the on-disk <see cref="KernelCache"/>, and loads them as <see cref="CudaModule"/>s.
/// </summary>
/// <remarks>Thread-safe: compilations are independent; the cache writes atomically.</remarks>
public sealed class KernelCompiler
{
    readonly CudaContext _context;
    readonly KernelCache _cache;
    readonly Lazy<(KernelTarget Target, string CompilerVersion)> _target;

    /// <summary>A compiler for <paramref name="context"/>'s GPU, caching under <paramref name="cacheDirectory"/> (default: <see cref="DefaultCacheDirectory"/>).</summary>
    public KernelCompiler(CudaContext context, string? cacheDirectory = null)
    {
        _context = context;
        _cache = new KernelCache(cacheDirectory ?? KernelCache.DefaultDirectory());
        _target = new Lazy<(KernelTarget, string)>(ChooseTarget, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>$LLCUDA_HOME/cache/kernels, $XDG_CACHE_HOME/llcuda/kernels or ~/.cache/llcuda/kernels.</summary>
    public static string DefaultCacheDirectory => KernelCache.DefaultDirectory();

    /// <summary>The folder this compiler caches in.</summary>
    public string CacheDirectory => _cache.Directory;

    /// <summary>What kernels are compiled for on this GPU (asks NVRTC which architectures it supports).</summary>
    public KernelTarget Target => _target.Value.Target;

    /// <summary>The embedded <paramref name="fileName"/> compiled for this GPU (from the cache when possible).</summary>
    public KernelCompilation Compile(string fileName)
    {
        string source = KernelSources.Read(fileName);
        var (target, compilerVersion) = _target.Value;
        var options = target.CompilerOptions();
        string key = KernelCache.Key(source, options, target.Architecture, compilerVersion);
        var clock = Stopwatch.StartNew();
        byte[] image = _cache.GetOrCompile(key, () => CompileWithHeaderFallback(source, fileName, options, target.IsCubin), out bool hit);
        return new KernelCompilation(fileName, target, image, hit, key, clock.Elapsed);
    }

    /// <summary>
    /// Compiles with NVRTC's own (built-in) headers first. A kernel that includes a toolkit header
    /// NVRTC does not carry (cuda_fp16.h in some versions) is compiled again with the toolkit's
    /// include folder, when one is installed; the cache key stays that of the plain options, as the
    /// folder only supplies what NVRTC lacked.
    /// </summary>
    static byte[] CompileWithHeaderFallback(string source, string fileName, IReadOnlyList<string> options, bool cubin)
    {
        try
        {
            return Nvrtc.Compile(source, fileName, options, cubin).Image;
        }
        catch (CudaException e) when (MissingHeader(e.Message))
        {
            if (ToolkitIncludeFolder() is not { } folder)
                throw CudaException.Refused(CudaCheck.NvrtcLibrary, e.Call,
                    $"{fileName} includes a CUDA header this NVRTC does not carry, and no CUDA include folder with cuda_fp16.h was found " +
                    $"($CUDA_HOME/include, /usr/local/cuda/include): install the CUDA headers (e.g. 'apt install cuda-cudart-dev-13-0') or set CUDA_HOME ({e.Message})");
            return Nvrtc.Compile(source, fileName, [.. options, $"--include-path={folder}"], cubin).Image;
        }
    }

    // NVRTC's log line for an #include it cannot find: NVRTC 13.0 on the H100 host (2026-11-25)
    // says `catastrophic error: could not open source file "cuda_fp16.h" (no directories in
    // search list)`; other versions say "cannot open source file".
    internal static bool MissingHeader(string message) =>
        message.Contains("could not open source file", StringComparison.Ordinal) || message.Contains("cannot open source file", StringComparison.Ordinal);

    /// <summary>The first CUDA include folder that has cuda_fp16.h: $CUDA_HOME's, then /usr/local/cuda's.</summary>
    internal static string? ToolkitIncludeFolder()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("CUDA_HOME") is { Length: > 0 } home)
        {
            candidates.Add(Path.Combine(home, "include"));
            candidates.Add(Path.Combine(home, "targets", "x86_64-linux", "include"));
        }
        candidates.Add("/usr/local/cuda/include");
        candidates.Add("/usr/local/cuda/targets/x86_64-linux/include");
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "cuda_fp16.h")));
    }

    /// <summary>Compiles (or reads from the cache) and loads <paramref name="fileName"/>; the caller disposes the module.</summary>
    public CudaModule Load(string fileName)
    {
        var compilation = Compile(fileName);
        return CudaModule.Load(_context, compilation.Image, fileName);
    }

    (KernelTarget, string) ChooseTarget()
    {
        var (major, minor) = Nvrtc.Version;
        string version = $"{major}.{minor}";
        // In the cache key: another NVRTC's CUBIN would still load, but a toolkit upgrade
        // should recompile (newer code generation, and old-driver compatibility of its output).
        string compiler = $"nvrtc {version}";
        return (KernelTarget.Choose(_context.Device.ComputeCapability, Nvrtc.SupportedArchitectures(), version), compiler);
    }
}
