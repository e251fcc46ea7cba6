using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LlCuda.Tensors;

namespace LlCuda.Cpu;

// fp16 operations for an F16 KV cache: q . k with k in fp16, out += a * v with v in fp16, and
// the fp32 -> fp16 store.
public static partial class CpuOps
{
    /// <summary>Σ a[i] * b[i] with a in fp16 (a cached key) and b in fp32 (a query), summed in fp32.</summary>
    public static float DotF16(ReadOnlySpan<Half> a, ReadOnlySpan<float> b) => DotF16(a, b, Default);

    internal static float DotF16(ReadOnlySpan<Half> a, ReadOnlySpan<float> b, KernelPath path)
    {
        CheckSame(a.Length, b.Length, nameof(b));
        int w = Width(path), i = 0;
        float sum = 0;
        ref ushort pa = ref Bits(a);
        ref float pb = ref R(b);
        if (w == 16)
        {
            var acc = Vector512<float>.Zero;
            for (; i <= a.Length - 16; i += 16)
                acc = Vector512.FusedMultiplyAdd(HalfVectors.Widen(LoadU16x16(ref pa, i)), L512(ref pb, i), acc);
            sum = Vector512.Sum(acc);
        }
        else if (w == 8)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= a.Length - 8; i += 8)
                acc = Vector256.FusedMultiplyAdd(HalfVectors.Widen(LoadU16x8(ref pa, i)), L256(ref pb, i), acc);
            sum = Vector256.Sum(acc);
        }
        for (; i < a.Length; i++) sum += (float)a[i] * b[i];
        return sum;
    }

    /// <summary>y[i] += a * x[i] with x in fp16 (a cached value row).</summary>
    public static void AxpyF16(float a, ReadOnlySpan<Half> x, Span<float> y) => AxpyF16(a, x, y, Default);

    internal static void AxpyF16(float a, ReadOnlySpan<Half> x, Span<float> y, KernelPath path)
    {
        CheckSame(x.Length, y.Length, nameof(y));
        int w = Width(path), i = 0;
        ref ushort px = ref Bits(x);
        ref float py = ref R(y);
        if (w == 16)
            for (var va = Vector512.Create(a); i <= x.Length - 16; i += 16)
                Vector512.FusedMultiplyAdd(va, HalfVectors.Widen(LoadU16x16(ref px, i)), L512(ref py, i)).StoreUnsafe(ref py, (nuint)i);
        else if (w == 8)
            for (var va = Vector256.Create(a); i <= x.Length - 8; i += 8)
                Vector256.FusedMultiplyAdd(va, HalfVectors.Widen(LoadU16x8(ref px, i)), L256(ref py, i)).StoreUnsafe(ref py, (nuint)i);
        // MathF.FusedMultiplyAdd keeps the tail's rounding identical to the vector lanes'.
        for (; i < x.Length; i++) y[i] = MathF.FusedMultiplyAdd(a, (float)x[i], y[i]);
    }

    /// <summary>dst[i] = fp16(src[i]), rounding to nearest-even as ggml's fp32 -> fp16.</summary>
    public static void ConvertToF16(ReadOnlySpan<float> src, Span<Half> dst) => ConvertToF16(src, dst, Default);

    internal static void ConvertToF16(ReadOnlySpan<float> src, Span<Half> dst, KernelPath path)
    {
        CheckSame(src.Length, dst.Length, nameof(dst));
        int w = Width(path), i = 0;
        ref float ps = ref R(src);
        ref ushort pd = ref MemoryMarshal.GetReference(MemoryMarshal.Cast<Half, ushort>(dst));
        if (w == 16)
            for (; i <= src.Length - 16; i += 16)
                Vector512.Narrow(HalfVectors.Narrow(L512(ref ps, i)), Vector512<uint>.Zero).GetLower().StoreUnsafe(ref pd, (nuint)i);
        else if (w == 8)
            for (; i <= src.Length - 8; i += 8)
                Vector256.Narrow(HalfVectors.Narrow(L256(ref ps, i)), Vector256<uint>.Zero).GetLower().StoreUnsafe(ref pd, (nuint)i);
        for (; i < src.Length; i++) dst[i] = FloatFormats.ToHalf(src[i]);
    }

    static ref ushort Bits(ReadOnlySpan<Half> s) => ref MemoryMarshal.GetReference(MemoryMarshal.Cast<Half, ushort>(s));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<uint> LoadU16x16(ref ushort p, int i) => Vector512.WidenLower(Vector256.LoadUnsafe(ref p, (nuint)i).ToVector512Unsafe());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<uint> LoadU16x8(ref ushort p, int i) => Vector256.WidenLower(Vector128.LoadUnsafe(ref p, (nuint)i).ToVector256Unsafe());
}
