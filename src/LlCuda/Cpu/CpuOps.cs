using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlCuda.Cpu;

/// <summary>
/// The vector operations of a transformer forward pass besides matmul, on fp32 spans. Each has a
/// scalar reference path and vector paths (512 then 256 bits) that the tests compare with it;
/// the public methods take the widest path the CPU has. Span arguments must have equal lengths
/// unless a method says otherwise.
/// </summary>
public static partial class CpuOps
{
    static KernelPath Default => KernelPaths.Widest;

    /// <summary>Vector width of a path for the float ops: 16, 8 or 1 floats.</summary>
    static int Width(KernelPath path) => KernelPaths.Clamp(path) switch
    {
        KernelPath.Avx512 => 16,
        KernelPath.Avx2 or KernelPath.AvxVnni => 8,
        _ => 1,
    };

    static void CheckSame(int a, int b, string name)
    {
        if (a != b) ThrowLength(a, b, name);
    }

    [DoesNotReturn]
    static void ThrowLength(int expected, int found, string name) => throw new ArgumentException(
        $"CpuOps: {name} has {found} elements but the operation is over {expected}", name);

    static ref float R(ReadOnlySpan<float> s) => ref MemoryMarshal.GetReference(s);
    static ref float R(Span<float> s) => ref MemoryMarshal.GetReference(s);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> L512(ref float p, int i) => Vector512.LoadUnsafe(ref p, (nuint)i);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> L256(ref float p, int i) => Vector256.LoadUnsafe(ref p, (nuint)i);
}
