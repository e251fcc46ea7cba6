using LlCuda.Tensors.Quants;

namespace LlCuda.Cpu;

// Scalar references for the 32-weight block types against Q8Blocks activations, written as
// ggml's *_generic vec_dot functions compute them (integer sum per block, then one fp32
// multiply-add with dw * dy), so they agree with ggml to float rounding. Each takes one weight
// row (blocks back to back) and one activation row: codes [32 * blocks] int8, scales [blocks]
// fp32, sums [blocks] int16 (used only where ggml uses Q8_1's s = d * sum).
internal static unsafe partial class QuantDot
{
    public static float Q4_0Scalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ4_0*)w;
        for (int b = 0; b < blocks; b++, q += 32)
        {
            byte* qs = (byte*)&x[b].Qs;
            int sumi = 0;
            for (int j = 0; j < 16; j++)
                sumi += ((qs[j] & 0xF) - 8) * q[j] + ((qs[j] >> 4) - 8) * q[j + 16];
            sumf += sumi * ((float)x[b].D * d[b]);
        }
        return sumf;
    }

    public static float Q4_1Scalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ4_1*)w;
        for (int b = 0; b < blocks; b++, q += 32)
        {
            byte* qs = (byte*)&x[b].Qs;
            int sumi = 0;
            for (int j = 0; j < 16; j++)
                sumi += (qs[j] & 0xF) * q[j] + (qs[j] >> 4) * q[j + 16];
            // ggml's Q8_1 keeps s = fp16(d * sum); here d * sum stays fp32 (a little more exact).
            sumf += ((float)x[b].D * d[b]) * sumi + (float)x[b].M * (d[b] * sums[b]);
        }
        return sumf;
    }

    public static float Q5_0Scalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ5_0*)w;
        for (int b = 0; b < blocks; b++, q += 32)
        {
            byte* qs = (byte*)&x[b].Qs;
            uint qh = *(uint*)&x[b].Qh;
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                int x0 = ((qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4)) - 16;
                int x1 = ((qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4)) - 16;
                sumi += x0 * q[j] + x1 * q[j + 16];
            }
            sumf += sumi * ((float)x[b].D * d[b]);
        }
        return sumf;
    }

    public static float Q5_1Scalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ5_1*)w;
        for (int b = 0; b < blocks; b++, q += 32)
        {
            byte* qs = (byte*)&x[b].Qs;
            uint qh = *(uint*)&x[b].Qh;
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                int x0 = (qs[j] & 0xF) | (int)(((qh >> j) & 1) << 4);
                int x1 = (qs[j] >> 4) | (int)(((qh >> (j + 16)) & 1) << 4);
                sumi += x0 * q[j] + x1 * q[j + 16];
            }
            sumf += ((float)x[b].D * d[b]) * sumi + (float)x[b].M * (d[b] * sums[b]);
        }
        return sumf;
    }

    public static float Q8_0Scalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ8_0*)w;
        for (int b = 0; b < blocks; b++, q += 32)
        {
            sbyte* qs = (sbyte*)&x[b].Qs;
            int sumi = 0;
            for (int j = 0; j < 32; j++) sumi += qs[j] * q[j];
            sumf += sumi * ((float)x[b].D * d[b]);
        }
        return sumf;
    }
}
