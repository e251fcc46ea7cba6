using System.Text;
using LlCuda.Cuda.Interop;

namespace LlCuda.Cuda;

/// <summary>What NVRTC produced: the image to load and the compiler's log (warnings; empty when clean).</summary>
internal sealed record NvrtcOutput(byte[] Image, string Log);

/// <summary>
/// NVRTC, CUDA's runtime compiler, behind checked calls. Thread-safe: each compilation has
/// its own program. Loads the library on first use (probing libnvrtc.so.13, .12, ...).
/// </summary>
internal static class Nvrtc
{
    /// <summary>Loads NVRTC or throws a <see cref="CudaException"/> naming what was tried and what to install.</summary>
    /// <param name="call">What needed it, for the message.</param>
    public static string Load(string call) => NativeLibraryResolver.Load(CudaLibraries.Nvrtc, call);

    /// <summary>NVRTC's version, e.g. (13, 0).</summary>
    public static (int Major, int Minor) Version
    {
        get
        {
            Load("nvrtcVersion");
            CudaCheck.Nvrtc(NvrtcApi.Version(out int major, out int minor), "nvrtcVersion");
            return (major, minor);
        }
    }

    /// <summary>The real architectures (sm numbers: 75, 80, ..., 90, 100, 120) this NVRTC can compile for, ascending.</summary>
    public static IReadOnlyList<int> SupportedArchitectures()
    {
        Load("nvrtcGetSupportedArchs");
        CudaCheck.Nvrtc(NvrtcApi.GetNumSupportedArchs(out int count), "nvrtcGetNumSupportedArchs");
        var archs = new int[count];
        CudaCheck.Nvrtc(NvrtcApi.GetSupportedArchs(archs), "nvrtcGetSupportedArchs");
        Array.Sort(archs);
        return archs;
    }

    /// <summary>
    /// Compiles <paramref name="source"/> with <paramref name="options"/>; returns a CUBIN when
    /// <paramref name="cubin"/> is true (options name an sm_XY), else PTX (compute_XY), NUL-terminated
    /// as cuModuleLoadData wants it. A source that does not compile throws with NVRTC's log.
    /// </summary>
    public static NvrtcOutput Compile(string source, string fileName, IReadOnlyList<string> options, bool cubin)
    {
        Load($"compiling {fileName}");
        CudaCheck.Nvrtc(NvrtcApi.CreateProgram(out nint program, source, fileName), $"nvrtcCreateProgram({fileName})");
        bool completed = false;
        try
        {
            int result = NvrtcApi.CompileProgram(program, options);
            string log = ReadLog(program);
            if (result != NvrtcApi.Success)
            {
                var error = CudaException.Failed(CudaCheck.NvrtcLibrary, $"nvrtcCompileProgram({fileName}, {string.Join(' ', options)})", result,
                    null, ErrorText(result), null,
                    result == NvrtcApi.ErrorCompilation
                        ? $"the kernel source did not compile (a bug in llcuda); NVRTC's log: {OneLine(log)}"
                        : $"NVRTC rejected the options (an architecture newer than it knows? install a newer CUDA runtime); NVRTC's log: {OneLine(log)}");
                throw error;
            }
            byte[] image = cubin ? ReadCubin(program, fileName) : ReadPtx(program, fileName);
            completed = true;
            return new NvrtcOutput(image, log);
        }
        finally
        {
            // Checked, but thrown only when nothing else is: a throw here would hide the compile error.
            int destroyed = NvrtcApi.DestroyProgram(ref program);
            if (completed) CudaCheck.Nvrtc(destroyed, "nvrtcDestroyProgram");
        }
    }

    static string ReadLog(nint program)
    {
        CudaCheck.Nvrtc(NvrtcApi.GetProgramLogSize(program, out nuint size), "nvrtcGetProgramLogSize");
        if (size <= 1) return "";
        var buffer = new byte[(int)size];
        CudaCheck.Nvrtc(NvrtcApi.GetProgramLog(program, buffer), "nvrtcGetProgramLog");
        return Encoding.UTF8.GetString(buffer, 0, buffer.Length - 1).Trim();
    }

    static byte[] ReadCubin(nint program, string fileName)
    {
        CudaCheck.Nvrtc(NvrtcApi.GetCubinSize(program, out nuint size), $"nvrtcGetCUBINSize({fileName})");
        var image = new byte[(int)size];
        CudaCheck.Nvrtc(NvrtcApi.GetCubin(program, image), $"nvrtcGetCUBIN({fileName})");
        return image;
    }

    static byte[] ReadPtx(nint program, string fileName)
    {
        CudaCheck.Nvrtc(NvrtcApi.GetPtxSize(program, out nuint size), $"nvrtcGetPTXSize({fileName})");
        var image = new byte[(int)size];
        CudaCheck.Nvrtc(NvrtcApi.GetPtx(program, image), $"nvrtcGetPTX({fileName})");
        return image;
    }

    static string ErrorText(int result) =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NvrtcApi.GetErrorString(result)) ?? $"NVRTC error {result}";

    static string OneLine(string log) => log.Length == 0 ? "(empty)" : log.ReplaceLineEndings(" | ");
}
