using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q8_0: 32 weights as int8 codes with one fp16 scale; w = d * q.
/// 34 bytes per 32 weights = 8.5 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ8_0
{
    public const int Elements = 32;
    public const int Bytes = 34;

    /// <summary>Scale (fp16).</summary>
    public Half D;
    /// <summary>Codes, one per weight, in order.</summary>
    public SBytes32 Qs;
}
