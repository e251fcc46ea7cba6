using System.Runtime.InteropServices;

namespace LlCuda.Tensors.Quants;

/// <summary>
/// Q5_1: 32 weights as 5-bit codes q in 0..31 with fp16 scale and minimum; w = d * q + m.
/// 24 bytes per 32 weights = 6 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct BlockQ5_1
{
    public const int Elements = 32;
    public const int Bytes = 24;

    /// <summary>Scale (fp16).</summary>
    public Half D;
    /// <summary>Minimum, added after scaling (fp16).</summary>
    public Half M;
    /// <summary>Fifth bits as one little-endian uint32: bit j belongs to weight j.</summary>
    public Bytes4 Qh;
    /// <summary>Low 4 bits: byte j holds weight j (low nibble) and weight j + 16 (high nibble).</summary>
    public Bytes16 Qs;
}
