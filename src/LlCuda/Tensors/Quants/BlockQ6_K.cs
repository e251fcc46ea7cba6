using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q6_K: a super-block of 256 weights in 16 sub-blocks of 16 with int8 scales;
/// w = d * sc * (q - 32) with 6-bit codes q split into 4 low bits and 2 high bits.
/// 210 bytes per 256 weights = 6.5625 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ6_K
{
    public const int Elements = 256;
    public const int Bytes = 210;

    /// <summary>
    /// Low 4 bits: for each half of 128 weights, byte b of its 64 holds weight b (low nibble)
    /// and weight b + 64 (high nibble).
    /// </summary>
    public Bytes128 Ql;
    /// <summary>High 2 bits: for each half, byte l of its 32 holds weights l, l+32, l+64, l+96 in bit pairs.</summary>
    public Bytes64 Qh;
    /// <summary>Sub-block scales (int8).</summary>
    public SBytes16 Scales;
    /// <summary>Super-block scale (fp16).</summary>
    public Half D;
}
