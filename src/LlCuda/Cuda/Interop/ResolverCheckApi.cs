using System.Runtime.InteropServices;

namespace LlCuda.Cuda.Interop;

/// <summary>
/// One import through a logical library name that <see cref="NativeLibraryResolver"/> maps to
/// libc.so.6, so the mechanism the CUDA libraries depend on (a resolver under NativeAOT, lazy
/// binding, no DirectPInvoke) can be proven on any machine, GPU or not: `llcuda selftest
/// --device cpu` runs it, and the tests run it against the published binary.
/// </summary>
/// <remarks>getpid returns the process id and cannot fail.</remarks>
internal static partial class ResolverCheckApi
{
    public const string Library = CudaLibraries.ResolverCheckLogicalName;

    [LibraryImport(Library, EntryPoint = "getpid")]
    private static partial int GetPid();

    /// <summary>Resolves the logical name and calls through it; true when the call reached libc (it returned this process's id).</summary>
    public static bool Verify(out string detail)
    {
        if (!NativeLibraryResolver.TryLoad(CudaLibraries.ResolverCheck, out string loaded, out string message))
        {
            detail = message;
            return false;
        }
        int pid = GetPid();
        detail = $"'{Library}' resolved to {loaded}; getpid() through it returned {pid}, the process id is {Environment.ProcessId}";
        return pid == Environment.ProcessId;
    }
}
