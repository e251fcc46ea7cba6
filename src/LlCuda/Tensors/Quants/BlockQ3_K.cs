using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q3_K: a super-block of 256 weights in 16 sub-blocks of 16 with signed 6-bit scales;
/// w = d * (sc - 32) * (q - 4) with 3-bit codes q split into 2 low bits and 1 high bit.
/// 110 bytes per 256 weights = 3.4375 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ3_K
{
    public const int Elements = 256;
    public const int Bytes = 110;

    /// <summary>High bits: bit b of byte l belongs to weight 32 * b + l.</summary>
    public Bytes32 HMask;
    /// <summary>Low 2 bits, laid out as in <see cref="BlockQ2_K.Qs"/>.</summary>
    public Bytes64 Qs;
    /// <summary>
    /// 16 six-bit scales: low nibbles of scales 0-7 in bytes 0-7, of 8-15 in the high nibbles
    /// of bytes 0-7; the top 2 bits of scale j in byte 8 + j % 4 at bit 2 * (j / 4).
    /// </summary>
    public Bytes12 Scales;
    /// <summary>Super-block scale (fp16).</summary>
    public Half D;
}
