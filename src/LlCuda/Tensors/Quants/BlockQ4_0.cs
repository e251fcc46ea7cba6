using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q4_0: 32 weights as 4-bit codes q in 0..15 with one fp16 scale; w = d * (q - 8).
/// 18 bytes per 32 weights = 4.5 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ4_0
{
    public const int Elements = 32;
    public const int Bytes = 18;

    /// <summary>Scale (fp16).</summary>
    public Half D;
    /// <summary>Codes: byte j holds weight j in its low nibble and weight j + 16 in its high nibble.</summary>
    public Bytes16 Qs;
}
