using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Cpu;
using LlCuda.Cuda;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda system-info [--json]`: the CPU, the instruction sets the kernels may use, the kernel
/// path; and the NVIDIA driver, its GPUs, NVRTC and cuBLAS, or why each is missing.
/// </summary>
internal static class SystemInfoCommand
{
    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var command = new Command("system-info", "Show the CPU, the instruction sets llcuda's kernels use on it, and the NVIDIA GPUs and CUDA libraries found") { json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            var cuda = CudaSystemReport.Collect();
            if (r.GetValue(json))
            {
                using var stream = new MemoryStream();
                using (var w = new Utf8JsonWriter(stream))
                {
                    w.WriteStartObject();
                    w.WriteString("os", RuntimeInformation.OSDescription);
                    w.WriteString("cpu", CpuCapabilities.ModelName);
                    w.WriteNumber("logical_processors", CpuCapabilities.ProcessorCount);
                    w.WriteString("kernel_path", CpuCapabilities.KernelPath);
                    w.WriteBoolean("native_aot", !RuntimeFeature());
                    w.WriteStartObject("instruction_sets");
                    foreach (var (name, supported) in CpuCapabilities.InstructionSets) w.WriteBoolean(name, supported);
                    w.WriteEndObject();
                    WriteCudaJson(w, cuda);
                    w.WriteEndObject();
                }
                console.Out.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
            }
            else
            {
                console.Out.WriteLine($"os: {RuntimeInformation.OSDescription}");
                console.Out.WriteLine($"cpu: {CpuCapabilities.ModelName}, {CpuCapabilities.ProcessorCount} logical processors");
                console.Out.WriteLine($"runtime: {(RuntimeFeature() ? "JIT" : "NativeAOT")}, CPU kernel path: {CpuCapabilities.KernelPath}");
                console.Out.WriteLine("instruction sets: " + string.Join(", ", CpuCapabilities.InstructionSets.Select(x => $"{x.Name} {(x.Supported ? "yes" : "no")}")));
                WriteCudaText(console.Out, cuda);
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    static void WriteCudaText(TextWriter o, CudaSystemReport cuda)
    {
        if (cuda.DriverVersion is null && !cuda.DriverUsable) o.WriteLine($"nvidia driver: not found ({cuda.DriverProblem})");
        else
        {
            o.WriteLine($"nvidia driver: {cuda.KernelModuleVersion ?? "version unknown"}, supports CUDA {cuda.DriverVersion ?? "?"}");
            if (!cuda.DriverUsable) o.WriteLine($"gpus: none usable ({cuda.DriverProblem})");
            foreach (var g in cuda.Gpus)
                o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"gpu {g.Ordinal}: {g.Name}, compute capability {g.ComputeCapability}, {g.Multiprocessors} SMs, {Gib(g.TotalBytes)} GiB total, {(g.FreeBytes is { } f ? Gib(f) : "?")} GiB free"));
            if (cuda.DriverUsable && cuda.Gpus.Count == 0) o.WriteLine("gpus: none");
        }
        o.WriteLine(cuda.NvrtcVersion is { } nv ? $"nvrtc: {nv}" : $"nvrtc: not found ({cuda.NvrtcProblem})");
        o.WriteLine(cuda.CublasVersion is { } cb ? $"cublas: {cb}" : $"cublas: not found ({cuda.CublasProblem})");
    }

    static void WriteCudaJson(Utf8JsonWriter w, CudaSystemReport cuda)
    {
        w.WriteStartObject("cuda");
        w.WriteBoolean("driver_found", cuda.DriverVersion is not null || cuda.DriverUsable);
        w.WriteBoolean("driver_usable", cuda.DriverUsable);
        WriteStringOrNull(w, "driver_cuda_version", cuda.DriverVersion);
        WriteStringOrNull(w, "driver_version", cuda.KernelModuleVersion);
        WriteStringOrNull(w, "driver_problem", cuda.DriverProblem);
        w.WriteStartArray("gpus");
        foreach (var g in cuda.Gpus)
        {
            w.WriteStartObject();
            w.WriteNumber("ordinal", g.Ordinal);
            w.WriteString("name", g.Name);
            w.WriteString("compute_capability", g.ComputeCapability.ToString());
            w.WriteNumber("multiprocessors", g.Multiprocessors);
            w.WriteNumber("total_bytes", g.TotalBytes);
            if (g.FreeBytes is { } free) w.WriteNumber("free_bytes", free); else w.WriteNull("free_bytes");
            w.WriteEndObject();
        }
        w.WriteEndArray();
        WriteStringOrNull(w, "nvrtc_version", cuda.NvrtcVersion);
        WriteStringOrNull(w, "nvrtc_problem", cuda.NvrtcProblem);
        WriteStringOrNull(w, "cublas_version", cuda.CublasVersion);
        WriteStringOrNull(w, "cublas_problem", cuda.CublasProblem);
        w.WriteEndObject();
    }

    static void WriteStringOrNull(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name); else w.WriteString(name, value);
    }

    static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F1", CultureInfo.InvariantCulture);

    // IsDynamicCodeCompiled, not IsDynamicCodeSupported: PublishAot sets the latter false for the JIT build too.
    static bool RuntimeFeature() => System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled;
}
