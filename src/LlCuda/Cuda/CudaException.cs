namespace LlCuda.Cuda;

/// <summary>
/// A failed CUDA call (driver API, NVRTC or cuBLAS) or a CUDA library that could not be
/// loaded. The message is one line: library, call, kernel when launching, the error code's
/// name and text, and what to do.
/// </summary>
public sealed class CudaException : Exception
{
    public CudaException() { }
    public CudaException(string message) : base(message) { }
    public CudaException(string message, Exception inner) : base(message, inner) { }

    CudaException(string message, string library, string call, int? code, string? codeName, string? kernel, bool libraryMissing)
        : base(message)
    {
        Library = library;
        Call = call;
        Code = code;
        CodeName = codeName;
        Kernel = kernel;
        IsLibraryMissing = libraryMissing;
    }

    /// <summary>"CUDA driver", "NVRTC", "cuBLAS", or the description of a library that did not load.</summary>
    public string Library { get; } = "";

    /// <summary>The native call that failed ("cuMemAlloc_v2"), or what needed a missing library.</summary>
    public string Call { get; } = "";

    /// <summary>The library's result code; null when the library itself did not load.</summary>
    public int? Code { get; }

    /// <summary>The code's name ("CUDA_ERROR_OUT_OF_MEMORY"), when the library knows it.</summary>
    public string? CodeName { get; }

    /// <summary>The kernel being launched or looked up, with its launch shape; null for other calls.</summary>
    public string? Kernel { get; }

    /// <summary>True when a CUDA library (driver, NVRTC, cuBLAS) could not be loaded: an installation problem, not a failure of the GPU.</summary>
    public bool IsLibraryMissing { get; }

    /// <summary>
    /// True for the driver's "sticky" errors (700..720: illegal address, launch failure, ...):
    /// the context is corrupted and only a new process can use the GPU again.
    /// </summary>
    public bool IsSticky => Library == "CUDA driver" && Code is >= 700 and <= 720;

    /// <summary>A failed call: "CUDA driver: cuMemAlloc_v2 failed with CUDA_ERROR_OUT_OF_MEMORY (2, out of memory); free GPU memory ...".</summary>
    internal static CudaException Failed(string library, string call, int code, string? codeName, string? description, string? kernel, string advice) =>
        new(FormatMessage(library, call, code, codeName, description, kernel, advice), library, call, code, codeName, kernel, libraryMissing: false);

    /// <summary>A library that did not load; <paramref name="message"/> already names the candidates and what to install.</summary>
    internal static CudaException LibraryMissing(string library, string call, string message) =>
        new($"{call}: {message}", library, call, null, null, null, libraryMissing: true);

    /// <summary>A condition found before calling CUDA (too little free memory, an unsupported GPU), with its advice.</summary>
    internal static CudaException Refused(string library, string call, string message) =>
        new(message, library, call, null, null, null, libraryMissing: false);

    /// <summary>The message format, a pure function so tests can check it without a GPU.</summary>
    internal static string FormatMessage(string library, string call, int code, string? codeName, string? description, string? kernel, string advice)
    {
        string where = kernel is null ? call : $"{call} of kernel {kernel}";
        string name = string.IsNullOrEmpty(codeName) ? $"error {code}" : $"{codeName} ({code}";
        string what = string.IsNullOrEmpty(codeName)
            ? (string.IsNullOrEmpty(description) ? name : $"{name} ({description})")
            : (string.IsNullOrEmpty(description) ? $"{name})" : $"{name}, {description})");
        return $"{library}: {where} failed with {what}; {advice}";
    }
}
