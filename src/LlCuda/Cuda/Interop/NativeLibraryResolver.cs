using System.Reflection;
using System.Runtime.InteropServices;

namespace LlCuda.Cuda.Interop;

/// <summary>
/// Loads the CUDA libraries by probing (<see cref="CudaLibraries"/>) and tells the runtime to
/// use the loaded handles for the logical names in our <c>[LibraryImport]</c> attributes.
/// One resolver serves this whole assembly (the runtime allows one per assembly); names that
/// are not ours ("libc") fall through to the default loader. Works under NativeAOT because
/// these imports are not DirectPInvoke: they bind lazily, on first call, through the resolver.
/// </summary>
/// <remarks>Thread-safe. Each library is probed at most once per process and never unloaded
/// (the handles stay valid for the process's life; a failed probe is remembered too).</remarks>
internal static class NativeLibraryResolver
{
    sealed record Outcome(nint Handle, string LoadedName, string Message);

    static readonly Lock Gate = new();
    static readonly Dictionary<string, Outcome> Outcomes = new(StringComparer.Ordinal);
    static bool _registered;

    /// <summary>Loads <paramref name="spec"/> (once) or throws a <see cref="CudaException"/> naming every candidate and what to install.</summary>
    /// <param name="call">What needed it, for the message ("cuInit", "compiling vector_add.cu").</param>
    /// <returns>The candidate that loaded (a soname or path).</returns>
    public static string Load(CudaLibrarySpec spec, string call)
    {
        if (TryLoad(spec, out string loaded, out string message)) return loaded;
        throw CudaException.LibraryMissing(spec.Description, call, message);
    }

    /// <summary>Loads <paramref name="spec"/> (once); on failure <paramref name="message"/> says what was tried and what to do.</summary>
    public static bool TryLoad(CudaLibrarySpec spec, out string loadedName, out string message)
    {
        Outcome outcome;
        lock (Gate)
        {
            EnsureRegistered();
            if (!Outcomes.TryGetValue(spec.LogicalName, out outcome!))
            {
                outcome = Probe(spec);
                Outcomes[spec.LogicalName] = outcome;
            }
        }
        loadedName = outcome.LoadedName;
        message = outcome.Message;
        return outcome.Handle != 0;
    }

    static void EnsureRegistered()
    {
        if (_registered) return;
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
        _registered = true;
    }

    static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        lock (Gate)
            return Outcomes.TryGetValue(name, out var outcome) ? outcome.Handle : 0;
        // 0 for a known-missing library too: the default loader then fails with
        // DllNotFoundException, but the wrappers never call an import before Load succeeded.
    }

    static Outcome Probe(CudaLibrarySpec spec)
    {
        var tried = spec.Candidates();
        var failures = new List<string>();
        foreach (var candidate in tried)
        {
            bool isPath = candidate.Contains('/', StringComparison.Ordinal);
            if (isPath && !File.Exists(candidate)) continue;
            try
            {
                return new Outcome(NativeLibrary.Load(candidate), candidate, "");
            }
            catch (DllNotFoundException e)
            {
                // A soname the loader does not know is the normal miss; a file that exists but
                // will not load (a missing dependency, wrong architecture) is worth reporting.
                string reason = LoaderReason(e);
                if (isPath || !reason.Contains("No such file", StringComparison.Ordinal)) failures.Add($"{candidate}: {reason}");
            }
            catch (BadImageFormatException e)
            {
                failures.Add($"{candidate}: not a linux-x64 shared library ({e.Message.ReplaceLineEndings(" ")})");
            }
        }
        return new Outcome(0, "", CudaLibraries.NotFoundMessage(spec, tried, failures));
    }

    // .NET wraps dlerror()'s text in advice about strace and LD_DEBUG; keep dlerror's part.
    static string LoaderReason(DllNotFoundException e)
    {
        const string marker = "environment variable: ";
        string message = e.Message.ReplaceLineEndings(" ");
        int at = message.LastIndexOf(marker, StringComparison.Ordinal);
        return at >= 0 ? message[(at + marker.Length)..].Trim() : message.Trim();
    }
}
