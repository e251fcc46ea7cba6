using System.Globalization;

namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    // Compiles vector_add.cu into a fresh cache folder twice: the first must run NVRTC, the
    // second must come from the cache with the same bytes; then every other embedded kernel.
    // The user's own cache is not used, so the check means the same on every run.
    static (string, (double, string)?) CheckNvrtc(CudaContext context)
    {
        string folder = Path.Combine(Path.GetTempPath(), $"llcuda-selftest-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var compiler = new KernelCompiler(context, folder);
            var first = compiler.Compile("vector_add.cu");
            var second = compiler.Compile("vector_add.cu");
            if (first.CacheHit) throw new SelfTestFailure($"the first compile of vector_add.cu hit an empty cache ({folder})");
            if (!second.CacheHit) throw new SelfTestFailure($"the second compile of vector_add.cu missed the cache in {folder} (is it writable?)");
            if (!first.Image.AsSpan().SequenceEqual(second.Image)) throw new SelfTestFailure("the cached image differs from the compiled one");
            // Every other embedded kernel must compile for this GPU too, and load: a kernel that
            // only fails here would otherwise surface in the middle of a model run.
            var others = KernelSources.Names.Where(n => n != "vector_add.cu").ToList();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            foreach (var name in others)
            {
                var compiled = compiler.Compile(name);
                using var module = CudaModule.Load(context, compiled.Image, name);
            }
            var (major, minor) = Nvrtc.Version;
            return (string.Create(CultureInfo.InvariantCulture,
                $"vector_add.cu for {first.Target} ({(first.Target.IsCubin ? "CUBIN" : "PTX, JIT by the driver")}, {first.Image.Length} bytes): NVRTC {major}.{minor} in {first.Elapsed.TotalMilliseconds:F0} ms, cache hit in {second.Elapsed.TotalMilliseconds:F1} ms; " +
                $"{others.Count} other kernels compiled and loaded in {clock.Elapsed.TotalMilliseconds:F0} ms ({string.Join(", ", others)})"), null);
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); }
            catch (DirectoryNotFoundException) { /* never created */ }
            catch (IOException) { /* a leftover temp folder is harmless */ }
        }
    }
}
