using LlCuda.Tests.Support;

namespace LlCuda.Tests.Models;

/// <summary>A fresh temporary folder (<see cref="TestPaths.NewTempDir"/>) deleted on dispose, so model files do not pile up in /tmp.</summary>
internal sealed class ScratchDirectory : IDisposable
{
    public string Path { get; } = TestPaths.NewTempDir();

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a leftover temp folder is harmless */ }
    }
}
