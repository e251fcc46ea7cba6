using System.Runtime.InteropServices;
using LLama.Native;

namespace LlCuda.LlamaCpp;

/// <summary>The libllama this process loaded, and what it can run on.</summary>
/// <param name="Path">The file actually mapped into the process (read back from /proc/self/maps, not assumed).</param>
/// <param name="Bundled">True for LLamaSharp.Backend.Cpu's build shipped beside llcuda; false for a user's libllama.</param>
/// <param name="Variant">The bundled build's instruction set ("avx512", "avx2", "avx", "noavx"); null for a user's library.</param>
/// <param name="Devices">ggml backend devices it registered ("CPU", "CUDA0", ...).</param>
/// <param name="SupportsGpuOffload">llama_supports_gpu_offload(): it can put layers on a GPU.</param>
public sealed record LlamaCppLibraryInfo(string Path, bool Bundled, string? Variant, IReadOnlyList<string> Devices, bool SupportsGpuOffload)
{
    /// <summary>How reports name it: "bundled avx512" or the user's path.</summary>
    public string Describe() => Bundled ? $"bundled {Variant ?? System.IO.Path.GetFileName(Path)}" : Path;
}

/// <summary>
/// Loads llama.cpp's native library once per process, before anything else in LLamaSharp
/// touches it: LLamaSharp reads its NativeLibraryConfig only on the first native call and can
/// never switch libraries afterwards. Either the CPU build bundled from LLamaSharp.Backend.Cpu
/// (runtimes/linux-x64/native/&lt;avx level&gt;/ beside the executable, best level for this
/// CPU), or the user's own libllama.so (a CUDA build, say), with no silent fallback from the
/// one to the other: LLamaSharp's best-known trap is quietly running on the CPU build when the
/// GPU build did not load, so a user library that fails is an error naming the missing piece,
/// and the library actually loaded is reported (<see cref="LlamaCppLibraryInfo.Path"/>).
/// </summary>
public static class LlamaCppLibrary
{
    static readonly Lock Gate = new();
    static LlamaCppLibraryInfo? _loaded;
    static string? _failure;

    /// <summary>
    /// Loads libllama (bundled when <paramref name="libraryPath"/> is null) or returns the one
    /// already loaded; throws a <see cref="LlamaCppException"/> (Library) when it cannot be
    /// loaded or when a different one is already in the process.
    /// </summary>
    /// <param name="libraryPath">A libllama.so, or a folder holding one; null for the bundled build.</param>
    /// <param name="origin">Where the path came from, for messages ("--llamacpp-lib").</param>
    public static LlamaCppLibraryInfo Load(string? libraryPath, string origin = LlamaCppOptions.LibraryEnvironmentVariable)
    {
        lock (Gate)
        {
            string? requested = libraryPath is null ? null : ResolveUserLibrary(libraryPath, origin);
            if (_loaded is null && _failure is null)
            {
                try { _loaded = LoadOnce(requested, origin); }
                catch (LlamaCppException e) { _failure = e.Message; throw; }
            }
            if (_loaded is null)
                throw new LlamaCppException(LlamaCppFailure.Library, _failure!);
            if (requested is not null && !SameFile(requested, _loaded.Path))
                throw new LlamaCppException(LlamaCppFailure.Library,
                    $"{origin}={requested}: this process already loaded llama.cpp from {_loaded.Path}, and a process can load only one (start a new process to switch)");
            return _loaded;
        }
    }

    /// <summary>Where LLamaSharp looks for the bundled builds: runtimes/linux-x64/native/&lt;avx level&gt;/ beside the executable.</summary>
    public static string BundledDirectory => System.IO.Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");

