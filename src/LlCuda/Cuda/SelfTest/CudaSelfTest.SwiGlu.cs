using System.Globalization;

namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    // swiglu_q8_1 on 2 TinyLlama-wide tokens against the host: Q8_1 codes within one step of
    // silu(g) * u / d (expf on the GPU and exp on the host differ in the last bits), scales
    // within 1e-6, at most 1% of codes across a rounding boundary.
    static (string, (double, string)?) CheckSwiGlu(CudaContext context, KernelCompiler compiler)
    {
        const int n = 2, ffn = 5632;
        var rng = new Random(13);
        var gu = new float[n * 2 * ffn];
        for (int i = 0; i < gu.Length; i++) gu[i] = (float)((rng.NextDouble() * 2 - 1) * 4);

        using var module = compiler.Load("swiglu_q8_1.cu");
        var kernel = module.GetKernel("swiglu_q8_1");
        using var stream = CudaStream.Create(context);
        using var dgu = DeviceBuffer.Allocate(context, gu.Length * 4L, "swiglu gate/up");
        using var dq = DeviceBuffer.Allocate(context, n * ffn, "swiglu codes");
        using var dds = DeviceBuffer.Allocate(context, n * ffn / 32 * 8L, "swiglu scales");
        dgu.CopyFromHost<float>(gu, stream);
        dds.Fill(0xFF, stream); // NaN: an unwritten scale fails the check
        kernel.Launch(stream, (uint)((n * ffn + 127) / 128), 128u, 0, dgu, dq, dds, 0UL, 0UL, n, ffn); // Q8_1 only
        var gq = new sbyte[n * ffn];
        var gds = new float[n * ffn / 32 * 2];
        dq.CopyToHost<sbyte>(gq, stream);
        dds.CopyToHost<float>(gds, stream);
        stream.Synchronize();

        int moved = 0;
        double worstScale = 0;
        var v = new double[32];
        for (int t = 0; t < n; t++)
            for (int b = 0; b < ffn / 32; b++)
            {
                double amax = 0;
                for (int k = 0; k < 32; k++)
                {
                    double g = gu[t * 2 * ffn + 32 * b + k], u = gu[t * 2 * ffn + ffn + 32 * b + k];
                    v[k] = g / (1 + Math.Exp(-g)) * u;
                    amax = Math.Max(amax, Math.Abs(v[k]));
                }
                double d = amax / 127;
                float gd = gds[2 * (t * ffn / 32 + b)];
                worstScale = Math.Max(worstScale, Math.Abs(gd - d) / d);
                if (!(Math.Abs(gd - d) <= 1e-6 * d)) throw new SelfTestFailure($"swiglu_q8_1: token {t} block {b} scale {gd}, expected {d:G9}");
                for (int k = 0; k < 32; k++)
                {
                    int got = gq[t * ffn + 32 * b + k];
                    double code = v[k] / d;
                    if (Math.Abs(got - code) > 1.0) throw new SelfTestFailure($"swiglu_q8_1: code [{t}, {32 * b + k}] = {got}, expected {code:F3}");
                    if (got != (int)Math.Round(code, MidpointRounding.ToEven)) moved++;
                }
            }
        if (moved > n * ffn / 100) throw new SelfTestFailure($"swiglu_q8_1: {moved} of {n * ffn} codes off by one (more than 1%)");
        return (string.Create(CultureInfo.InvariantCulture,
            $"{n} tokens of {ffn}: scales within {worstScale:E1}, {moved} of {n * ffn} codes on the other side of a rounding boundary"), null);
    }
}
