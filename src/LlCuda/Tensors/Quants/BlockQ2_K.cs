using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q2_K: a super-block of 256 weights in 16 sub-blocks of 16, each with a 4-bit scale and a
/// 4-bit minimum; w = d * sc * q - dmin * m with 2-bit codes q.
/// 84 bytes per 256 weights = 2.625 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ2_K
{
    public const int Elements = 256;
    public const int Bytes = 84;

    /// <summary>Sub-block j: scale in the low nibble, minimum in the high nibble.</summary>
    public Bytes16 Scales;
    /// <summary>
    /// Codes: for each half of 128 weights, byte l of its 32 holds weights l, l+32, l+64, l+96
    /// in bit pairs 0-1, 2-3, 4-5, 6-7.
    /// </summary>
    public Bytes64 Qs;
    /// <summary>Super-block scale of the sub-block scales (fp16).</summary>
    public Half D;
    /// <summary>Super-block scale of the sub-block minimums (fp16).</summary>
    public Half DMin;
}
