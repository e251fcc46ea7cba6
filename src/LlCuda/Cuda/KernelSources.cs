using System.Reflection;

namespace LlCuda.Cuda;

/// <summary>
/// The CUDA C sources under src/LlCuda/Cuda/Kernels, embedded in this assembly as resources
/// named "kernels/FILE.cu" (see LlCuda.csproj), so the single-file binary carries them.
/// Thread-safe (read-only).
/// </summary>
public static class KernelSources
{
    const string Prefix = "kernels/";

    /// <summary>File names of every embedded kernel ("copy.cu", "vector_add.cu"); shared headers (.cuh) are not kernels.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. ResourceNames().Where(n => n.EndsWith(".cu", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    /// <summary>
    /// The source text of <paramref name="fileName"/> ("vector_add.cu"), with each line
    /// `#include "NAME.cuh"` replaced by that embedded header's text: NVRTC compiles one file
    /// and finds no headers of ours, and pasting them here keeps them in the text the kernel
    /// cache key is computed from.
    /// </summary>
    public static string Read(string fileName)
    {
        string source = ReadResource(fileName, "kernel source");
        if (!source.Contains("#include \"", StringComparison.Ordinal)) return source;
        var lines = source.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (!line.StartsWith("#include \"", StringComparison.Ordinal)) continue;
            string header = line["#include \"".Length..].TrimEnd('"');
            lines[i] = ReadResource(header, $"header (included by {fileName})").ReplaceLineEndings("\n").TrimEnd('\n');
        }
        return string.Join('\n', lines);
    }

    static IEnumerable<string> ResourceNames() =>
        typeof(KernelSources).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..]);

    static string ReadResource(string fileName, string what)
    {
        using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + fileName)
            ?? throw new ArgumentException($"no embedded {what} '{fileName}': the embedded files are {string.Join(", ", ResourceNames().Order(StringComparer.Ordinal))}", nameof(fileName));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
