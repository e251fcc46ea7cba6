using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q4_K: a super-block of 256 weights in 8 sub-blocks of 32, each with a 6-bit scale and a
/// 6-bit minimum; w = d * sc * q - dmin * m with 4-bit codes q.
/// 144 bytes per 256 weights = 4.5 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ4_K
{
    public const int Elements = 256;
    public const int Bytes = 144;

    /// <summary>Super-block scale of the sub-block scales (fp16).</summary>
    public Half D;
    /// <summary>Super-block scale of the sub-block minimums (fp16).</summary>
    public Half DMin;
    /// <summary>
    /// 8 six-bit scales and 8 six-bit minimums. Sub-blocks 0-3: scale in byte j, minimum in byte
    /// j + 4 (low 6 bits). Sub-blocks 4-7: low 4 bits of scale and minimum in the nibbles of byte
    /// j + 4, top 2 bits in bits 6-7 of byte j - 4 (scale) and byte j (minimum).
    /// </summary>
    public Bytes12 Scales;
    /// <summary>Codes: for each 64 weights, byte l of its 32 holds weight l (low nibble) and l + 32 (high nibble).</summary>
    public Bytes128 Qs;
}
