using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LlCuda.Cli.Hosting;
using LlCuda.Cpu;
using LlCuda.Cuda.SelfTest;

namespace LlCuda.Cli.Commands;

/// <summary>
/// `llcuda selftest --device cuda [--gpu N] [--bandwidth-mib 1024] [--json]`: checks that this machine can run llcuda's
/// CUDA backend (driver, NVRTC and the kernel cache, a kernel launch, a CUDA graph, copy
/// bandwidth), one PASS/FAIL/SKIP line per check; exits 1 when any check does not pass.
/// `--device cpu` checks only that native libraries bind through our resolver (the CPU engine's checks come later).
/// </summary>
internal static class SelftestCommand
{
    public static Command Create(CliConsole console)
    {
        var json = CommonOptions.Json();
        var device = new Option<string>("--device", "-d") { Description = "What to test: cuda or cpu", DefaultValueFactory = _ => "cuda" }.AcceptOnlyFromAmong("cuda", "cpu");
        var gpu = new Option<int>("--gpu") { Description = "CUDA device ordinal to test (see 'llcuda system-info')", DefaultValueFactory = _ => 0 };
        var bandwidthMib = new Option<int>("--bandwidth-mib")
        {
            // Smaller under compute-sanitizer, which slows every memory access by orders of magnitude.
            Description = "MiB per buffer of the copy-bandwidth check (reduced to what fits in free memory)",
            DefaultValueFactory = _ => 1024,
        };
        var quick = new Option<bool>("--quick") { Description = "Correctness only: a 64 MiB bandwidth copy and no kernel timing (for compute-sanitizer runs)" };
        var noModels = new Option<bool>("--no-models") { Description = "Skip the whole-model checks (CUDA against the CPU engine on a synthetic model of every type)" };
        var command = new Command("selftest", "Check that llcuda's GPU backend works on this machine (driver, compiler, launches, graphs, bandwidth, every kernel, whole models against the CPU engine)") { device, gpu, bandwidthMib, quick, noModels, json };
        command.SetAction(r => CommandRunner.Run(console, () =>
        {
            bool asJson = r.GetValue(json);
            string target = r.GetValue(device)!;
            int ordinal = r.GetValue(gpu);
            if (ordinal < 0) throw new UsageException($"--gpu {ordinal} is out of range: expected a device ordinal >= 0");
            int mib = r.GetValue(bandwidthMib);
            if (mib < 64) throw new UsageException($"--bandwidth-mib {mib} is out of range: expected at least 64 (smaller copies measure launch latency, not bandwidth)");
            Action<SelfTestResult>? progress = asJson ? null : result => console.Out.WriteLine(FormatLine(result));
            IReadOnlyList<SelfTestResult> results;
            if (target == "cpu")
            {
                // The CPU engine's own checks come later; the resolver check proves the native
                // binding the CUDA backend needs works in this build.
                if (!asJson) console.Out.WriteLine($"cpu: kernel path {CpuCapabilities.KernelPath}; nothing of the CPU engine to check yet");
                results = CpuSelfTest.Run();
                foreach (var result in results) progress?.Invoke(result);
            }
            else
            {
                // Lines appear as checks finish (the bandwidth check takes a few seconds).
                bool fast = r.GetValue(quick);
                results = CudaSelfTest.Run(new SelfTestOptions(ordinal, BandwidthBytes: (fast ? 64L : mib) << 20, TimeKernels: !fast, Models: !r.GetValue(noModels)), progress);
            }
            int failed = results.Count(x => x.Status != SelfTestStatus.Pass);
            if (asJson) WriteJson(console.Out, target, results);
            else console.Out.WriteLine($"selftest: {results.Count - failed} passed, {failed} failed or skipped");
            return failed == 0 ? ExitCodes.Success : ExitCodes.Failure;
        }));
        return command;
    }

    /// <summary>"PASS  launch     vector_add over 1,048,576 elements ... (12 ms)".</summary>
    internal static string FormatLine(SelfTestResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Status.ToString().ToUpperInvariant(),-5} {r.Check,-10} {r.Detail} ({r.Elapsed.TotalMilliseconds:F0} ms)");

    static void WriteJson(TextWriter output, string device, IReadOnlyList<SelfTestResult> results)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("device", device);
            w.WriteBoolean("passed", results.All(x => x.Status == SelfTestStatus.Pass));
            w.WriteStartArray("checks");
            foreach (var r in results)
            {
                w.WriteStartObject();
                w.WriteString("check", r.Check);
                w.WriteString("status", r.Status.ToString().ToLowerInvariant());
                w.WriteString("detail", r.Detail);
                w.WriteNumber("elapsed_ms", Math.Round(r.Elapsed.TotalMilliseconds, 3));
                if (r.Value is { } value)
                {
                    w.WriteNumber("value", value);
                    w.WriteString("unit", r.Unit);
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(Encoding.UTF8.GetString(stream.ToArray()));
    }
}
