using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// What the CPU kernels can use on this machine, as the running code sees it: a NativeAOT binary
/// only uses instruction sets it was compiled for (IlcInstructionSet), so this is the first thing
/// to check when CPU inference is slower than expected (`llcuda system-info`).
/// </summary>
public static class CpuCapabilities
{
    /// <summary>Instruction sets the kernels test for, and whether this process may use them.</summary>
    public static IReadOnlyList<(string Name, bool Supported)> InstructionSets { get; } =
    [
        ("AVX2", Avx2.IsSupported),
        ("FMA", Fma.IsSupported),
        ("AVX-VNNI", AvxVnni.IsSupported),
        ("AVX-512F", Avx512F.IsSupported),
        ("AVX-512BW", Avx512BW.IsSupported),
        ("AVX-512VL", Avx512F.VL.IsSupported),
    ];

    /// <summary>The kernel path the CPU matrix products take (the widest, or LLCUDA_CPU_PATH's).</summary>
    public static string KernelPath => KernelPaths.Default.ToString();

    /// <summary>Logical processors available to this process.</summary>
    public static int ProcessorCount => Environment.ProcessorCount;

    /// <summary>The CPU's model name from /proc/cpuinfo, or "unknown".</summary>
    public static string ModelName
    {
        get
        {
            try
            {
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            return "unknown";
        }
    }
}
