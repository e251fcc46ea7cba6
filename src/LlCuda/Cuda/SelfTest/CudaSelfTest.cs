using System.Diagnostics;

namespace LlCuda.Cuda.SelfTest;

/// <summary>Outcome of one selftest check.</summary>
public enum SelfTestStatus
{
    Pass,
    Fail,
    /// <summary>Not run because a check it depends on failed (counts as a failure of the run).</summary>
    Skip,
}

/// <summary>One check's line: its name, outcome, what it found, and a headline number where it measures one.</summary>
/// <param name="Value">The measured figure (GB/s for bandwidth), or null.</param>
/// <param name="Unit">Unit of <paramref name="Value"/> ("GB/s"), or null.</param>
public sealed record SelfTestResult(string Check, SelfTestStatus Status, string Detail, TimeSpan Elapsed, double? Value = null, string? Unit = null);

/// <summary>Settings of a selftest run (defaults are what `llcuda selftest --device cuda` uses).</summary>
/// <param name="DeviceOrdinal">The GPU to test.</param>
/// <param name="BandwidthBytes">Bytes per buffer of the copy-bandwidth check (source and destination each); reduced to what fits in free memory.</param>
/// <param name="BandwidthRepetitions">Timed copies; the median is reported.</param>
/// <param name="TimeKernels">Time the matvec kernels on 7B-shaped matrices (off under compute-sanitizer: correctness only).</param>
/// <param name="Models">Run the whole-model checks (CUDA against the CPU engine); when off they are left out of the results.</param>
public sealed record SelfTestOptions(int DeviceOrdinal = 0, long BandwidthBytes = 1L << 30, int BandwidthRepetitions = 5, bool TimeKernels = true, bool Models = true);

/// <summary>
/// `llcuda selftest --device cuda`: checks, in order, that the driver sees the GPU, NVRTC
/// compiles for it (and the kernel cache answers the second time), a kernel launches and
/// computes exact results, a CUDA graph replays, cuBLAS multiplies fp16 matrices exactly, and
/// measures copy bandwidth. Each check is
/// one result line; a check whose prerequisite failed is skipped, and no check throws.
/// Not thread-safe (one run at a time per process is the intended use).
/// </summary>
public static partial class CudaSelfTest
{
    /// <summary>The check names, in run order.</summary>
    // A property, not a static initializer: its parts are static fields of other partial files,
    // whose initialization order relative to this one C# does not fix.
    public static IReadOnlyList<string> CheckNames =>
    [
        "driver", "nvrtc", "launch", "graph", "cublas", "bandwidth", "rmsnorm", "swiglu",
        .. MatVecKernels.SupportedTypes.Select(t => $"matvec-{t.ToString().ToLowerInvariant()}"),
        .. ModelTypes.Select(t => $"model-{t.ToLowerInvariant()}"),
        PagedCheckName,
        "cleanup",
    ];

    /// <summary>Runs every check; <paramref name="progress"/> sees each result as it is decided.</summary>
    public static IReadOnlyList<SelfTestResult> Run(SelfTestOptions options, Action<SelfTestResult>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.BandwidthRepetitions, 1);
        var results = new List<SelfTestResult>();
        void Report(SelfTestResult r)
        {
            results.Add(r);
            progress?.Invoke(r);
        }

        long releaseFailuresBefore = CudaDriver.ReleaseFailures;
        CudaContext? context = null;
        try
        {
            var driver = Check("driver", () =>
            {
                context = CudaContext.Open(options.DeviceOrdinal);
                var (free, total) = context.GetMemoryInfo();
                var d = context.Device;
                return ($"GPU {d.Ordinal}: {d.Name}, compute capability {d.ComputeCapability}, {d.MultiprocessorCount} SMs, " +
                        $"{Gib(free)} of {Gib(total)} GiB free, driver supports CUDA {CudaDriver.FormatVersion(CudaDriver.Version)}", null);
            });
            Report(driver);
            if (driver.Status != SelfTestStatus.Pass || context is null)
            {
                foreach (var name in CheckNames.Skip(1)) Report(Skipped(name, "driver"));
                return results;
            }

            var nvrtc = Check("nvrtc", () => CheckNvrtc(context));
            Report(nvrtc);
            if (nvrtc.Status != SelfTestStatus.Pass)
            {
                foreach (var name in CheckNames.Skip(2).SkipLast(1)) Report(Skipped(name, "nvrtc"));
            }
            else
            {
                var compiler = new KernelCompiler(context);
                Report(Check("launch", () => CheckLaunch(context, compiler)));
                Report(Check("graph", () => CheckGraph(context, compiler)));
                Report(Check("cublas", () => CheckCublas(context)));
                var bandwidth = Check("bandwidth", () => CheckBandwidth(context, compiler, options));
                Report(bandwidth);
                Report(Check("rmsnorm", () => CheckRmsNorm(context, compiler)));
                Report(Check("swiglu", () => CheckSwiGlu(context, compiler)));
                // Kernel rates are quoted as a share of the copy bandwidth just measured.
                double copy = bandwidth.Value ?? double.NaN;
                foreach (var type in MatVecKernels.SupportedTypes)
                    Report(Check($"matvec-{type.ToString().ToLowerInvariant()}", () => CheckMatVec(context, compiler, type, copy, options.TimeKernels)));
                // Whole models last: they use every kernel above.
                foreach (var type in options.Models ? ModelTypes : [])
                    Report(Check($"model-{type.ToLowerInvariant()}", () => CheckModel(context, type)));
                if (options.Models) Report(Check(PagedCheckName, () => CheckPagedModel(context)));
            }
        }
        finally
        {
            context?.Dispose();
        }
        // Every wrapper above was disposed; a failed release would be a leak or a broken context.
        long failed = CudaDriver.ReleaseFailures - releaseFailuresBefore;
        Report(failed == 0
            ? new SelfTestResult("cleanup", SelfTestStatus.Pass, "every buffer, stream, event, module and graph released", TimeSpan.Zero)
            : new SelfTestResult("cleanup", SelfTestStatus.Fail, $"{failed} release call(s) failed, the last: {CudaDriver.LastReleaseFailure}", TimeSpan.Zero));
        return results;
    }

    // A check returns its detail line and optional measured value; any exception is its failure.
    static SelfTestResult Check(string name, Func<(string Detail, (double Value, string Unit)? Measure)> body)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var (detail, measure) = body();
            return new SelfTestResult(name, SelfTestStatus.Pass, detail, clock.Elapsed, measure?.Value, measure?.Unit);
        }
        catch (SelfTestFailure e)
        {
            return new SelfTestResult(name, SelfTestStatus.Fail, e.Message, clock.Elapsed);
        }
        catch (Exception e) when (e is CudaException or ArgumentException or IOException or InvalidOperationException or ObjectDisposedException or NotSupportedException)
        {
            return new SelfTestResult(name, SelfTestStatus.Fail, e.Message, clock.Elapsed);
        }
    }

    static SelfTestResult Skipped(string name, string prerequisite) =>
        new(name, SelfTestStatus.Skip, $"not run: the {prerequisite} check failed", TimeSpan.Zero);

    static string Gib(long bytes) => (bytes / (double)(1L << 30)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A check found a wrong result (as opposed to a CUDA call failing).</summary>
    sealed class SelfTestFailure(string message) : Exception(message);

    /// <summary>Launch grid for one thread per element in 256-thread blocks.</summary>
    static Dim3 BlocksFor(long elements) => (uint)((elements + 255) / 256);
}
