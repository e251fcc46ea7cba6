using System.Runtime.InteropServices;
using Perfolizer.Horology;

namespace LlCuda.Benchmarks.Cpu;

/// <summary>
/// A BenchmarkDotNet clock that reads the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
/// On the shared 2-core development box (load average 10-20) wall time mostly measures waiting
/// for a core; a single-threaded in-process benchmark's CPU time is its running time. Still
/// subject to cache and memory-bandwidth contention, so compare only side-by-side ratios.
/// </summary>
internal sealed class ThreadCpuClock : IClock
{
    public static readonly ThreadCpuClock Instance = new();

    public string Title => "thread CPU time";
    public bool IsAvailable => OperatingSystem.IsLinux();
    public Frequency Frequency => Frequency.GHz;

    public long GetTimestamp()
    {
        if (ClockGetTime(3, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds * 1_000_000_000L + t.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec value);
}
