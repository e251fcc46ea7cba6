using System.Globalization;

namespace LlCuda.Cuda.SelfTest;

public static partial class CudaSelfTest
{
    // rmsnorm_q8_1 on 3 TinyLlama-wide rows against the host: the residual sum exactly, the
    // Q8_1 codes within one step (the GPU's 1/sqrt and the host's may differ in the last bit,
    // which can move a code sitting on a rounding boundary), scales within 1e-6.
    static (string, (double, string)?) CheckRmsNorm(CudaContext context, KernelCompiler compiler)
    {
        const int rows = 3, dim = 2048;
        const float eps = 1e-5f;
        var rng = new Random(11);
        float[] Noise(int count, double amplitude)
        {
            var a = new float[count];
            for (int i = 0; i < a.Length; i++) a[i] = (float)((rng.NextDouble() * 2 - 1) * amplitude);
            return a;
        }
        float[] x = Noise(rows * dim, 2), add = Noise(rows * dim, 1), w = Noise(dim, 1.5);

        using var module = compiler.Load("rmsnorm_q8_1.cu");
        var kernel = module.GetKernel("rmsnorm_q8_1");
        using var stream = CudaStream.Create(context);
        using var dx = DeviceBuffer.Allocate(context, x.Length * 4L, "rmsnorm x");
        using var dadd = DeviceBuffer.Allocate(context, add.Length * 4L, "rmsnorm add");
        using var dw = DeviceBuffer.Allocate(context, w.Length * 4L, "rmsnorm w");
        using var dq = DeviceBuffer.Allocate(context, rows * dim, "rmsnorm codes");
        using var dds = DeviceBuffer.Allocate(context, rows * dim / 32 * 8L, "rmsnorm scales");
        dx.CopyFromHost<float>(x, stream);
        dadd.CopyFromHost<float>(add, stream);
        dw.CopyFromHost<float>(w, stream);
        dds.Fill(0xFF, stream); // NaN: an unwritten scale fails the check
        kernel.Launch(stream, (uint)rows, 256u, 0, dx, dadd, dw, 0UL, dq, dds, 0UL, 0UL, dim, eps); // no row map, no fp32 or fp16 copies
        var gx = new float[x.Length];
        var gq = new sbyte[rows * dim];
        var gds = new float[rows * dim / 32 * 2];
        dx.CopyToHost<float>(gx, stream);
        dq.CopyToHost<sbyte>(gq, stream);
        dds.CopyToHost<float>(gds, stream);
        stream.Synchronize();

        int moved = 0;
        double worstScale = 0;
        for (int r = 0; r < rows; r++)
        {
            double ss = 0;
            for (int i = 0; i < dim; i++)
            {
                float sum = x[r * dim + i] + add[r * dim + i];
                if (gx[r * dim + i] != sum) throw new SelfTestFailure($"rmsnorm_q8_1: x[{r}, {i}] = {gx[r * dim + i]}, expected {sum}");
                ss += (double)sum * sum;
            }
            double scale = 1 / Math.Sqrt(ss / dim + eps);
            for (int b = 0; b < dim / 32; b++)
            {
                double amax = 0;
                for (int i = 32 * b; i < 32 * b + 32; i++) amax = Math.Max(amax, Math.Abs((x[r * dim + i] + add[r * dim + i]) * scale * w[i]));
                double d = amax / 127;
                float gd = gds[2 * (r * dim / 32 + b)];
                worstScale = Math.Max(worstScale, Math.Abs(gd - d) / d);
                if (!(Math.Abs(gd - d) <= 1e-6 * d)) throw new SelfTestFailure($"rmsnorm_q8_1: row {r} block {b} scale {gd}, expected {d:G9}");
                for (int i = 32 * b; i < 32 * b + 32; i++)
                {
                    double code = (x[r * dim + i] + add[r * dim + i]) * scale * w[i] / d;
                    int got = gq[r * dim + i];
                    if (Math.Abs(got - code) > 1.0) throw new SelfTestFailure($"rmsnorm_q8_1: code [{r}, {i}] = {got}, expected {code:F3}");
                    if (got != (int)Math.Round(code, MidpointRounding.ToEven)) moved++;
                }
            }
        }
        if (moved > rows * dim / 100) throw new SelfTestFailure($"rmsnorm_q8_1: {moved} of {rows * dim} codes off by one (more than 1%)");
        return (string.Create(CultureInfo.InvariantCulture,
            $"{rows} rows of {dim}: residual sums exact, scales within {worstScale:E1}, {moved} of {rows * dim} codes on the other side of a rounding boundary"), null);
    }
}
