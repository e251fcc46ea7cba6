using System.Text.RegularExpressions;
using LlCuda.Cuda;
using LlCuda.Tensors;

namespace LlCuda.Tests.Cuda;

public class MatVecKernelsTests
{
    public static TheoryData<GgmlType> Types => [.. MatVecKernels.SupportedTypes];

    [Theory]
    [InlineData(1, new[] { 1 })]
    [InlineData(2, new[] { 2 })]
    [InlineData(3, new[] { 2, 1 })]
    [InlineData(5, new[] { 4, 1 })]
    [InlineData(7, new[] { 4, 2, 1 })]
    [InlineData(8, new[] { 8 })]
    [InlineData(13, new[] { 8, 4, 1 })]
    [InlineData(31, new[] { 8, 8, 8, 4, 2, 1 })]
    public void TokensForNextLaunch_SplitsNIntoTheWidestKernelsFirst(int n, int[] expected)
    {
        var launches = new List<int>();
        for (int done = 0; done < n; done += launches[^1]) launches.Add(MatVecKernels.TokensForNextLaunch(n - done));
        Assert.Equal(expected, launches);
    }

    [Fact]
    public void TokensForNextLaunch_Zero_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MatVecKernels.TokensForNextLaunch(0));

    [Theory]
    [MemberData(nameof(Types))]
    public void KernelFile_DefinesTheFourBatchWidthsAndTheDequantizer(GgmlType type)
    {
        // cuModuleGetFunction finds these by name on the GPU; a typo would only show there.
        string file = MatVecKernels.FileName(type);
        Assert.Contains(file, KernelSources.Names);
        string source = KernelSources.Read(file);
        string name = type.ToString().ToLowerInvariant();
        var expected = new List<string> { $"matvec_{name}_1", $"matvec_{name}_2", $"matvec_{name}_4", $"matvec_{name}_8" };
        if (type != GgmlType.F16) expected.Add($"dequant_{name}_f16");
        var defined = Regex.Matches(source, @"extern ""C"" __global__ void __launch_bounds__\(\d+\) (\w+)\(").Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);
        Assert.Equal(expected.Order(StringComparer.Ordinal), defined);
    }

    [Theory]
    [InlineData(GgmlType.Q2_K)]
    [InlineData(GgmlType.IQ4_NL)]
    public void FileName_TypeWithoutKernels_SaysWhichAreSupported(GgmlType type)
    {
        var e = Assert.Throws<NotSupportedException>(() => MatVecKernels.FileName(type));
        Assert.Contains($"no CUDA matvec kernels for {type} weights", e.Message, StringComparison.Ordinal);
        Assert.Contains("Q4_0, Q4_1, Q5_0", e.Message, StringComparison.Ordinal);
    }
}
