using LlCuda.Tensors;

namespace LlCuda.Cpu;

// Scalar references for float weights: fp32 activations times F32 / F16 / BF16 weights, summed
// in fp32 in order (llama2.c's matmul). ggml rounds the activations to the weight type first
// (vec_dot_type F16/BF16); we keep them fp32, which is a little more exact.
internal static unsafe partial class FloatDot
{
    public static float F32Scalar(byte* w, float* x, int n)
    {
        var a = (float*)w;
        float sum = 0;
        for (int i = 0; i < n; i++) sum += a[i] * x[i];
        return sum;
    }

    public static float F16Scalar(byte* w, float* x, int n)
    {
        var a = (Half*)w;
        float sum = 0;
        for (int i = 0; i < n; i++) sum += (float)a[i] * x[i];
        return sum;
    }

    public static float BF16Scalar(byte* w, float* x, int n)
    {
        var a = (ushort*)w;
        float sum = 0;
        for (int i = 0; i < n; i++) sum += FloatFormats.FromBf16Bits(a[i]) * x[i];
        return sum;
    }
}
