using LlCuda.Cuda;

namespace LlCuda.Tests.Cuda;

public class KernelSourcesTests
{
    // STYLE.md: every .cu file starts with a header giving inputs and outputs, the thread
    // mapping, shared memory use, and the bytes and FLOPs it moves.
    static readonly string[] RequiredSections = ["Inputs and outputs", "Thread mapping", "Shared memory", "Bytes and FLOPs"];

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
        Assert.StartsWith($"// {fileName}:", header[0], StringComparison.Ordinal);
        string text = string.Join('\n', header);
        foreach (var section in RequiredSections)
            Assert.True(text.Contains($"// {section}", StringComparison.Ordinal), $"{fileName}: header lacks the '{section}' section");
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Kernels_AreExternC(string fileName)
    {
        // cuModuleGetFunction looks kernels up by their unmangled names.
        Assert.Contains("extern \"C\" __global__", KernelSources.Read(fileName), StringComparison.Ordinal);
    }

    [Fact]
    public void Read_UnknownFile_ListsTheEmbeddedOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelSources.Read("nope.cu"));
        Assert.Contains("vector_add.cu", e.Message, StringComparison.Ordinal);
    }
}
