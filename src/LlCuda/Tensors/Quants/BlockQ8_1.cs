using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q8_1: Q8_0 plus s = d * sum(q), so a dot product with a Q4_1/Q5_1 row can apply that row's
/// minimum once per block instead of once per weight. Activation format, not a weight format.
/// 36 bytes per 32 weights = 9 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ8_1
{
    public const int Elements = 32;
    public const int Bytes = 36;

    /// <summary>Scale (fp16).</summary>
    public Half D;
    /// <summary>d * sum of the 32 codes (fp16).</summary>
    public Half S;
    /// <summary>Codes, one per weight, in order.</summary>
    public SBytes32 Qs;
}
