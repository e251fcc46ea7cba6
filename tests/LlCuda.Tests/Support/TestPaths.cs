namespace LlCuda.Tests.Support;

/// <summary>
/// Where tests find the repository and the read-only ../shared folder (models, vocabularies,
/// tokenizer vectors). LLCUDA_SHARED overrides the shared folder.
/// </summary>
public static class TestPaths
{
    static readonly Lazy<string> RepoRootLazy = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "llcuda.slnx")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException(
            $"llcuda.slnx not found above {AppContext.BaseDirectory}: run the tests from the repository");
    });

    /// <summary>The repository root (the folder holding llcuda.slnx).</summary>
    public static string RepoRoot => RepoRootLazy.Value;

    /// <summary>The shared folder beside the repository.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("LLCUDA_SHARED") is { Length: > 0 } s
            ? s
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>../shared/models/stories260K.gguf</summary>
    public static string Stories260K => Path.Combine(Shared, "models", "stories260K.gguf");

    /// <summary>../shared/vocab/ggml-vocab-NAME.gguf</summary>
    public static string Vocab(string name) => Path.Combine(Shared, "vocab", $"ggml-vocab-{name}.gguf");

    /// <summary>A fresh temporary directory under the system temp folder, unique per call.</summary>
    public static string NewTempDir()
    {
        var path = Path.Combine(Path.GetTempPath(), "llcuda-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
