using System.Runtime.Intrinsics.X86;
using LlCuda.Tensors;

namespace LlCuda.Cpu;

/// <summary>
/// The kernels of one weight type on one <see cref="KernelPath"/>: which activation format it
/// reads, the scalar row dot (the reference), and optionally a tiled kernel that computes one
/// weight row against up to <see cref="DotKernels.MaxTile"/> activation rows at once, loading
/// each weight block once for all of them.
/// </summary>
internal unsafe struct DotKernels
{
    /// <summary>Activation rows a tiled kernel takes per call.</summary>
    public const int MaxTile = 4;

    public ActivationFormat Format;
    /// <summary>Block size of the activation scales (32 or 256; 1 for float).</summary>
    public int ScaleBlock;
    /// <summary>Codes per activation sum (32 or 16; 0 for float).</summary>
    public int SumBlock;
    /// <summary>Q8Blocks: the offset the tile kernel's sum lanes remove (see <see cref="ActivationRows.CorrLanes"/>); 0 = lanes unused.</summary>
    public int SumOffset;
    /// <summary>The path the kernels were chosen for (after clamping to the CPU).</summary>
    public KernelPath Path;

    /// <summary>dot(weight row, activation row) for quantized formats: (w, codes, scales, sums, weight blocks).</summary>
    public delegate*<byte*, sbyte*, float*, short*, int, float> QuantRow;
    /// <summary>dot(weight row, activation row) for the float format: (w, x, cols).</summary>
    public delegate*<byte*, float*, int, float> FloatRow;

    /// <summary>
    /// Tiled kernel or null: (w row, activations, first token, token count 1..MaxTile,
    /// y of the first token for this row, y stride between tokens in floats).
    /// </summary>
    public delegate*<byte*, ActivationRows*, int, int, float*, int, void> Tile;

    /// <summary>
    /// Row-interleaved prefill kernels or null (see <see cref="Interleaved"/>): decode rows
    /// [r0, r0 + count) into a tile, then run tokens over it: (tile, activations, first token,
    /// token count, y of the first token at the tile's first row, y stride, rows in the tile).
    /// </summary>
    public delegate*<WeightMatrix*, int, int, byte*, void> InterleavedDecode;
    public delegate*<byte*, ActivationRows*, int, int, float*, int, int, void> InterleavedTokens;
    /// <summary>Bytes of one interleaved tile for this matrix's row length (a function of cols).</summary>
    public delegate*<int, long> InterleavedTileBytes;

    /// <summary>
    /// Kernels of the repacked layout (<see cref="WeightLayout.Tiles16"/>, Q4_0 and Q4_K), or null:
    /// one token against one 16-row tile (tile, activations, token, y of the tile's first row,
    /// real rows in the tile); and the expansion of a tile into <see cref="InterleavedTokens"/>'s
    /// tile (packed tile, cols, tile).
    /// </summary>
    public delegate*<byte*, ActivationRows*, int, float*, int, void> PackedGemv;
    public delegate*<byte*, int, byte*, void> PackedUnpack;

    /// <summary>The kernels for <paramref name="type"/> on <paramref name="path"/> (clamped to what the CPU supports).</summary>
    public static DotKernels For(GgmlType type, KernelPath path)
    {
        path = KernelPaths.Clamp(path);
        // The kernels read Simd's fp16 table without any initialization check (see Simd).
        Simd.EnsureInitialized();
        var k = new DotKernels { Path = path };
        switch (type)
        {
            case GgmlType.F32: k.Float(&FloatDot.F32Scalar); break;
            case GgmlType.F16: k.Float(&FloatDot.F16Scalar); break;
            case GgmlType.BF16: k.Float(&FloatDot.BF16Scalar); break;
            case GgmlType.Q4_0: k.Blocks(&QuantDot.Q4_0Scalar); break;
            case GgmlType.Q4_1: k.Blocks(&QuantDot.Q4_1Scalar); break;
            case GgmlType.Q5_0: k.Blocks(&QuantDot.Q5_0Scalar); break;
            case GgmlType.Q5_1: k.Blocks(&QuantDot.Q5_1Scalar); break;
            case GgmlType.Q8_0: k.Blocks(&QuantDot.Q8_0Scalar); break;
            case GgmlType.Q4_K: k.KQuant(&QuantDot.Q4_KScalar); break;
            case GgmlType.Q5_K: k.KQuant(&QuantDot.Q5_KScalar); break;
            case GgmlType.Q6_K: k.KQuant(&QuantDot.Q6_KScalar); break;
            default: throw new NotSupportedException($"no CPU dot kernel for {type}");
        }
        if (path != KernelPath.Scalar) k.SetVectorTile(type, path);
        // The 256-bit packed kernels serve the AVX-512 path too (their VEX VNNI form where the CPU has it).
        bool vnni = path == KernelPath.AvxVnni || (path == KernelPath.Avx512 && AvxVnni.IsSupported);
        if (type == GgmlType.Q4_0)
        {
            k.PackedGemv = path == KernelPath.Scalar ? &PackedQ4_0.GemvScalar : vnni ? &PackedQ4_0.Gemv256<VnniIsa> : &PackedQ4_0.Gemv256<Avx2Isa>;
            if (path != KernelPath.Scalar) k.PackedUnpack = &PackedQ4_0.Unpack;
        }
        else if (type == GgmlType.Q4_K)
        {
            k.PackedGemv = path == KernelPath.Scalar ? &PackedQ4_K.GemvScalar : vnni ? &PackedQ4_K.Gemv256<VnniIsa> : &PackedQ4_K.Gemv256<Avx2Isa>;
            if (path != KernelPath.Scalar) k.PackedUnpack = &PackedQ4_K.Unpack;
        }
        return k;
    }

