using LlCuda.Tensors.Quants;

namespace LlCuda.Cpu;

// Scalar references for the 256-weight super-block types against Q8K activations: codes
// [256 * blocks] int8, scales [blocks] fp32, sums [16 * blocks] int16 (per 16 codes). Integer
// sums per super-block, then fp32 scaling, as ggml's *_q8_K_generic (which differ from these
// only in the order they add the fp32 terms).
internal static unsafe partial class QuantDot
{
    public static float Q4_KScalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ4_K*)w;
        for (int b = 0; b < blocks; b++, q += 256, sums += 16)
        {
            var scales = new ReadOnlySpan<byte>(&x[b].Scales, 12);
            byte* qs = (byte*)&x[b].Qs;
            int sumq = 0, summ = 0;
            for (int sub = 0; sub < 8; sub++)
            {
                KQuantScales.Get(scales, sub, out byte sc, out byte m);
                summ += m * (sums[2 * sub] + sums[2 * sub + 1]);
                // Sub-block 2p uses the low nibbles of bytes 32p..32p+31, 2p+1 the high ones.
                byte* qb = qs + 32 * (sub / 2);
                int shift = 4 * (sub & 1);
                int s = 0;
                for (int l = 0; l < 32; l++) s += ((qb[l] >> shift) & 0xF) * q[32 * sub + l];
                sumq += sc * s;
            }
            sumf += (float)x[b].D * d[b] * sumq - (float)x[b].DMin * d[b] * summ;
        }
        return sumf;
    }

    public static float Q5_KScalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ5_K*)w;
        for (int b = 0; b < blocks; b++, q += 256, sums += 16)
        {
            var scales = new ReadOnlySpan<byte>(&x[b].Scales, 12);
            byte* qs = (byte*)&x[b].Qs;
            byte* qh = (byte*)&x[b].Qh;
            int sumq = 0, summ = 0;
            for (int sub = 0; sub < 8; sub++)
            {
                KQuantScales.Get(scales, sub, out byte sc, out byte m);
                summ += m * (sums[2 * sub] + sums[2 * sub + 1]);
                byte* qb = qs + 32 * (sub / 2);
                int shift = 4 * (sub & 1);
                int s = 0;
                for (int l = 0; l < 32; l++)
                {
                    int code = ((qb[l] >> shift) & 0xF) | (((qh[l] >> sub) & 1) << 4);
                    s += code * q[32 * sub + l];
                }
                sumq += sc * s;
            }
            sumf += (float)x[b].D * d[b] * sumq - (float)x[b].DMin * d[b] * summ;
        }
        return sumf;
    }

    public static float Q6_KScalar(byte* w, sbyte* q, float* d, short* sums, int blocks)
    {
        float sumf = 0;
        var x = (BlockQ6_K*)w;
        for (int b = 0; b < blocks; b++, q += 256)
        {
            byte* ql = (byte*)&x[b].Ql;
            byte* qh = (byte*)&x[b].Qh;
            sbyte* sc = (sbyte*)&x[b].Scales;
            int sumi = 0;
            for (int half = 0; half < 2; half++)
            {
                byte* l4 = ql + 64 * half;
                byte* h2 = qh + 32 * half;
                sbyte* y = q + 128 * half;
                sbyte* s = sc + 8 * half;
                for (int l = 0; l < 32; l++)
                {
                    int q1 = ((l4[l] & 0xF) | ((h2[l] & 3) << 4)) - 32;
                    int q2 = ((l4[l + 32] & 0xF) | (((h2[l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((l4[l] >> 4) | (((h2[l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((l4[l + 32] >> 4) | (((h2[l] >> 6) & 3) << 4)) - 32;
                    int si = l / 16;
                    sumi += s[si] * q1 * y[l] + s[si + 2] * q2 * y[l + 32]
                          + s[si + 4] * q3 * y[l + 64] + s[si + 6] * q4 * y[l + 96];
                }
            }
            sumf += (float)x[b].D * d[b] * sumi;
        }
        return sumf;
    }
}
