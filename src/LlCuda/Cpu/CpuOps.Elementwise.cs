using System.Runtime.Intrinsics;

namespace LlCuda.Cpu;

// RMSNorm, residual add, SwiGLU's gate, softmax and the fp32 dot product.
public static partial class CpuOps
{
    /// <summary>
    /// y = x / sqrt(mean(x^2) + eps) * weight (RMSNorm; as ggml's rms_norm then mul: the sum of
    /// squares in fp64, then (x * scale) * weight). y may be x.
    /// </summary>
    /// <param name="x">[n] fp32.</param>
    /// <param name="weight">[n] fp32 gain.</param>
    /// <param name="y">[n] fp32 out.</param>
    /// <param name="eps">Added to the mean square (the model's layer_norm_rms_epsilon).</param>
    public static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float eps) =>
        RmsNorm(x, weight, y, eps, Default);

    internal static void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> y, float eps, KernelPath path)
    {
        CheckSame(x.Length, weight.Length, nameof(weight));
        CheckSame(x.Length, y.Length, nameof(y));
        if (x.Length == 0) return;
        double sum = SumOfSquares(x, path);
        float scale = 1.0f / MathF.Sqrt((float)(sum / x.Length) + eps);
        int w = Width(path), i = 0;
        ref float px = ref R(x); ref float pw = ref R(weight); ref float py = ref R(y);
        if (w == 16)
            for (var s = Vector512.Create(scale); i <= x.Length - 16; i += 16)
                (L512(ref px, i) * s * L512(ref pw, i)).StoreUnsafe(ref py, (nuint)i);
        else if (w == 8)
            for (var s = Vector256.Create(scale); i <= x.Length - 8; i += 8)
                (L256(ref px, i) * s * L256(ref pw, i)).StoreUnsafe(ref py, (nuint)i);
        for (; i < x.Length; i++) y[i] = x[i] * scale * weight[i];
    }

    /// <summary>Sum of x[i]^2, accumulated in fp64 (as ggml's ggml_float).</summary>
    static double SumOfSquares(ReadOnlySpan<float> x, KernelPath path)
    {
        int w = Width(path), i = 0;
        double sum = 0;
        ref float px = ref R(x);
        if (w == 16)
        {
            var acc = Vector512<double>.Zero;
            for (; i <= x.Length - 16; i += 16)
            {
                var v = L512(ref px, i);
                var sq = v * v; // squares in fp32 as ggml, summed in fp64
                acc += Vector512.WidenLower(sq) + Vector512.WidenUpper(sq);
            }
            sum = Vector512.Sum(acc);
        }
        else if (w == 8)
        {
            var acc = Vector256<double>.Zero;
            for (; i <= x.Length - 8; i += 8)
            {
                var v = L256(ref px, i);
                var sq = v * v;
                acc += Vector256.WidenLower(sq) + Vector256.WidenUpper(sq);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++) sum += (double)(x[i] * x[i]);
        return sum;
    }

    /// <summary>acc[i] += x[i] (the residual connection).</summary>
    public static void Add(Span<float> acc, ReadOnlySpan<float> x) => Add(acc, x, Default);

    internal static void Add(Span<float> acc, ReadOnlySpan<float> x, KernelPath path)
    {
        CheckSame(acc.Length, x.Length, nameof(x));
        int w = Width(path), i = 0;
        ref float pa = ref R(acc); ref float px = ref R(x);
        if (w == 16)
            for (; i <= acc.Length - 16; i += 16) (L512(ref pa, i) + L512(ref px, i)).StoreUnsafe(ref pa, (nuint)i);
        else if (w == 8)
            for (; i <= acc.Length - 8; i += 8) (L256(ref pa, i) + L256(ref px, i)).StoreUnsafe(ref pa, (nuint)i);
        for (; i < acc.Length; i++) acc[i] += x[i];
    }

    /// <summary>gate[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + e^-g) (SwiGLU's elementwise part).</summary>
    public static void SiluMul(Span<float> gate, ReadOnlySpan<float> up) => SiluMul(gate, up, Default);

    internal static void SiluMul(Span<float> gate, ReadOnlySpan<float> up, KernelPath path)
    {
        CheckSame(gate.Length, up.Length, nameof(up));
        int w = Width(path), i = 0;
        ref float pg = ref R(gate); ref float pu = ref R(up);
        if (w == 16)
        {
            var one = Vector512<float>.One;
            for (; i <= gate.Length - 16; i += 16)
            {
                var g = L512(ref pg, i);
                (g / (one + Vector512.Exp(-g)) * L512(ref pu, i)).StoreUnsafe(ref pg, (nuint)i);
            }
        }
        else if (w == 8)
        {
            var one = Vector256<float>.One;
            for (; i <= gate.Length - 8; i += 8)
            {
                var g = L256(ref pg, i);
                (g / (one + Vector256.Exp(-g)) * L256(ref pu, i)).StoreUnsafe(ref pg, (nuint)i);
            }
        }
        for (; i < gate.Length; i++) gate[i] = gate[i] / (1.0f + MathF.Exp(-gate[i])) * up[i];
    }

    /// <summary>
    /// x = softmax(x) in place: e^(x - max) / sum. Entries of -infinity (masked positions) become
    /// 0. An empty span is left alone; a span of only -infinity becomes NaN (nothing to attend to
    /// is the caller's bug, not a value to hide).
    /// </summary>
    public static void Softmax(Span<float> x) => Softmax(x, Default);

    internal static void Softmax(Span<float> x, KernelPath path)
    {
        if (x.Length == 0) return;
        int w = Width(path), i = 0;
        ref float px = ref R(x);
        float max = float.NegativeInfinity;
        if (w == 16)
        {
            var m = Vector512.Create(float.NegativeInfinity);
            for (; i <= x.Length - 16; i += 16) m = Vector512.Max(m, L512(ref px, i));
            max = VectorReduce.Max(m);
        }
        else if (w == 8)
        {
            var m = Vector256.Create(float.NegativeInfinity);
            for (; i <= x.Length - 8; i += 8) m = Vector256.Max(m, L256(ref px, i));
            max = VectorReduce.Max(m);
        }
        for (; i < x.Length; i++) max = MathF.Max(max, x[i]);

        double sum = 0;
        i = 0;
        if (w == 16)
        {
            var vmax = Vector512.Create(max);
            var acc = Vector512<double>.Zero;
            for (; i <= x.Length - 16; i += 16)
            {
                var e = Vector512.Exp(L512(ref px, i) - vmax);
                e.StoreUnsafe(ref px, (nuint)i);
                acc += Vector512.WidenLower(e) + Vector512.WidenUpper(e);
            }
            sum = Vector512.Sum(acc);
        }
        else if (w == 8)
        {
            var vmax = Vector256.Create(max);
            var acc = Vector256<double>.Zero;
            for (; i <= x.Length - 8; i += 8)
            {
                var e = Vector256.Exp(L256(ref px, i) - vmax);
                e.StoreUnsafe(ref px, (nuint)i);
                acc += Vector256.WidenLower(e) + Vector256.WidenUpper(e);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++)
        {
            float e = MathF.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        Scale(x, (float)(1.0 / sum), path);
    }

    /// <summary>x[i] *= s.</summary>
    public static void Scale(Span<float> x, float s) => Scale(x, s, Default);

    internal static void Scale(Span<float> x, float s, KernelPath path)
    {
        int w = Width(path), i = 0;
        ref float px = ref R(x);
        if (w == 16)
            for (var v = Vector512.Create(s); i <= x.Length - 16; i += 16) (L512(ref px, i) * v).StoreUnsafe(ref px, (nuint)i);
        else if (w == 8)
            for (var v = Vector256.Create(s); i <= x.Length - 8; i += 8) (L256(ref px, i) * v).StoreUnsafe(ref px, (nuint)i);
        for (; i < x.Length; i++) x[i] *= s;
    }

    /// <summary>Σ a[i] * b[i] in fp32 (vector paths add in lanes, then across them).</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => Dot(a, b, Default);

    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b, KernelPath path)
    {
        CheckSame(a.Length, b.Length, nameof(b));
        int w = Width(path), i = 0;
        float sum = 0;
        ref float pa = ref R(a); ref float pb = ref R(b);
        if (w == 16)
        {
            Vector512<float> s0 = default, s1 = default;
            for (; i <= a.Length - 32; i += 32)
            {
                s0 = Vector512.FusedMultiplyAdd(L512(ref pa, i), L512(ref pb, i), s0);
                s1 = Vector512.FusedMultiplyAdd(L512(ref pa, i + 16), L512(ref pb, i + 16), s1);
            }
            for (; i <= a.Length - 16; i += 16) s0 = Vector512.FusedMultiplyAdd(L512(ref pa, i), L512(ref pb, i), s0);
            sum = Vector512.Sum(s0 + s1);
        }
        else if (w == 8)
        {
            Vector256<float> s0 = default, s1 = default;
            for (; i <= a.Length - 16; i += 16)
            {
                s0 = Vector256.FusedMultiplyAdd(L256(ref pa, i), L256(ref pb, i), s0);
                s1 = Vector256.FusedMultiplyAdd(L256(ref pa, i + 8), L256(ref pb, i + 8), s1);
            }
            for (; i <= a.Length - 8; i += 8) s0 = Vector256.FusedMultiplyAdd(L256(ref pa, i), L256(ref pb, i), s0);
            sum = Vector256.Sum(s0 + s1);
        }
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