    void Float(delegate*<byte*, float*, int, float> row)
    {
        Format = ActivationFormat.Float;
        ScaleBlock = 1;
        FloatRow = row;
    }

    void Blocks(delegate*<byte*, sbyte*, float*, short*, int, float> row)
    {
        Format = ActivationFormat.Q8Blocks;
        ScaleBlock = 32;
        SumBlock = 32;
        QuantRow = row;
    }

    void KQuant(delegate*<byte*, sbyte*, float*, short*, int, float> row)
    {
        Format = ActivationFormat.Q8K;
        ScaleBlock = 256;
        SumBlock = 16;
        QuantRow = row;
    }

    /// <summary>Sets the vector tile kernel of a type and path (left null where only the scalar one exists).</summary>
    void SetVectorTile(GgmlType type, KernelPath path)
    {
        switch (type)
        {
            case GgmlType.F32: Floats<F32Weights>(path); break;
            case GgmlType.F16: Floats<F16Weights>(path); break;
            case GgmlType.BF16: Floats<BF16Weights>(path); break;
            case GgmlType.Q4_0: Legacy<Q4_0Block>(path); break;
            case GgmlType.Q4_1: Legacy<Q4_1Block>(path); break;
            case GgmlType.Q5_0: Legacy<Q5_0Block>(path); break;
            case GgmlType.Q5_1: Legacy<Q5_1Block>(path); break;
            case GgmlType.Q8_0: Legacy<Q8_0Block>(path); break;
            case GgmlType.Q4_K: KQuant<Q4_KBlock>(path); break;
            case GgmlType.Q5_K: KQuant<Q5_KBlock>(path); break;
            case GgmlType.Q6_K: KQuant<Q6_KBlock>(path); break;
        }
    }

    void Floats<TW>(KernelPath path) where TW : struct, IFloatWeights =>
        Tile = path == KernelPath.Avx512 ? &FloatDot.Tile512<TW> : &FloatDot.Tile256<TW>;

    void InterleavedLegacy(delegate*<byte*, ActivationRows*, int, int, float*, int, int, void> tokens, delegate*<WeightMatrix*, int, int, byte*, void> decode)
    {
        InterleavedTokens = tokens;
        InterleavedDecode = decode;
        InterleavedTileBytes = &Interleaved.LegacyTileBytes;
    }

    void KQuant<TBlock>(KernelPath path) where TBlock : struct, IKBlock
    {
        InterleavedDecode = &Interleaved.DecodeK<TBlock>;
        InterleavedTileBytes = &Interleaved.KTileBytes;
        InterleavedTokens = path switch
        {
            KernelPath.Avx512 => &Interleaved.KTokens<TBlock>,
            KernelPath.AvxVnni => &Interleaved.KTokens256<TBlock, VnniIsa>,
            _ => &Interleaved.KTokens256<TBlock, Avx2Isa>,
        };
        Tile = path switch
        {
            KernelPath.Avx512 => &QuantDot.KTile512<TBlock>,
            KernelPath.AvxVnni => &QuantDot.KTile256<TBlock, VnniIsa>,
            _ => &QuantDot.KTile256<TBlock, Avx2Isa>,
        };
    }

    void Legacy<TBlock>(KernelPath path) where TBlock : struct, ILegacyBlock
    {
        switch (path)
        {
            case KernelPath.Avx512:
                Tile = &QuantDot.LegacyTile512<TBlock>;
                SumOffset = TBlock.Offset(false);
                if (TBlock.CodeMax > 0)
                {
                    InterleavedDecode = &Interleaved.DecodeLegacyEntry<TBlock>;
                    InterleavedTokens = &Interleaved.LegacyTokens<TBlock>;
                    InterleavedTileBytes = &Interleaved.LegacyTileBytes;
                }
                break;
            case KernelPath.AvxVnni:
                Tile = &QuantDot.LegacyTile256<TBlock, VnniIsa>;
                SumOffset = TBlock.Offset(true);
                if (TBlock.CodeMax > 0) InterleavedLegacy(&Interleaved.LegacyTokens256<TBlock, VnniIsa>, &Interleaved.DecodeLegacyEntry<TBlock>);
                break;
            default:
                Tile = &QuantDot.LegacyTile256<TBlock, Avx2Isa>;
                SumOffset = TBlock.Offset(false);
                if (TBlock.CodeMax > 0) InterleavedLegacy(&Interleaved.LegacyTokens256<TBlock, Avx2Isa>, &Interleaved.DecodeLegacyEntry<TBlock>);
                break;
        }
    }
}
