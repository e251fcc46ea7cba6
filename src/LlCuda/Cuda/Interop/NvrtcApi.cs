using System.Runtime.InteropServices;

namespace LlCuda.Cuda.Interop;

/// <summary>
/// Raw imports of NVRTC, CUDA's runtime compiler (libnvrtc.so.13 / .12, part of the CUDA
/// toolkit's runtime libraries, not of the driver). Only <see cref="Nvrtc"/> calls these.
/// </summary>
/// <remarks>
/// <para>Every function except <see cref="GetErrorString"/> returns an <c>nvrtcResult</c>:
/// 0 success, 1 out of memory, 2 program creation failure, 3 invalid input, 4 invalid program,
/// 5 invalid option (an option this NVRTC does not know, e.g. an architecture it cannot
/// target), 6 compilation (the source has errors: the program log says which), 7 builtin
/// operation failure, 11 internal error. The text for any code comes from
/// <see cref="GetErrorString"/> (static storage, never freed).</para>
/// <para>Threading: distinct programs may be compiled concurrently on different threads; one
/// program must not be used by two threads at once.</para>
/// </remarks>
internal static unsafe partial class NvrtcApi
{
    /// <summary>The name the imports use; <see cref="NativeLibraryResolver"/> maps it to the probed libnvrtc.</summary>
    public const string Library = CudaLibraries.NvrtcLogicalName;

    public const int Success = 0;
    public const int ErrorInvalidOption = 5;
    public const int ErrorCompilation = 6;

    [LibraryImport(Library, EntryPoint = "nvrtcVersion")]
    public static partial int Version(out int major, out int minor);

    [LibraryImport(Library, EntryPoint = "nvrtcGetNumSupportedArchs")]
    public static partial int GetNumSupportedArchs(out int count);

    // Fills count ints (52, 53, ..., 90, 100, ...): the sm_XY values this NVRTC can target.
    [LibraryImport(Library, EntryPoint = "nvrtcGetSupportedArchs")]
    public static partial int GetSupportedArchs(Span<int> archs);

    [LibraryImport(Library, EntryPoint = "nvrtcCreateProgram", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int CreateProgramRaw(out nint program, string source, string name, int headerCount, byte** headers, byte** includeNames);

    /// <summary>nvrtcCreateProgram without extra headers: our kernels include only NVRTC's built-in ones.</summary>
    public static int CreateProgram(out nint program, string source, string name) =>
        CreateProgramRaw(out program, source, name, 0, null, null);

    [LibraryImport(Library, EntryPoint = "nvrtcCompileProgram")]
    private static partial int CompileProgramRaw(nint program, int optionCount, byte** options);

    /// <summary>
    /// nvrtcCompileProgram with <paramref name="options"/> as the NUL-terminated UTF-8 strings
    /// NVRTC expects; they are freed before returning (NVRTC copies what it keeps).
    /// </summary>
    public static int CompileProgram(nint program, IReadOnlyList<string> options)
    {
        var strings = new nint[options.Count];
        try
        {
            for (int i = 0; i < strings.Length; i++) strings[i] = Marshal.StringToCoTaskMemUTF8(options[i]);
            fixed (nint* array = strings)
                return CompileProgramRaw(program, strings.Length, (byte**)array);
        }
        finally
        {
            foreach (var s in strings) Marshal.FreeCoTaskMem(s);   // FreeCoTaskMem(0) is a no-op
        }
    }

    // Size includes the terminating NUL.
    [LibraryImport(Library, EntryPoint = "nvrtcGetProgramLogSize")]
    public static partial int GetProgramLogSize(nint program, out nuint bytes);

    [LibraryImport(Library, EntryPoint = "nvrtcGetProgramLog")]
    public static partial int GetProgramLog(nint program, Span<byte> log);

    // Only defined after compiling for a real architecture (sm_XY); for compute_XY use the PTX calls.
    [LibraryImport(Library, EntryPoint = "nvrtcGetCUBINSize")]
    public static partial int GetCubinSize(nint program, out nuint bytes);

    [LibraryImport(Library, EntryPoint = "nvrtcGetCUBIN")]
    public static partial int GetCubin(nint program, Span<byte> cubin);

    // Size includes the terminating NUL, which cuModuleLoadData needs for PTX.
    [LibraryImport(Library, EntryPoint = "nvrtcGetPTXSize")]
    public static partial int GetPtxSize(nint program, out nuint bytes);

    [LibraryImport(Library, EntryPoint = "nvrtcGetPTX")]
    public static partial int GetPtx(nint program, Span<byte> ptx);

    [LibraryImport(Library, EntryPoint = "nvrtcDestroyProgram")]
    public static partial int DestroyProgram(ref nint program);

    [LibraryImport(Library, EntryPoint = "nvrtcGetErrorString")]
    public static partial nint GetErrorString(int result);
}
