using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q5_K: Q4_K with a fifth code bit; w = d * sc * q - dmin * m with 5-bit codes q.
/// 176 bytes per 256 weights = 5.5 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ5_K
{
    public const int Elements = 256;
    public const int Bytes = 176;

    /// <summary>Super-block scale of the sub-block scales (fp16).</summary>
    public Half D;
    /// <summary>Super-block scale of the sub-block minimums (fp16).</summary>
    public Half DMin;
    /// <summary>8 six-bit scales and 8 six-bit minimums, packed as in <see cref="BlockQ4_K"/>.</summary>
    public Bytes12 Scales;
    /// <summary>Fifth bits: bit b of byte l belongs to weight 32 * b + l.</summary>
    public Bytes32 Qh;
    /// <summary>Low 4 bits, laid out as in <see cref="BlockQ4_K.Qs"/>.</summary>
    public Bytes128 Qs;
}
