using System.Buffers.Binary;

namespace LlCuda.Cuda.Layouts;

/// <summary>
/// The device layout of Q4_0 weights that matvec_q4_0.cu reads: GGUF's 18-byte blocks split into
/// the 16 bytes of quants of every block ([rows, blocks] x 16 bytes, so each lane of a warp loads
/// one block's quants with one aligned 16-byte load) and the fp16 scales ([rows, blocks]). Same
/// bytes in total; GGUF's own layout leaves the quants 2-byte aligned.
/// </summary>
public static class GpuQ4_0Layout
{
    const int BlockBytes = 18, QuantBytes = 16;

    /// <summary>Bytes of quants for a [rows, cols] matrix.</summary>
    public static long QuantBytesOf(int rows, int cols) => (long)rows * (cols / 32) * QuantBytes;

    /// <summary>Number of fp16 scales for a [rows, cols] matrix.</summary>
    public static long ScaleCountOf(int rows, int cols) => (long)rows * (cols / 32);

    /// <summary>
    /// Splits <paramref name="rows"/> GGUF Q4_0 rows of <paramref name="cols"/> weights into
    /// <paramref name="quants"/> ([rows * cols / 32] x 16 bytes) and <paramref name="scales"/>
    /// ([rows * cols / 32] fp16 bit patterns).
    /// </summary>
    /// <exception cref="ArgumentException">cols not a multiple of 32, or a span of the wrong length.</exception>
    public static void Split(ReadOnlySpan<byte> gguf, int rows, int cols, Span<byte> quants, Span<ushort> scales)
    {
        if (cols % 32 != 0) throw new ArgumentException($"a Q4_0 row holds whole blocks of 32 weights, but cols is {cols}", nameof(cols));
        long blocks = (long)rows * (cols / 32);
        if (gguf.Length != blocks * BlockBytes) throw new ArgumentException($"{rows} x {cols} Q4_0 weights are {blocks * BlockBytes} bytes, got {gguf.Length}", nameof(gguf));
        if (quants.Length != blocks * QuantBytes) throw new ArgumentException($"quants must hold {blocks * QuantBytes} bytes, has {quants.Length}", nameof(quants));
        if (scales.Length != blocks) throw new ArgumentException($"scales must hold {blocks} values, has {scales.Length}", nameof(scales));
        for (int b = 0; b < blocks; b++)
        {
            var block = gguf.Slice(b * BlockBytes, BlockBytes);
            scales[b] = BinaryPrimitives.ReadUInt16LittleEndian(block);
            block[2..].CopyTo(quants.Slice(b * QuantBytes, QuantBytes));
        }
    }
}
