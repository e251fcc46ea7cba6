using LlCuda.Cuda;

namespace LlCuda.Tests.Cuda;

public class KernelSourcesTests
{
    // STYLE.md: every .cu file starts with a header giving inputs and outputs (shape, type,
    // layout), how threads map onto elements, shared memory use, and the bytes and FLOPs it
    // moves; the kernels share one form for it: "// Inputs:", "// Outputs:", "// Threads:",
    // "// Shared memory:", "// Bytes:" lines, FLOPs stated in the header.
    static readonly string[] RequiredSections = ["// Inputs:", "// Outputs:", "// Threads:", "// Shared memory:", "// Bytes:"];

    public static TheoryData<string> Kernels => [.. KernelSources.Names];

    [Fact]
    public void Names_IncludeTheFirstKernels()
    {
        Assert.Contains("copy.cu", KernelSources.Names);
        Assert.Contains("vector_add.cu", KernelSources.Names);
    }

    [Fact]
    public void EveryKernelFileInTheSourceTree_IsEmbedded()
    {
        string folder = Path.Combine(LlCuda.Tests.Support.TestPaths.RepoRoot, "src", "LlCuda", "Cuda", "Kernels");
        var onDisk = Directory.GetFiles(folder, "*.cu").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(onDisk, KernelSources.Names);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Header_HasEveryRequiredSection(string fileName)
    {
        string source = KernelSources.Read(fileName);
        var header = source.ReplaceLineEndings("\n").Split('\n').TakeWhile(l => l.StartsWith("//", StringComparison.Ordinal) || l.Length == 0).ToList();
        // First line: "// kernel_name: what it computes", naming a kernel the file defines.
        Assert.Matches(@"^// [a-z0-9_]+: \S", header[0]);
        string kernel = header[0][3..header[0].IndexOf(':', StringComparison.Ordinal)];
        Assert.Matches($@"__global__\s+void\s+(__launch_bounds__\([^)]*\)\s+)?{kernel}\s*\(", source);
        foreach (var section in RequiredSections)
            Assert.True(header.Any(l => l.StartsWith(section, StringComparison.Ordinal)), $"{fileName}: header lacks a '{section}' line");
        Assert.True(header.Any(l => l.Contains("FLOPs", StringComparison.Ordinal)), $"{fileName}: header does not state its FLOPs");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Kernels_AreExternC(string fileName)
    {
        // cuModuleGetFunction looks kernels up by their unmangled names.
        Assert.Contains("extern \"C\" __global__", KernelSources.Read(fileName), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_KernelIncludingCommonHeader_HasTheHeaderPastedInPlaceOfTheInclude()
    {
        string source = KernelSources.Read("matvec_q4_0.cu");
        Assert.DoesNotContain("#include \"common.cuh\"", source, StringComparison.Ordinal);
        Assert.Contains("float f16_to_f32(unsigned short h)", source, StringComparison.Ordinal);
        Assert.True(source.IndexOf("f16_to_f32(unsigned short h)", StringComparison.Ordinal) < source.IndexOf("__global__", StringComparison.Ordinal),
            "the header's helpers come before the kernel that uses them");
        Assert.DoesNotContain("common.cuh", KernelSources.Names);
    }

    [Fact]
    public void Read_UnknownFile_ListsTheEmbeddedOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelSources.Read("nope.cu"));
        Assert.Contains("vector_add.cu", e.Message, StringComparison.Ordinal);
    }
}
