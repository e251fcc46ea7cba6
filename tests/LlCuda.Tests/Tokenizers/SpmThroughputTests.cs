using System.Diagnostics;
using System.Text;
using LlCuda.Gguf;
using LlCuda.Tests.Support;
using LlCuda.Tokenizers;
using Xunit.Abstractions;

namespace LlCuda.Tests.Tokenizers;

/// <summary>
/// Prints SPM encode throughput on English prose (a measurement, not a timed assertion: the target
/// of 5 MB/s single-threaded lives in the report and in benchmarks; run with -c Release for a
/// meaningful number). The assertion checks the large input still round-trips.
/// </summary>
public class SpmThroughputTests(ITestOutputHelper output)
{
    [Fact]
    public void Encode_OneMegabyteOfEnglish_RoundTripsAndPrintsThroughput()
    {
        using var file = GgufFile.Open(TestPaths.Vocab("llama-spm"));
        var tokenizer = Tokenizer.FromGguf(file);
        string prose = File.ReadAllText(Path.Combine(TestPaths.Shared, "DESIGN.md")) + File.ReadAllText(Path.Combine(TestPaths.Shared, "STYLE.md"));
        var sb = new StringBuilder();
        while (sb.Length < 1_000_000)
            sb.Append(prose);
        string text = sb.ToString();
        long bytes = Encoding.UTF8.GetByteCount(text);

        tokenizer.Encode(prose, addSpecial: false); // warm up the JIT
        // Process CPU time too: on a shared machine wall time mostly measures the other processes.
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        int[] ids = tokenizer.Encode(text, addSpecial: false);
        watch.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        double mbPerSecond = bytes / 1e6 / watch.Elapsed.TotalSeconds;
        double mbPerCpuSecond = bytes / 1e6 / cpu.TotalSeconds;
#if DEBUG
        const string build = "Debug build: several times slower than Release";
#else
        const string build = "Release build";
#endif
        output.WriteLine($"SPM encode: {bytes / 1e6:F2} MB -> {ids.Length} tokens in {watch.Elapsed.TotalMilliseconds:F0} ms = {mbPerSecond:F1} MB/s wall, " +
            $"{mbPerCpuSecond:F1} MB/s of process CPU time ({build})");
        Assert.Equal(text, tokenizer.Decode(ids));
    }
}
