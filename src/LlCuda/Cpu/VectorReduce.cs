using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LlCuda.Cpu;

/// <summary>Horizontal reductions the Vector APIs lack.</summary>
internal static class VectorReduce
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Vector512<float> v) => Max(Vector256.Max(v.GetLower(), v.GetUpper()));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Vector256<float> v)
    {
        var m = Vector128.Max(v.GetLower(), v.GetUpper());
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(2, 3, 0, 1)));
        m = Vector128.Max(m, Vector128.Shuffle(m, Vector128.Create(1, 0, 3, 2)));
        return m.ToScalar();
    }
}
