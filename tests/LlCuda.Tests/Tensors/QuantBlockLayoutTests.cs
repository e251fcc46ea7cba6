using System.Runtime.CompilerServices;
using LlCuda.Tensors;
using LlCuda.Tensors.Quants;

namespace LlCuda.Tests.Tensors;

/// <summary>The block structs mirror ggml-common.h byte for byte: sizes, constants and field offsets.</summary>
public class QuantBlockLayoutTests
{
    public static TheoryData<GgmlType, int, int, int> Blocks => new()
    {
        // type, Unsafe.SizeOf, Bytes constant, Elements constant
        { GgmlType.Q4_0, Unsafe.SizeOf<BlockQ4_0>(), BlockQ4_0.Bytes, BlockQ4_0.Elements },
        { GgmlType.Q4_1, Unsafe.SizeOf<BlockQ4_1>(), BlockQ4_1.Bytes, BlockQ4_1.Elements },
        { GgmlType.Q5_0, Unsafe.SizeOf<BlockQ5_0>(), BlockQ5_0.Bytes, BlockQ5_0.Elements },
        { GgmlType.Q5_1, Unsafe.SizeOf<BlockQ5_1>(), BlockQ5_1.Bytes, BlockQ5_1.Elements },
        { GgmlType.Q8_0, Unsafe.SizeOf<BlockQ8_0>(), BlockQ8_0.Bytes, BlockQ8_0.Elements },
        { GgmlType.Q8_1, Unsafe.SizeOf<BlockQ8_1>(), BlockQ8_1.Bytes, BlockQ8_1.Elements },
        { GgmlType.Q2_K, Unsafe.SizeOf<BlockQ2_K>(), BlockQ2_K.Bytes, BlockQ2_K.Elements },
        { GgmlType.Q3_K, Unsafe.SizeOf<BlockQ3_K>(), BlockQ3_K.Bytes, BlockQ3_K.Elements },
        { GgmlType.Q4_K, Unsafe.SizeOf<BlockQ4_K>(), BlockQ4_K.Bytes, BlockQ4_K.Elements },
        { GgmlType.Q5_K, Unsafe.SizeOf<BlockQ5_K>(), BlockQ5_K.Bytes, BlockQ5_K.Elements },
        { GgmlType.Q6_K, Unsafe.SizeOf<BlockQ6_K>(), BlockQ6_K.Bytes, BlockQ6_K.Elements },
        { GgmlType.Q8_K, Unsafe.SizeOf<BlockQ8_K>(), BlockQ8_K.Bytes, BlockQ8_K.Elements },
    };

    [Theory]
    [MemberData(nameof(Blocks))]
    public void BlockStruct_Size_EqualsGgmlTypeInfoBlockBytes(GgmlType type, int sizeOf, int bytesConstant, int elementsConstant)
    {
        Assert.Equal(GgmlTypeInfo.BlockBytes(type), sizeOf);
        Assert.Equal(GgmlTypeInfo.BlockBytes(type), bytesConstant);
        Assert.Equal(GgmlTypeInfo.BlockSize(type), elementsConstant);
    }

    [Fact]
    public void BlockStructs_FieldOffsets_MatchGgmlCommonH()
    {
        // Offsets as ggml-common.h declares the fields (all fp16 scalars 2 bytes, no padding).
        var q41 = default(BlockQ4_1);
        Assert.Equal(2, Offset(ref q41, ref q41.M));
        Assert.Equal(4, Offset(ref q41, ref q41.Qs));
        var q50 = default(BlockQ5_0);
        Assert.Equal(2, Offset(ref q50, ref q50.Qh));
        Assert.Equal(6, Offset(ref q50, ref q50.Qs));
        var q51 = default(BlockQ5_1);
        Assert.Equal(4, Offset(ref q51, ref q51.Qh));
        Assert.Equal(8, Offset(ref q51, ref q51.Qs));
        var q81 = default(BlockQ8_1);
        Assert.Equal(2, Offset(ref q81, ref q81.S));
        Assert.Equal(4, Offset(ref q81, ref q81.Qs));
        var q2 = default(BlockQ2_K);
        Assert.Equal(16, Offset(ref q2, ref q2.Qs));
        Assert.Equal(80, Offset(ref q2, ref q2.D));
        Assert.Equal(82, Offset(ref q2, ref q2.DMin));
        var q3 = default(BlockQ3_K);
        Assert.Equal(32, Offset(ref q3, ref q3.Qs));
        Assert.Equal(96, Offset(ref q3, ref q3.Scales));
        Assert.Equal(108, Offset(ref q3, ref q3.D));
        var q4 = default(BlockQ4_K);
        Assert.Equal(4, Offset(ref q4, ref q4.Scales));
        Assert.Equal(16, Offset(ref q4, ref q4.Qs));
        var q5 = default(BlockQ5_K);
        Assert.Equal(16, Offset(ref q5, ref q5.Qh));
        Assert.Equal(48, Offset(ref q5, ref q5.Qs));
        var q6 = default(BlockQ6_K);
        Assert.Equal(128, Offset(ref q6, ref q6.Qh));
        Assert.Equal(192, Offset(ref q6, ref q6.Scales));
        Assert.Equal(208, Offset(ref q6, ref q6.D));
        var q8k = default(BlockQ8_K);
        Assert.Equal(4, Offset(ref q8k, ref q8k.Qs));
        Assert.Equal(260, Offset(ref q8k, ref q8k.BSums));
    }

    [Fact]
    public void GgmlTypeInfo_EveryKnownType_MatchesNativeGgmlGeometryAndName()
    {
        foreach (var type in Enum.GetValues<GgmlType>())
        {
            Assert.Equal(GgmlReference.BlockSize(type), GgmlTypeInfo.BlockSize(type));
            Assert.Equal(GgmlReference.TypeSize(type), GgmlTypeInfo.BlockBytes(type));
            Assert.Equal(GgmlReference.TypeName(type), GgmlTypeInfo.Name(type), ignoreCase: true);
        }
    }

    static int Offset<TBlock, TField>(ref TBlock block, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TBlock, byte>(ref block), ref Unsafe.As<TField, byte>(ref field));
}
