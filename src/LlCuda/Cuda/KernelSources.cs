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

    /// <summary>File names of every embedded kernel ("copy.cu", "vector_add.cu").</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. typeof(KernelSources).Assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
            .Select(n => n[Prefix.Length..])
            .Order(StringComparer.Ordinal)];

    /// <summary>The source text of <paramref name="fileName"/> ("vector_add.cu").</summary>
    public static string Read(string fileName)
    {
        using var stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + fileName)
            ?? throw new ArgumentException($"no embedded kernel source '{fileName}': the embedded ones are {string.Join(", ", Names)}", nameof(fileName));
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
