using System.Runtime.Intrinsics.X86;

namespace LlCuda.Cpu;

/// <summary>
/// The instruction-set paths a CPU kernel can take. Every kernel has a <see cref="Scalar"/> path
/// (plain loops, the reference the tests compare the others against); the vector paths are tried
/// from the widest down. Tests force each path through the internal overloads that take one.
/// </summary>
/// <remarks>
/// .NET 10 exposes VNNI (vpdpbusd) only at 128/256 bits (<see cref="AvxVnni"/>): the 512-bit
/// form lives in Avx10v1.V512, which Zen 4/5 do not report. So the 512-bit path multiplies bytes
/// with vpmaddubsw + vpmaddwd (Avx512BW) and the VNNI path is 256 bits wide.
/// </remarks>
internal enum KernelPath
{
    /// <summary>Plain C# loops; the reference.</summary>
    Scalar = 0,
    /// <summary>256-bit AVX2 + FMA (vpmaddubsw / vpmaddwd for int8 products).</summary>
    Avx2 = 1,
    /// <summary>256-bit AVX2 with AVX-VNNI's vpdpbusd for int8 products.</summary>
    AvxVnni = 2,
    /// <summary>512-bit AVX-512 F/BW (vpmaddubsw / vpmaddwd for int8 products).</summary>
    Avx512 = 3,
}

/// <summary>Which <see cref="KernelPath"/>s this CPU can run, and which one each kernel family uses by default.</summary>
internal static class KernelPaths
{
    /// <summary>True when this CPU (and runtime) can execute <paramref name="path"/>.</summary>
    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        KernelPath.AvxVnni => Avx2.IsSupported && Fma.IsSupported && AvxVnni.IsSupported,
        KernelPath.Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported,
        _ => false,
    };

    /// <summary>All paths this CPU supports, scalar first.</summary>
    public static IEnumerable<KernelPath> Supported()
    {
        foreach (var p in Enum.GetValues<KernelPath>())
            if (IsSupported(p)) yield return p;
    }

    /// <summary>The widest supported path (AVX-512, then AVX-VNNI, then AVX2, then scalar).</summary>
    public static KernelPath Widest { get; } =
        IsSupported(KernelPath.Avx512) ? KernelPath.Avx512 :
        IsSupported(KernelPath.AvxVnni) ? KernelPath.AvxVnni :
        IsSupported(KernelPath.Avx2) ? KernelPath.Avx2 : KernelPath.Scalar;

    /// <summary>
    /// The path named by LLCUDA_CPU_PATH (scalar, avx2, avxvnni, avx512; clamped to what the CPU
    /// supports), or the widest supported one: lets a user or a benchmark compare paths in one binary.
    /// </summary>
    public static KernelPath Default { get; } =
        Enum.TryParse(Environment.GetEnvironmentVariable("LLCUDA_CPU_PATH"), ignoreCase: true, out KernelPath chosen) && Enum.IsDefined(chosen)
            ? Clamp(chosen)
            : Widest;

    /// <summary>Falls back to the next narrower path until one is supported.</summary>
    public static KernelPath Clamp(KernelPath path)
    {
        while (path > KernelPath.Scalar && !IsSupported(path)) path--;
        return path;
    }
}
