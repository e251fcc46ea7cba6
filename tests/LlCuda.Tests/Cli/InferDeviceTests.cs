using LlCuda.Tests.Support;

namespace LlCuda.Tests.Cli;

/// <summary>--device on infer / logits / bench where no GPU is: the CUDA path's errors and the auto fallback.</summary>
public class InferDeviceTests
{
    const string KnownText = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

    [NoCudaDriverFact]
    public void Infer_DeviceAutoWithoutDriver_RunsOnTheCpu()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "40", "--temp", "0", "--device", "auto");
        Assert.Equal(0, r.ExitCode);
        Assert.StartsWith(KnownText, r.Stdout, StringComparison.Ordinal);
        Assert.Contains("llcuda: CPU", r.Stderr, StringComparison.Ordinal);
    }

    [NoCudaDriverFact]
    public void Infer_DeviceCudaWithoutDriver_FailsWithOneLineThatNamesTheDriver()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "4", "--device", "cuda");
        Assert.Equal(69, r.ExitCode); // unsupported: the library is missing
        Assert.Equal("", r.Stdout);
        string line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("libcuda.so.1", line, StringComparison.Ordinal);
    }

    [NoCudaDriverFact]
    public void Bench_DeviceCudaWithoutDriver_FailsCleanly()
    {
        var r = CliRunner.InProcess("bench", "-m", TestPaths.Stories260K, "-p", "8", "-n", "4", "-r", "1", "--device", "cuda");
        Assert.Equal(69, r.ExitCode);
        Assert.Contains("libcuda.so.1", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Infer_DeviceCudaWithLlamaCppEngine_IsAUsageErrorThatSaysWhatToDo()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "4", "--device", "cuda", "--engine", "llamacpp");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--gpu-layers", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Infer_NegativeGpu_IsAUsageError()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "-n", "4", "--device", "cpu", "--gpu", "-1");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--gpu -1", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Infer_UnknownDevice_IsAUsageError()
    {
        var r = CliRunner.InProcess("infer", "-m", TestPaths.Stories260K, "-p", "", "--device", "tpu");
        Assert.Equal(2, r.ExitCode);
    }
}
