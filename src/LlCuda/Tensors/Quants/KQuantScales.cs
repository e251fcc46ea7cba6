namespace LlCuda.Tensors.Quants;

/// <summary>
/// The packed 6-bit sub-block scales of the K-quants (12 bytes each in Q3_K, Q4_K, Q5_K):
/// reading and writing them in one place so the quantizer and the dequantizer cannot disagree.
/// </summary>
public static class KQuantScales
{
    /// <summary>Scale and minimum (6 bits each) of sub-block <paramref name="j"/> (0..7) of a Q4_K/Q5_K block.</summary>
    public static void Get(ReadOnlySpan<byte> scales, int j, out byte scale, out byte min)
    {
        if (j < 4)
        {
            scale = (byte)(scales[j] & 63);
            min = (byte)(scales[j + 4] & 63);
        }
        else
        {
            scale = (byte)((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
            min = (byte)((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
        }
    }

    /// <summary>Stores scale and minimum (each 0..63) of sub-block <paramref name="j"/>; bytes must start zeroed.</summary>
    public static void Set(Span<byte> scales, int j, byte scale, byte min)
    {
        if (j < 4)
        {
            scales[j] = scale;
            scales[j + 4] = min;
        }
        else
        {
            scales[j + 4] = (byte)((scale & 0xF) | ((min & 0xF) << 4));
            scales[j - 4] |= (byte)((scale >> 4) << 6);
            scales[j] |= (byte)((min >> 4) << 6);
        }
    }

    /// <summary>Biased scale (0..63; subtract 32 for the signed value) of sub-block <paramref name="j"/> (0..15) of a Q3_K block.</summary>
    public static int Q3Scale(ReadOnlySpan<byte> scales, int j)
    {
        int low = j < 8 ? scales[j] & 0xF : scales[j - 8] >> 4;
        int high = (scales[8 + j % 4] >> (2 * (j / 4))) & 3;
        return low | (high << 4);
    }

    /// <summary>Stores the biased scale (0..63) of Q3_K sub-block <paramref name="j"/>; bytes must start zeroed.</summary>
    public static void SetQ3Scale(Span<byte> scales, int j, int biased)
    {
        if (j < 8) scales[j] = (byte)(biased & 0xF);
        else scales[j - 8] |= (byte)((biased & 0xF) << 4);
        scales[8 + j % 4] |= (byte)((biased >> 4) << (2 * (j / 4)));
    }
}
