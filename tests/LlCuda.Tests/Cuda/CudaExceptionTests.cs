using LlCuda.Cuda;

namespace LlCuda.Tests.Cuda;

public class CudaExceptionTests
{
    [Fact]
    public void FormatMessage_NamesLibraryCallKernelCodeAndAdvice()
    {
        string message = CudaException.FormatMessage("CUDA driver", "cuLaunchKernel", 700, "CUDA_ERROR_ILLEGAL_ADDRESS",
            "an illegal memory access was encountered", "'vector_add' in vector_add.cu (grid 4096x1x1, block 256x1x1, 0 B shared, 4 args)", "restart the process");
        Assert.Equal("CUDA driver: cuLaunchKernel of kernel 'vector_add' in vector_add.cu (grid 4096x1x1, block 256x1x1, 0 B shared, 4 args) failed with " +
                     "CUDA_ERROR_ILLEGAL_ADDRESS (700, an illegal memory access was encountered); restart the process", message);
    }

    [Fact]
    public void FormatMessage_WithoutCodeName_ShowsTheNumberAndText()
    {
        Assert.Equal("NVRTC: nvrtcCompileProgram(x.cu) failed with error 6 (NVRTC_ERROR_COMPILATION); fix it",
            CudaException.FormatMessage("NVRTC", "nvrtcCompileProgram(x.cu)", 6, null, "NVRTC_ERROR_COMPILATION", null, "fix it"));
        Assert.Equal("cuBLAS: cublasCreate_v2 failed with CUBLAS_STATUS_NOT_INITIALIZED (1); check the driver",
            CudaException.FormatMessage("cuBLAS", "cublasCreate_v2", 1, "CUBLAS_STATUS_NOT_INITIALIZED", null, null, "check the driver"));
    }

    [Theory]
    [InlineData(700, "compute-sanitizer")]
    [InlineData(719, "restart the process")]
    [InlineData(2, "nvidia-smi")]
    [InlineData(100, "CUDA_VISIBLE_DEVICES")]
    [InlineData(209, "delete the kernel cache")]
    [InlineData(803, "reboot")]
    [InlineData(35, "update the driver")]
    [InlineData(34, "stub")]
    [InlineData(12345, "report it")]
    public void DriverAdvice_SaysWhatToDo(int code, string expected)
    {
        Assert.Contains(expected, CudaCheck.DriverAdvice(code), StringComparison.Ordinal);
    }

    [Fact]
    public void Failed_StickyDriverErrors_AreMarkedSticky()
    {
        Assert.True(CudaException.Failed("CUDA driver", "cuStreamSynchronize", 700, "CUDA_ERROR_ILLEGAL_ADDRESS", null, null, "x").IsSticky);
        Assert.False(CudaException.Failed("CUDA driver", "cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", null, null, "x").IsSticky);
        Assert.False(CudaException.Failed("cuBLAS", "cublasGemmEx", 700, null, null, null, "x").IsSticky);
    }

    [Fact]
    public void OutOfMemoryMessage_SaysHowMuchWasAskedAndIsFree()
    {
        string message = DeviceBuffer.OutOfMemoryMessage("GPU 0 (NVIDIA H100 80GB HBM3)", 3L << 30, 1L << 30, 80L << 30, "KV cache");
        Assert.Equal("cannot allocate 3.00 GiB for KV cache on GPU 0 (NVIDIA H100 80GB HBM3): only 1.00 GiB of 80.00 GiB is free " +
                     "(free GPU memory: other processes are listed by nvidia-smi; or use a smaller model or context)", message);
    }

    [Fact]
    public void KernelArgument_KeepsValuesInTheLowBytesSignExtendingSignedIntegers()
    {
        Assert.Equal(ulong.MaxValue, KernelArgument.FromInt32(-1).Bits);
        Assert.Equal(0xFFFF_FFFFUL, KernelArgument.FromUInt32(uint.MaxValue).Bits);
        Assert.Equal(0x3F80_0000UL, KernelArgument.FromSingle(1.0f).Bits);
        Assert.Equal(1UL << 40, KernelArgument.FromUInt64(1UL << 40).Bits);
        Assert.Equal(8, System.Runtime.CompilerServices.Unsafe.SizeOf<KernelArgument>());
    }

    [Fact]
    public void Dim3_CountsAndPrints()
    {
        Dim3 grid = 4096u;
        Assert.Equal(new Dim3(4096, 1, 1), grid);
        Assert.Equal(4096UL * 3 * 2, new Dim3(4096, 3, 2).Count);
        Assert.Equal("4096x3x2", new Dim3(4096, 3, 2).ToString());
    }
}
