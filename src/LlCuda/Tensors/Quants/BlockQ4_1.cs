using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q4_1: 32 weights as 4-bit codes q in 0..15 with fp16 scale and minimum; w = d * q + m.
/// 20 bytes per 32 weights = 5 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ4_1
{
    public const int Elements = 32;
    public const int Bytes = 20;

    /// <summary>Scale (fp16).</summary>
    public Half D;
    /// <summary>Minimum, added after scaling (fp16).</summary>
    public Half M;
    /// <summary>Codes: byte j holds weight j in its low nibble and weight j + 16 in its high nibble.</summary>
    public Bytes16 Qs;
}
