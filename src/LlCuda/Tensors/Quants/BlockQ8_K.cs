using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q8_K: 256 weights as int8 codes with an fp32 scale and the sums of each 16 codes, which the
/// K-quant dot products use to apply minimums per sub-block. Activation format, not stored in
/// model files. 292 bytes per 256 weights = 9.125 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ8_K
{
    public const int Elements = 256;
    public const int Bytes = 292;

    /// <summary>Scale (fp32, unlike every other block).</summary>
    public float D;
    /// <summary>Codes, one per weight, in order.</summary>
    public SBytes256 Qs;
    /// <summary>Sum of codes 16 * j .. 16 * j + 15.</summary>
    public Int16x16 BSums;
}
