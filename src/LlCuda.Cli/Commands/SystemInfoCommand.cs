using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Cpu;

namespace LlCuda.Cli.Commands;

/// <summary>`llcuda system-info [--json]`: the CPU, the instruction sets the kernels may use, the kernel path.</summary>
internal static class SystemInfoCommand
{
    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var command = new Command("system-info", "Show the CPU and the instruction sets llcuda's kernels use on it") { json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
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
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    // IsDynamicCodeCompiled, not IsDynamicCodeSupported: PublishAot sets the latter false for the JIT build too.
    static bool RuntimeFeature() => System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled;
}