    // A folder means the libllama.so in it (a llama.cpp build's bin/ folder).
    static string ResolveUserLibrary(string path, string origin)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full)) full = System.IO.Path.Combine(full, "libllama.so");
        if (!File.Exists(full))
            throw new LlamaCppException(LlamaCppFailure.Library,
                $"{origin}={path}: no such file{(full != path ? $" ({full})" : "")}; expected a libllama.so from a llama.cpp build (cmake -B build -DBUILD_SHARED_LIBS=ON [-DGGML_CUDA=ON] && cmake --build build: it is build/bin/libllama.so), or {Drop(origin)} to use the bundled CPU build");
        return full;
    }

    static LlamaCppLibraryInfo LoadOnce(string? userLibrary, string origin)
    {
        long mark = LlamaCppLog.Mark();
        bool preloaded = NativeLibraryConfig.LLama.LibraryHasLoaded;
        if (!preloaded)
        {
            if (userLibrary is not null)
            {
                PreloadUserLibrary(userLibrary, origin);
                // No fallback: a user library that fails to load must not turn into the CPU build.
                NativeLibraryConfig.LLama.WithLibrary(userLibrary).WithAutoFallback(false);
            }
            else
            {
                string bundledDir = BundledDirectory;
                if (!Directory.Exists(bundledDir))
                    throw new LlamaCppException(LlamaCppFailure.Library,
                        $"llama.cpp's bundled CPU library is missing: {bundledDir} does not exist; reinstall llcuda with its runtimes/ folder beside the executable, or set {LlamaCppOptions.LibraryEnvironmentVariable} to a libllama.so");
                // The bundled package holds CPU builds only; skip LLamaSharp's CUDA/Vulkan probing.
                NativeLibraryConfig.All.WithCuda(false).WithVulkan(false).WithAvx(DetectAvxLevel());
            }
            NativeLibraryConfig.All.WithLogCallback(LlamaCppLog.Receive);
        }
        else
        {
            // Someone in this process (a test's reference helper) loaded it first; take over its log.
            NativeLogConfig.llama_log_set(LlamaCppLog.Receive);
        }

        try
        {
            // NativeApi's static constructor installs LLamaSharp's DllImport resolver, loads the
            // library per NativeLibraryConfig and calls llama_backend_init; every later call reuses it.
            _ = NativeApi.llama_max_devices();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or LLama.Exceptions.RuntimeError or BadImageFormatException)
        {
            // LLamaSharp's own RuntimeError is a multi-line checklist; its log says what failed.
            string reason = e.GetBaseException() is LLama.Exceptions.RuntimeError ? "no libllama could be loaded" : Innermost(e);
            string said = LlamaCppLog.ReasonSince(mark) is { } log ? $" (llama.cpp: {log})" : "";
            throw new LlamaCppException(LlamaCppFailure.Library, userLibrary is null
                ? $"could not load llama.cpp's bundled CPU library from {BundledDirectory}: {reason}{said}; reinstall llcuda with its runtimes/ folder beside the executable, or set {LlamaCppOptions.LibraryEnvironmentVariable} to a libllama.so"
                : $"{origin}={userLibrary}: LLamaSharp could not use it: {reason}{said}; it must be a llama.cpp build of the version LLamaSharp 0.30.0 binds, with its libggml*.so beside it", e);
        }

        string path = MappedLibllama() ?? userLibrary ?? "libllama.so (location unknown)";
        // Loaded before us (by code that used LLamaSharp directly): judge by where it came from.
        bool bundled = preloaded
            ? path.StartsWith(BundledDirectory + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal)
            : userLibrary is null;
        // The bundled builds sit in runtimes/linux-x64/native/<avx level>/.
        string? variant = bundled ? System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(path)) : null;
        return new LlamaCppLibraryInfo(path, bundled, variant, Devices(), NativeApi.llama_supports_gpu_offload());
    }

    // Loads the user's libggml-base.so, libggml.so and libllama.so ourselves first, dependencies
    // before dependents (the order LLamaSharp uses), because NativeLibrary.Load reports the
    // loader's own reason ("libcudart.so.12: cannot open shared object file") where LLamaSharp
    // only says it failed. libggml.so pulls in the backends it was linked with (libggml-cuda.so);
    // other libggml-*.so in the folder are left alone: ggml loads optional backends itself and
    // one that cannot load there (Vulkan without a loader) must not fail the whole library.
    // Once loaded, glibc hands the same handles to LLamaSharp's loader.
    static readonly string[] UserDependencies = ["libggml-base.so", "libggml.so"];

    static void PreloadUserLibrary(string libllama, string origin)
    {
        string dir = System.IO.Path.GetDirectoryName(libllama)!;
        var order = UserDependencies.Select(n => System.IO.Path.Combine(dir, n)).Where(File.Exists).Append(libllama);
        foreach (var file in order)
        {
            try { NativeLibrary.Load(file); }
            catch (DllNotFoundException e)
            {
                throw new LlamaCppException(LlamaCppFailure.Library,
                    $"{origin}={libllama}: cannot load {file}: {LoaderReason(e)}; install what it names (for a CUDA build: the CUDA runtime and cuBLAS of the version it was built with, on LD_LIBRARY_PATH) or {Drop(origin)} to use the bundled CPU build", e);
            }
            catch (BadImageFormatException e)
            {
                throw new LlamaCppException(LlamaCppFailure.Library,
                    $"{origin}={libllama}: {file} is not a linux-x64 shared library ({OneLine(e.Message)})", e);
            }
        }
    }

    /// <summary>
    /// The best bundled build for this CPU, from the kernel's CPU flags. LLamaSharp picks one
    /// with Avx.IsSupported and friends, which a NativeAOT binary compiles for its baseline
    /// instruction set (x86-64-v2 unless IlcInstructionSet says more): there they read false and
    /// LLamaSharp loads the slow noavx build on an AVX-512 machine (seen: "bundled noavx" from the
    /// published binary, "bundled avx512" from the same machine under the JIT). The kernel
    /// lists a flag only when the CPU has it and the OS saves its registers.
    /// </summary>
    internal static AvxLevel DetectAvxLevel()
    {
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return AvxLevel.None;
        var flags = File.ReadLines(cpuinfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal)) is { } line
            ? line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal)
            : [];
        // The same requirements LLamaSharp's own check uses for each build.
        if (flags.IsSupersetOf(["avx512f", "avx512bw", "avx512vbmi", "avx512_vnni"])) return AvxLevel.Avx512;
        if (flags.Contains("avx2")) return AvxLevel.Avx2;
        if (flags.Contains("avx")) return AvxLevel.Avx;
        return AvxLevel.None;
    }

    static string[] Devices()
    {
        try
        {
            var names = new List<string>();
            nuint count = NativeApi.ggml_backend_dev_count();
            for (nuint i = 0; i < count; i++)
                if (Marshal.PtrToStringUTF8(NativeApi.ggml_backend_dev_name(NativeApi.ggml_backend_dev_get(i))) is { Length: > 0 } name)
                    names.Add(name);
            return [.. names];
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A user library whose libggml is not where LLamaSharp looks: still usable, just unnamed.
            return [];
        }
    }

    // The libllama file mapped into this process: the truth about which build runs.
    static string? MappedLibllama()
    {
        const string maps = "/proc/self/maps";
        if (!File.Exists(maps)) return null;
        foreach (var line in File.ReadLines(maps))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0) continue;
            string file = line[slash..];
            string name = System.IO.Path.GetFileName(file);
            if (name.StartsWith("libllama", StringComparison.Ordinal) && name.Contains(".so", StringComparison.Ordinal)) return file;
        }
        return null;
    }

    static bool SameFile(string a, string b)
    {
        try
        {
            return string.Equals(new FileInfo(a).ResolveLinkTarget(true)?.FullName ?? System.IO.Path.GetFullPath(a),
                new FileInfo(b).ResolveLinkTarget(true)?.FullName ?? System.IO.Path.GetFullPath(b), StringComparison.Ordinal);
        }
        catch (IOException) { return false; }
    }

    static string Drop(string origin) => origin.StartsWith('-') ? $"drop {origin}" : $"unset {origin}";

    // .NET wraps the loader's message (dlerror) in two sentences of advice; keep the loader's part.
    static string LoaderReason(DllNotFoundException e)
    {
        const string marker = "environment variable: ";
        string message = OneLine(e.Message);
        int at = message.LastIndexOf(marker, StringComparison.Ordinal);
        return at >= 0 ? message[(at + marker.Length)..] : message;
    }

    static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return OneLine(e.Message);
    }

    static string OneLine(string s) => string.Join(' ', s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
